/**
 * Destination: storage account name and key, or a container SAS URL; container (default
 * "outport"); the storage cloud's endpoint suffix (global, China, US Government, Germany, custom).
 * Messages appear under each field as the API would word the refusal (validate/destination.ts),
 * once the field was left or the form submitted; the API's own `field` errors show in the same place.
 */
import { Field, Input, Radio, RadioGroup, Select, makeStyles, tokens, Text } from '@fluentui/react-components';
import { useMemo, useState } from 'react';
import { DEFAULT_CONTAINER, ENDPOINT_SUFFIXES, blobServiceUrl, validateDestination, type Cloud, type DestinationDraft } from '../validate/destination';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', rowGap: tokens.spacingVerticalM },
  hint: { color: tokens.colorNeutralForeground3, wordBreak: 'break-all' },
  error: { color: tokens.colorPaletteRedForeground1 },
});

export const EMPTY_DESTINATION: DestinationDraft = {
  credential: 'accountKey', accountName: '', accountKey: '', sasUrl: '', container: DEFAULT_CONTAINER, storageCloud: 'global', blobEndpoint: '',
};

const CLOUD_LABELS: Record<Cloud, string> = {
  global: `Global (${ENDPOINT_SUFFIXES.global})`,
  china: `China (${ENDPOINT_SUFFIXES.china})`,
  usgov: `US Gov (${ENDPOINT_SUFFIXES.usgov})`,
  germany: `Germany (${ENDPOINT_SUFFIXES.germany})`,
  custom: 'Custom endpoint',
};

export interface DestinationFormProps {
  value: DestinationDraft;
  onChange(next: DestinationDraft): void;
  /** Show every message now (after a submit attempt), not only for fields already left. */
  showAll?: boolean;
  /** Messages from the API by field path (`destination.accountName`). */
  serverErrors?: Record<string, string>;
}

/** The destination fields. */
export function DestinationForm({ value, onChange, showAll, serverErrors = {} }: DestinationFormProps): JSX.Element {
  const styles = useStyles();
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const problems = useMemo(() => Object.fromEntries(validateDestination(value).map((p) => [p.field, p.message])), [value]);
  const msg = (field: string): string | undefined => serverErrors[`destination.${field}`] ?? ((showAll || touched[field]) ? problems[`destination.${field}`] : undefined);
  const leave = (field: string) => () => setTouched((t) => ({ ...t, [field]: true }));
  const set = <K extends keyof DestinationDraft>(k: K, v: DestinationDraft[K]): void => onChange({ ...value, [k]: v });
  const url = blobServiceUrl(value);
  // Problems of fields this form has no input for (the destination as a whole, a cloud that
  // contradicts the SAS URL): shown once the form was submitted.
  const shownFields = new Set(['accountName', 'accountKey', 'sasUrl', 'container', 'blobEndpoint'].map((f) => `destination.${f}`));
  const others = showAll ? [...validateDestination(value), ...Object.entries(serverErrors).map(([field, message]) => ({ field, message }))]
    .filter((p) => p.field.startsWith('destination') && !shownFields.has(p.field)) : [];

  return (
    <div className={styles.root} role="group" aria-label="Destination">
      <Field label="Storage credential">
        <RadioGroup value={value.credential} onChange={(_, d) => set('credential', d.value as DestinationDraft['credential'])} layout="horizontal">
          <Radio value="accountKey" label="Name and key" />
          <Radio value="sasUrl" label="SAS URL" />
        </RadioGroup>
      </Field>
      {value.credential === 'accountKey' ? (
        <>
          <Field label="Storage account name" required validationMessage={msg('accountName')} validationState={msg('accountName') ? 'error' : 'none'}>
            <Input value={value.accountName} onChange={(_, d) => set('accountName', d.value.trim())} onBlur={leave('accountName')} autoComplete="off" spellCheck={false} />
          </Field>
          <Field label="Account key" required validationMessage={msg('accountKey')} validationState={msg('accountKey') ? 'error' : 'none'}
            hint="Sent once to the Outport service; never shown again.">
            <Input type="password" value={value.accountKey} onChange={(_, d) => set('accountKey', d.value.trim())} onBlur={leave('accountKey')} autoComplete="off" />
          </Field>
        </>
      ) : (
        <Field label="Container SAS URL" required validationMessage={msg('sasUrl')} validationState={msg('sasUrl') ? 'error' : 'none'}
          hint="Needs create, write, read and list permissions on the container.">
          <Input type="password" value={value.sasUrl} onChange={(_, d) => set('sasUrl', d.value.trim())} onBlur={leave('sasUrl')} autoComplete="off" />
        </Field>
      )}
      <Field label="Container" validationMessage={msg('container')} validationState={msg('container') ? 'error' : 'none'}
        hint={value.credential === 'sasUrl' ? 'Leave empty to use the container of the SAS URL.' : `Created when missing; default "${DEFAULT_CONTAINER}".`}>
        <Input value={value.container} onChange={(_, d) => set('container', d.value.trim())} onBlur={leave('container')} spellCheck={false} />
      </Field>
      {value.credential === 'accountKey' && (
        <>
          <Field label="Storage cloud">
            <Select value={value.storageCloud} onChange={(_, d) => set('storageCloud', d.value as Cloud)} style={{ minWidth: 0, maxWidth: '100%' }}>
              {(Object.keys(CLOUD_LABELS) as Cloud[]).map((c) => <option key={c} value={c}>{CLOUD_LABELS[c]}</option>)}
            </Select>
          </Field>
          {value.storageCloud === 'custom' && (
            <Field label="Blob endpoint" required validationMessage={msg('blobEndpoint')} validationState={msg('blobEndpoint') ? 'error' : 'none'}
              hint="For example https://account.blob.example.net or http://127.0.0.1:10000/devstoreaccount1">
              <Input value={value.blobEndpoint} onChange={(_, d) => set('blobEndpoint', d.value.trim())} onBlur={leave('blobEndpoint')} spellCheck={false} />
            </Field>
          )}
        </>
      )}
      {others.length > 0 && (
        <Text role="alert" className={styles.error}>{others.map((o) => o.message).join(' ')}</Text>
      )}
      {url && <Text size={200} className={styles.hint}>PST files go to {url}</Text>}
    </div>
  );
}

/** True when the draft has no problem the API would refuse. */
export function destinationIsValid(d: DestinationDraft): boolean {
  return validateDestination(d).length === 0;
}
