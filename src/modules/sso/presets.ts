import { isIP } from 'node:net';
import type { SsoProviderKind } from '../../db/tables.ts';

export const SSO_PROVIDER_KINDS = [
  'microsoft',
  'google',
  'oidc',
] as const satisfies readonly SsoProviderKind[];

export const GOOGLE_ISSUER = 'https://accounts.google.com';

/** Microsoft Entra ID's v2.0 issuer for one directory (tenant): only its own users sign in. */
export function microsoftIssuer(tenantId: string): string {
  return `https://login.microsoftonline.com/${tenantId}/v2.0`;
}

/** What the sign-in button says when the Owner gave no label. */
export function defaultLabel(kind: SsoProviderKind): string {
  switch (kind) {
    case 'microsoft':
      return 'Microsoft';
    case 'google':
      return 'Google';
    case 'oidc':
      return 'Single sign-on';
  }
}

/**
 * Extra parameters of the authorization request. Google's `hd` narrows the account chooser to the
 * school's Workspace domain (`*`: any Workspace account, when several are allowed); it is a hint
 * only, and the `hd` claim is what is checked (`identity.ts`).
 */
export function authorizationHints(
  kind: SsoProviderKind,
  allowedDomains: readonly string[],
): Record<string, string> {
  if (kind === 'google') return { hd: allowedDomains.length === 1 ? allowedDomains[0]! : '*' };
  return {};
}

/** A loopback host: `localhost`, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * Why an issuer cannot be used, or null: it must be an https URL without query or fragment;
 * plain http only for a loopback host, and only when `HAVEN_OIDC_ALLOW_HTTP=true`.
 */
export function issuerProblem(issuer: string, allowHttpLoopback: boolean): string | null {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return 'must be a URL';
  }
  if (url.search || url.hash || url.username || url.password)
    return 'must have no query, fragment or credentials';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && allowHttpLoopback && isLoopbackHost(url.hostname)) return null;
  return allowHttpLoopback
    ? 'must be an https URL (http only for a loopback address)'
    : 'must be an https URL';
}

/** Whether requests to this issuer go over plain http (a loopback issuer the settings allow). */
export function insecureIssuer(issuer: string, allowHttpLoopback: boolean): boolean {
  const url = new URL(issuer);
  return url.protocol === 'http:' && allowHttpLoopback && isLoopbackHost(url.hostname);
}

/** A DNS domain in lower case with at least two labels (`school.org.uk`). */
export const DOMAIN =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
