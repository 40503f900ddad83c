/**
 * The task pane: reads `GET /config`, picks the sign-in (auth/choose.ts), signs in, reads
 * `GET /me`, then shows My mailbox, Admin (admins only) and Exports as tabs. The theme follows
 * Office (`Office.context.officeTheme`, re-read every few seconds because Outlook has no theme
 * event) through FluentProvider.
 */
import {
  Button, FluentProvider, MessageBar, MessageBarBody, Spinner, Tab, TabList, Text, Title3, makeStyles, tokens, webDarkTheme, webLightTheme,
} from '@fluentui/react-components';
import { Suspense, lazy, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiClient } from './api/client';
import { describeError } from './api/errors';
import type { ApiConfig, Me } from './api/types';
import { chooseAuth, type ChooseAuthOptions } from './auth/choose';
import type { AuthProvider } from './auth/types';
import { SandboxSignIn } from './components/SandboxSignIn';
import { SessionContext, type Session } from './context';
import type { OfficeHost, ThemeKind } from './office/office';

// Loaded on first use: the first render (sign-in, My mailbox) does not wait for the DataGrid,
// tables and dialogs of the other views.
const MyMailboxPage = lazy(() => import(/* webpackChunkName: "mine" */ './pages/MyMailboxPage').then((m) => ({ default: m.MyMailboxPage })));
const AdminPage = lazy(() => import(/* webpackChunkName: "admin" */ './pages/AdminPage').then((m) => ({ default: m.AdminPage })));
const ProjectPage = lazy(() => import(/* webpackChunkName: "project" */ './pages/ProjectPage').then((m) => ({ default: m.ProjectPage })));
const ProjectsPage = lazy(() => import(/* webpackChunkName: "projects" */ './pages/ProjectsPage').then((m) => ({ default: m.ProjectsPage })));

