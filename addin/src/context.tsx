/**
 * What every view needs, handed down through React context (STYLE.md "The add-in": components
 * receive the Office adapter through props or context so tests can pass fakes).
 */
import { createContext, useContext } from 'react';
import type { ApiClient } from './api/client';
import type { Me } from './api/types';
import type { AuthProvider } from './auth/types';
import type { OfficeHost } from './office/office';

export interface Session {
  api: ApiClient;
  auth: AuthProvider;
  office: OfficeHost;
  me: Me;
}

export const SessionContext = createContext<Session | undefined>(undefined);

/** The signed-in session; only inside <SessionContext.Provider>. */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionContext.Provider');
  return s;
}
