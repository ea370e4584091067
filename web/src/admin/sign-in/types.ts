/** The shapes of `GET/PUT /organisation/sso` and `/organisation/scim-tokens`. */
import type { SsoKind } from '../../accounts/sso.tsx';

export interface SsoProvider {
  id: string;
  kind: SsoKind;
  /** The button's name for any other OpenID Connect provider ("Sign in with <label>"). */
  label: string | null;
  /** Microsoft: the directory (tenant) id the issuer is built from. */
  tenantId: string | null;
  issuer: string;
  clientId: string;
  /** The secret itself is never returned. */
  clientSecretSet: true;
  allowedDomains: string[];
  /** Where its sign-in button points. */
  startUrl: string;
  /** Where it sends people back: the address to register with it (each provider has its own). */
  redirectUri: string;
  createdAt: string;
  updatedAt: string;
}

export interface SsoSettings {
  passwordSignIn: boolean;
  createAccounts: boolean;
  acceptProviderMfa: boolean;
}

export interface SsoConfiguration extends SsoSettings {
  providers: SsoProvider[];
}

/** One provider as `PUT` takes it: a blank secret keeps the one stored. */
export interface SsoProviderInput {
  id?: string;
  kind: SsoKind;
  label?: string | null;
  /** Microsoft: the directory id, from which Haven builds the issuer (else send `issuer`). */
  tenantId?: string;
  issuer?: string;
  clientId: string;
  clientSecret?: string;
  allowedDomains: string[];
}

export interface ScimToken {
  id: string;
  name: string;
  createdAt: string;
  createdBy: { id: string; name: string } | null;
  lastUsedAt: string | null;
  /** A revoked token is kept in the list, and refused. */
  revokedAt: string | null;
}
