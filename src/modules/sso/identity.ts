import type { SsoProviderKind } from '../../db/tables.ts';

/**
 * What Haven reads from a provider's ID token, as pure functions of its claims (the token itself
 * is checked by openid-client: signature, issuer, audience, expiry, nonce).
 */
export type IdTokenClaims = Record<string, unknown>;

export type VerifiedEmail =
  | { ok: true; email: string; domain: string }
  | { ok: false; reason: 'sso_unverified_email' | 'sso_domain' };

function domainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1);
}

function address(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const email = value.trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+$/.test(email) ? email : null;
}

/**
 * The email address the provider vouches for, if any, and whether it is in `allowedDomains`
 * (docs/decisions.md, "Single sign-on"):
 *  - any issuer: `email` with `email_verified: true`;
 *  - Google: that, and the `hd` claim (the Workspace domain the account belongs to) naming the
 *    email's domain: a personal Google account may carry a verified address at a school's domain
 *    without the school having any say in it;
 *  - Microsoft Entra ID, which sends no `email_verified`: `email` when the optional claim
 *    `xms_edov` (email domain owner verified) is true, otherwise `preferred_username`, the user
 *    principal name, whose domain Entra only lets be one the tenant has verified. The issuer is
 *    the one tenant's, so no other tenant's users reach this point.
 */
export function verifiedEmail(
  kind: SsoProviderKind,
  claims: IdTokenClaims,
  allowedDomains: readonly string[],
): VerifiedEmail {
  const email = vouchedFor(kind, claims);
  if (!email) return { ok: false, reason: 'sso_unverified_email' };
  const domain = domainOf(email);
  if (!allowedDomains.includes(domain)) return { ok: false, reason: 'sso_domain' };
  return { ok: true, email, domain };
}

function vouchedFor(kind: SsoProviderKind, claims: IdTokenClaims): string | null {
  const email = address(claims.email);
  const verified = claims.email_verified === true;
  switch (kind) {
    case 'oidc':
      return verified ? email : null;
    case 'google': {
      const hostedDomain = typeof claims.hd === 'string' ? claims.hd.toLowerCase() : null;
      return verified && email && hostedDomain === domainOf(email) ? email : null;
    }
    case 'microsoft': {
      if (email && (claims.xms_edov === true || verified)) return email;
      return address(claims.preferred_username);
    }
  }
}

/**
 * RFC 8176 authentication method references by the kind of factor they are. A sign-in is
 * multi-factor when the provider says so (`mfa`) or names methods of two different kinds;
 * `user` (presence) and methods of unknown kind count for nothing.
 */
const FACTOR_OF: Readonly<Record<string, 'knowledge' | 'possession' | 'inherence'>> = {
  pwd: 'knowledge',
  pin: 'knowledge',
  kba: 'knowledge',
  hwk: 'possession',
  swk: 'possession',
  otp: 'possession',
  sc: 'possession',
  sms: 'possession',
  tel: 'possession',
  fpt: 'inherence',
  face: 'inherence',
  iris: 'inherence',
  retina: 'inherence',
  vbm: 'inherence',
};

/** Whether the ID token's `amr` asserts multi-factor authentication (RFC 8176). */
export function assertsMultiFactor(claims: IdTokenClaims): boolean {
  const amr = claims.amr;
  if (!Array.isArray(amr)) return false;
  const methods = amr.filter((m): m is string => typeof m === 'string');
  if (methods.includes('mfa')) return true;
  const kinds = new Set(methods.map((m) => FACTOR_OF[m]).filter(Boolean));
  return kinds.size >= 2;
}

/**
 * When the person passed the provider's check: its `auth_time` when given and not in the future
 * (a provider session may be hours old), else now.
 */
export function authenticatedAt(claims: IdTokenClaims, now: string): string {
  const authTime = claims.auth_time;
  if (typeof authTime !== 'number' || !Number.isFinite(authTime)) return now;
  const at = authTime * 1000;
  return at <= Date.parse(now) ? new Date(at).toISOString() : now;
}
