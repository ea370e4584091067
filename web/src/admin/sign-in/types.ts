/** The shapes of `GET/PUT /organisation/sso` and `/organisation/scim-tokens`, from the generated types. */
import type { Answer, Body, Item } from '../../api/answers.ts';

/** The organisation's single sign-on: its providers and the sign-in settings beside them. */
export type SsoConfiguration = Answer<'/api/v1/organisation/sso', 'get'>;

/**
 * A provider as the server keeps it: the secret itself is never returned (`clientSecretSet`);
 * `startUrl` is where its sign-in button points and `redirectUri` where it sends people back (the
 * address to register with it).
 */
export type SsoProvider = SsoConfiguration['providers'][number];

export type SsoSettings = Omit<SsoConfiguration, 'providers'>;

/**
 * One provider as `PUT` takes it: a blank secret keeps the one stored; Microsoft's `tenantId` is
 * the directory Haven builds the issuer from (else send `issuer`).
 */
export type SsoProviderInput = SsoConfigurationInput['providers'][number];

/** `PUT /organisation/sso`: the settings and every provider, as the Owner leaves them. */
export type SsoConfigurationInput = Body<'/api/v1/organisation/sso', 'put'>;

/** A SCIM token: a revoked one is kept in the list, and refused. */
export type ScimToken = Item<'/api/v1/organisation/scim-tokens'>;

/** A new SCIM token: the secret is shown once. */
export type NewScimToken = Answer<'/api/v1/organisation/scim-tokens', 'post'>;
