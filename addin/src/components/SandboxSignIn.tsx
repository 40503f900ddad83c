/**
 * The sandbox sign-in form: a test user's address and password (docs/sandbox.md: passwords are in
 * the tenant config, `<GivenName>-sandbox-1`). Shown only when `GET /config` says `sandbox: true`.
 */
import { Button, Field, Input, MessageBar, MessageBarBody, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { AuthError, type AuthProvider } from '../auth/types';

const useStyles = makeStyles({ root: { display: 'flex', flexDirection: 'column', rowGap: tokens.spacingVerticalM } });

export function SandboxSignIn({ auth, onSignedIn }: { auth: AuthProvider; onSignedIn(): void }): JSX.Element {
  const styles = useStyles();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    try {
      await auth.signIn({ username: username.trim(), password });
      onSignedIn();
    } catch (err) {
      setProblem(err instanceof AuthError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className={styles.root} onSubmit={(e) => void submit(e)} aria-label="Sandbox sign-in">
      <Text>This Outport service uses the <b>sandbox tenant</b>. Sign in as one of its test users.</Text>
      <Field label="Email address" required>
        <Input type="email" value={username} onChange={(_, d) => setUsername(d.value)} autoComplete="username" />
      </Field>
      <Field label="Password" required>
        <Input type="password" value={password} onChange={(_, d) => setPassword(d.value)} autoComplete="current-password" />
      </Field>
      {problem && <MessageBar intent="error" role="alert"><MessageBarBody>{problem}</MessageBarBody></MessageBar>}
      <div><Button appearance="primary" type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</Button></div>
    </form>
  );
}
