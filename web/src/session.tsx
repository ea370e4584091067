import { useQueryClient } from '@tanstack/react-query';
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
} from 'react';
import type { Answer } from './api/answers.ts';
import { ApiError, api, onEnrolmentRequired, onUnauthorised, setCsrfToken } from './api/client.ts';
import type { Me } from './api/types.ts';
import { clearConcernDrafts } from './drafts.ts';

/**
 * Where the browser stands with Haven: still asking, first-run setup open, signed out, signed in
 * as someone holding only Member (no pages to show), or signed in.
 */
export type SessionState =
  | { status: 'loading' }
  | { status: 'unreachable'; message: string }
  | { status: 'setup' }
  | { status: 'signed_out'; reason?: 'expired' | 'signed_out' }
  | { status: 'member_only'; email: string }
  | { status: 'signed_in'; me: Me };

/** A session begun (`POST /auth/login`, and an accepted invitation, which answers the same). */
export type LoginResult = Answer<'/api/v1/auth/login', 'post'>;

interface SessionApi {
  state: SessionState;
  /**
   * Resolves when signed in; rejects with the API's error (e.g. `totp_required`, or
   * `choose_organisation` when the password opens accounts in several: `organisationsToChoose`).
   */
  signIn(email: string, password: string, totp?: string, organisationId?: string): Promise<void>;
  signOut(): Promise<void>;
  /** Reload the caller (after a step-up, enrolment or role change). */
  refresh(): Promise<void>;
  /** Setup finished: sign in as the new Owner. */
  setupDone(): void;
  /**
   * Another way in answered with a session, as sign-in does (an accepted invitation): the page
   * carries on signed in as that user.
   */
  signedIn(result: LoginResult): void;
}

const SessionContext = createContext<SessionApi | null>(null);

/** An organisation a sign-in may continue into. */
export interface OrganisationChoice {
  id: string;
  name: string;
}

/** The organisations a `choose_organisation` answer offers (none for any other error). */
export function organisationsToChoose(error: unknown): OrganisationChoice[] {
  if (!(error instanceof ApiError) || error.code !== 'choose_organisation') return [];
  const offered = error.problem.organisations;
  return Array.isArray(offered)
    ? offered.filter(
        (o): o is OrganisationChoice => typeof o?.id === 'string' && typeof o?.name === 'string',
      )
    : [];
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const queryClient = useQueryClient();

  const load = useCallback(async () => {
    try {
      const me = await api.get<Me>('/me');
      setCsrfToken(me.csrfToken ?? null);
      setState({ status: 'signed_in', me });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        try {
          const { needed } = await api.get<Answer<'/api/v1/setup', 'get'>>('/setup');
          setState(needed ? { status: 'setup' } : { status: 'signed_out' });
        } catch (setupError) {
          setState({ status: 'unreachable', message: (setupError as Error).message });
        }
      } else if (error instanceof ApiError && error.code === 'no_role') {
        setState({ status: 'member_only', email: '' });
      } else {
        setState({ status: 'unreachable', message: (error as Error).message });
      }
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  // Asked to enrol two-factor sign-in mid-session: reload the caller, whose `/me` now says so.
  useEffect(() => onEnrolmentRequired(() => void load()), [load]);

  useEffect(
    () =>
      onUnauthorised(() => {
        setCsrfToken(null);
        queryClient.clear();
        setState({ status: 'signed_out', reason: 'expired' });
      }),
    [queryClient],
  );

  const value = useMemo<SessionApi>(
    () => ({
      state,
      async signIn(email, password, totp, organisationId) {
        try {
          const result = await api.post<LoginResult>('/auth/login', {
            email,
            password,
            ...(totp ? { totp } : {}),
            ...(organisationId ? { organisationId } : {}),
          });
          setCsrfToken(result.csrfToken);
          queryClient.clear();
          setState({ status: 'signed_in', me: result.user });
        } catch (error) {
          if (error instanceof ApiError && error.code === 'no_role') {
            setState({ status: 'member_only', email });
            return;
          }
          throw error;
        }
      },
      async signOut() {
        try {
          await api.post('/auth/logout');
        } catch {
          // Already signed out on the server: nothing more to end.
        }
        setCsrfToken(null);
        clearConcernDrafts();
        queryClient.clear();
        setState({ status: 'signed_out', reason: 'signed_out' });
      },
      refresh: load,
      setupDone() {
        setState({ status: 'signed_out' });
      },
      signedIn(result) {
        setCsrfToken(result.csrfToken);
        clearConcernDrafts();
        queryClient.clear();
        setState({ status: 'signed_in', me: result.user });
      },
    }),
    [state, load, queryClient],
  );

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** The signed-in caller; only for pages rendered inside the signed-in app. */
export function useMe(): Me {
  const { state } = useSession();
  if (state.status !== 'signed_in') throw new Error('useMe needs a signed-in session');
  return state.me;
}

/**
 * Whether the caller holds a permission somewhere (from `/me`'s abilities). It only decides
 * which controls to show; the server decides every request on its own scope.
 */
export function useCan(): (permission: string) => boolean {
  const me = useMe();
  return useCallback((permission: string) => me.abilities.includes(permission), [me]);
}
