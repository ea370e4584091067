import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { Answer } from '../api/answers.ts';
import { api } from '../api/client.ts';

/**
 * The sign-in buttons `GET /auth/sso-providers` offers (no session needed), and whether password
 * sign-in stays (false when every organisation asked about has turned it off). A button's `label`
 * is its provider's name ("Microsoft", "Google" or the Owner's label); `startUrl` is Haven's start
 * of the sign-in, which redirects to the provider.
 */
export type SsoChoices = Answer<'/api/v1/auth/sso-providers', 'get'>;

export type SsoChoice = SsoChoices['items'][number];

export type SsoKind = SsoChoice['kind'];

/** "Sign in with Microsoft", and the organisation's name where the buttons are of several. */
export function ssoButtonLabel(choice: SsoChoice, severalOrganisations: boolean): string {
  const name =
    choice.kind === 'microsoft' ? 'Microsoft' : choice.kind === 'google' ? 'Google' : choice.label;
  return `Sign in with ${name}${severalOrganisations ? ` (${choice.organisationName})` : ''}`;
}

function askProviders(domain: string, signal: AbortSignal) {
  return api.get<SsoChoices>(
    '/auth/sso-providers',
    // Only the domain is asked about: the address itself stays in the browser.
    { email: domain ? `@${domain}` : undefined },
    signal,
  );
}

/**
 * The buttons for this installation when it holds one organisation; otherwise, once an email is
 * typed, those of the organisations whose providers allow its domain.
 */
export function useSsoChoices(email: string): SsoChoices | undefined {
  const match = /^[^@\s]+@((?:[a-z0-9-]+\.)+[a-z0-9-]{2,})$/i.exec(email);
  const domain = match?.[1]?.toLowerCase() ?? '';
  const options = { staleTime: 60_000, retry: false } as const;
  const installation = useQuery({
    ...options,
    queryKey: ['sso-choices', ''],
    queryFn: ({ signal }) => askProviders('', signal),
  });
  const byDomain = useQuery({
    ...options,
    queryKey: ['sso-choices', domain],
    queryFn: ({ signal }) => askProviders(domain, signal),
    enabled: domain !== '' && installation.data?.items.length === 0,
    placeholderData: keepPreviousData,
  });
  if (installation.data?.items.length === 0 && domain) return byDomain.data ?? installation.data;
  return installation.data;
}

/**
 * Why a sign-in through the identity provider came back refused (`/sign-in?sso_error=<code>`), in
 * words the person can act on.
 */
const ssoErrors: Record<string, string> = {
  sso_unknown_provider:
    'That sign-in button is out of date: the provider has been removed or changed. Reload the page and try again.',
  sso_unavailable:
    'The sign-in provider could not be reached. Try again in a few minutes, or sign in with your password.',
  sso_state:
    'That sign-in could not be finished: it was started in another browser or tab, or the page was used twice. Start again with the button below.',
  sso_expired: 'The sign-in took too long to finish. Start again with the button below.',
  sso_cancelled: 'The sign-in was cancelled at the provider. Start again when you are ready.',
  sso_failed:
    "The provider's answer could not be checked, so you have not been signed in. Try again, and if it keeps happening tell your school's Haven administrator.",
  sso_unverified_email:
    "Your provider did not confirm your email address, so Haven cannot tell which account is yours. Ask your school's IT team or Haven administrator.",
  sso_domain:
    "You signed in with an account from a domain this organisation does not accept. Sign out of the provider and use your school account, or ask your school's Haven administrator.",
  sso_no_account:
    "There is no Haven account for that email address. Ask your school's Haven administrator to add you.",
  sso_disabled:
    "Your Haven account has been disabled. Ask your school's Haven administrator if you need access again.",
  sso_no_role:
    "You signed in, but your account holds no role that opens Haven yet. Ask your school's Haven administrator or Designated Safeguarding Lead to give you one (usually Viewer).",
  sso_rate_limited:
    'Too many sign-in attempts have come from this network. Wait a minute, then try again.',
};

export function ssoErrorMessage(code: string): string {
  return (
    ssoErrors[code] ??
    "Signing in with your organisation account did not work. Try again, or ask your school's Haven administrator."
  );
}

/** The provider's mark on its button (simple shapes, not the vendors' logos). */
export function SsoMark({ kind }: { kind: SsoKind }) {
  if (kind === 'microsoft')
    return (
      <svg className="sso-mark" viewBox="0 0 20 20" aria-hidden="true">
        <rect x="1" y="1" width="8.5" height="8.5" fill="#f25022" />
        <rect x="10.5" y="1" width="8.5" height="8.5" fill="#7fba00" />
        <rect x="1" y="10.5" width="8.5" height="8.5" fill="#00a4ef" />
        <rect x="10.5" y="10.5" width="8.5" height="8.5" fill="#ffb900" />
      </svg>
    );
  if (kind === 'google')
    return (
      <svg className="sso-mark" viewBox="0 0 20 20" aria-hidden="true">
        <circle cx="10" cy="10" r="8" fill="none" stroke="#4285f4" strokeWidth="3" />
        <rect x="10" y="8.5" width="8" height="3" fill="#4285f4" />
      </svg>
    );
  return (
    <svg className="sso-mark" viewBox="0 0 20 20" aria-hidden="true">
      <circle cx="7" cy="10" r="4" fill="none" stroke="currentColor" strokeWidth="2" />
      <path d="M11 10h8M16 10v3M19 10v3" stroke="currentColor" strokeWidth="2" fill="none" />
    </svg>
  );
}