const useStyles = makeStyles({
  provider: { minHeight: '100vh', backgroundColor: tokens.colorNeutralBackground1, color: tokens.colorNeutralForeground1 },
  root: { display: 'flex', flexDirection: 'column', rowGap: tokens.spacingVerticalM, padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalM}`, maxWidth: '450px', boxSizing: 'border-box' },
  header: { display: 'flex', alignItems: 'center', justifyContent: 'space-between', columnGap: tokens.spacingHorizontalS },
  account: { color: tokens.colorNeutralForeground3, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', minWidth: 0 },
});

/** How often the pane re-reads Office's theme. */
export const THEME_POLL_MS = 3000;

/** Office's theme, kept current. */
export function useOfficeTheme(office: OfficeHost, pollMs = THEME_POLL_MS): ThemeKind {
  const [theme, setTheme] = useState<ThemeKind>(() => office.theme());
  useEffect(() => {
    const t = setInterval(() => setTheme(office.theme()), pollMs);
    return () => clearInterval(t);
  }, [office, pollMs]);
  return theme;
}

export interface AppProps {
  office: OfficeHost;
  /** Worker origin; "" = the pane's own origin. */
  apiBase: string;
  /** Absolute URL of signin.html. */
  signInPageUrl: string;
  /** Injected in tests. */
  fetch?: typeof fetch;
  /** Injected in tests: replaces chooseAuth. */
  makeAuth?: (config: ApiConfig, office: OfficeHost, options: ChooseAuthOptions) => AuthProvider;
}

type View = { tab: 'mine' | 'admin' | 'exports'; projectId?: string };

/** The whole pane. */
export function App(props: AppProps): JSX.Element {
  const theme = useOfficeTheme(props.office);
  const styles = useStyles();
  return (
    <FluentProvider theme={theme === 'dark' ? webDarkTheme : webLightTheme} className={styles.provider} data-theme={theme}>
      <Pane {...props} />
    </FluentProvider>
  );
}

function Pane({ office, apiBase, signInPageUrl, fetch: fetchImpl, makeAuth = chooseAuth }: AppProps): JSX.Element {
  const styles = useStyles();
  const authRef = useRef<AuthProvider>();
  const api = useMemo(() => new ApiClient({
    baseUrl: apiBase,
    fetch: fetchImpl,
    getToken: (o) => {
      if (!authRef.current) return Promise.reject(new Error('Not signed in'));
      return authRef.current.getToken(o);
    },
  }), [apiBase, fetchImpl]);
  const [auth, setAuth] = useState<AuthProvider>();
  const [me, setMe] = useState<Me>();
  const [problem, setProblem] = useState<string>();
  const [phase, setPhase] = useState<'config' | 'signin' | 'me' | 'ready'>('config');
  const [view, setView] = useState<View>({ tab: 'mine' });

  useEffect(() => {
    api.config().then((config) => {
      const a = makeAuth(config, office, { signInPageUrl, fetch: fetchImpl });
      authRef.current = a;
      setAuth(a);
      setPhase('signin');
      // NAA signs in without UI when Outlook already has the account; otherwise the button does (a popup needs a click).
      if (a.getTokenSilently) void a.getTokenSilently().then((t) => { if (t) void signedIn(a); });
    }, (err) => setProblem(describeError(err)));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api]);

  const signedIn = useCallback(async (a: AuthProvider) => {
    setPhase('me');
    setProblem(undefined);
    try {
      if (!a.needsCredentials) await a.getToken();
      const who = await api.me();
      setMe(who);
      setView({ tab: 'mine' });
      setPhase('ready');
    } catch (err) {
      setProblem(describeError(err));
      setPhase('signin');
    }
  }, [api]);

  const signOut = (): void => {
    auth?.signOut();
    setMe(undefined);
    setPhase('signin');
  };

  const session: Session | undefined = useMemo(() => (auth && me ? { api, auth, office, me } : undefined), [api, auth, office, me]);

  return (
    <main className={styles.root} aria-busy={phase === 'config' || phase === 'me'}>
      <header className={styles.header}>
        <Title3 as="h1">Outport</Title3>
        {session && (
          <div style={{ display: 'flex', alignItems: 'center', columnGap: 8, minWidth: 0 }}>
            <Text size={200} className={styles.account}>{me?.user.displayName}</Text>
            <Button size="small" appearance="subtle" onClick={signOut}>Sign out</Button>
          </div>
        )}
      </header>
      {problem && <MessageBar intent="error" role="alert"><MessageBarBody>{problem}</MessageBarBody></MessageBar>}
      {phase === 'config' && !problem && <Spinner label="Connecting to Outport…" />}
      {phase === 'me' && <Spinner label="Signing in…" />}
      {phase === 'signin' && auth && (auth.needsCredentials
        ? <SandboxSignIn auth={auth} onSignedIn={() => void signedIn(auth)} />
        : (
          <div style={{ display: 'flex', flexDirection: 'column', rowGap: 12 }}>
            <Text>Sign in with your work account to export mailboxes to PST.</Text>
            <div><Button appearance="primary" onClick={() => void signedIn(auth)}>Sign in</Button></div>
          </div>
        ))}
      {phase === 'ready' && session && (
        <SessionContext.Provider value={session}>
          <nav aria-label="Views">
            <TabList selectedValue={view.tab} onTabSelect={(_, d) => setView({ tab: d.value as View['tab'] })} size="small">
              <Tab value="mine">My mailbox</Tab>
              {session.me.isAdmin && <Tab value="admin">Admin</Tab>}
              <Tab value="exports">Exports</Tab>
            </TabList>
          </nav>
          <section aria-label={view.projectId ? 'Export' : view.tab === 'mine' ? 'My mailbox' : view.tab === 'admin' ? 'Admin' : 'Exports'}>
            <Suspense fallback={<Spinner label="Loading…" />}>
            {view.projectId
              ? <ProjectPage key={view.projectId} projectId={view.projectId} onBack={() => setView({ tab: 'exports' })} />
              : view.tab === 'mine' ? <MyMailboxPage onStarted={(id) => setView({ tab: 'exports', projectId: id })} />
                : view.tab === 'admin' ? <AdminPage onCreated={(id) => setView({ tab: 'exports', projectId: id })} />
                  : <ProjectsPage onOpen={(id) => setView({ tab: 'exports', projectId: id })} />}
            </Suspense>
          </section>
        </SessionContext.Provider>
      )}
    </main>
  );
}
