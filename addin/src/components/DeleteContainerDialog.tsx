/**
 * Delete container, with confirmation: the user types the container's name (the API refuses a
 * different `confirm`, and refuses with 409 ContainerNotOurs a container Outport did not create).
 */
import {
  Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, DialogTrigger, Field, Input, Text,
} from '@fluentui/react-components';
import { useState } from 'react';
import type { ApiClient } from '../api/client';
import { describeError } from '../api/errors';

export interface DeleteContainerDialogProps {
  api: Pick<ApiClient, 'deleteContainer'>;
  projectId: string;
  container: string;
  onDeleted?(): void;
}

/** A button that opens the confirmation dialog. */
export function DeleteContainerDialog({ api, projectId, container, onDeleted }: DeleteContainerDialogProps): JSX.Element {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (): Promise<void> => {
    setBusy(true);
    try {
      await api.deleteContainer(projectId, typed);
      setOpen(false);
      onDeleted?.();
    } catch (err) {
      setProblem(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} onOpenChange={(_, d) => { setOpen(d.open); setTyped(''); setProblem(undefined); }}>
      <DialogTrigger disableButtonEnhancement>
        <Button appearance="secondary">Delete container…</Button>
      </DialogTrigger>
      <DialogSurface aria-describedby="delete-container-text">
        <DialogBody>
          <DialogTitle>Delete container "{container}"?</DialogTitle>
          <DialogContent>
            <Text id="delete-container-text" block>
              Every PST file and manifest in the container is deleted from your storage account. This cannot be undone.
            </Text>
            <Field label={`Type ${container} to confirm`} validationMessage={problem} validationState={problem ? 'error' : 'none'} style={{ marginTop: 12 }}>
              <Input value={typed} onChange={(_, d) => setTyped(d.value)} autoComplete="off" />
            </Field>
          </DialogContent>
          <DialogActions>
            <DialogTrigger disableButtonEnhancement>
              <Button appearance="secondary">Keep it</Button>
            </DialogTrigger>
            <Button appearance="primary" disabled={typed !== container || busy} onClick={() => void submit()}>Delete</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
