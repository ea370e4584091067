import * as client from 'openid-client';
import { insecureIssuer } from './presets.ts';

/** What openid-client needs of a provider to talk to it. */
export interface ProviderClient {
  id: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Changes whenever the provider's settings do, so a cached discovery is not reused. */
  version: string;
}

const DISCOVERY_TTL_MS = 10 * 60_000;
/** Seconds Haven waits on a provider (discovery, keys, the token endpoint). */
const PROVIDER_TIMEOUT_SECONDS = 10;

/**
 * openid-client configurations per provider, from the issuer's discovery document, kept ten
 * minutes (a provider's keys and endpoints seldom change; its JWKS is cached inside). Plain http
 * is allowed only for a loopback issuer with `HAVEN_OIDC_ALLOW_HTTP=true`.
 */
export class OidcClients {
  readonly #cache = new Map<
    string,
    { key: string; at: number; config: Promise<client.Configuration> }
  >();

  constructor(private readonly allowHttpLoopback: boolean) {}

  configuration(provider: ProviderClient): Promise<client.Configuration> {
    const key = `${provider.issuer}\n${provider.clientId}\n${provider.version}`;
    const cached = this.#cache.get(provider.id);
    if (cached && cached.key === key && Date.now() - cached.at < DISCOVERY_TTL_MS)
      return cached.config;
    const config = this.#discover(provider);
    this.#cache.set(provider.id, { key, at: Date.now(), config });
    // A failed discovery is not remembered: the next sign-in asks again.
    config.catch(() => {
      if (this.#cache.get(provider.id)?.config === config) this.#cache.delete(provider.id);
    });
    return config;
  }

  async #discover(provider: ProviderClient): Promise<client.Configuration> {
    const insecure = insecureIssuer(provider.issuer, this.allowHttpLoopback);
    const execute = insecure ? [client.allowInsecureRequests] : [];
    const discovered = await client.discovery(
      new URL(provider.issuer),
      provider.clientId,
      provider.clientSecret,
      client.ClientSecretBasic(provider.clientSecret),
      { execute, timeout: PROVIDER_TIMEOUT_SECONDS },
    );
    // client_secret_basic is the default (RFC 8414); a provider that lists only _post gets that.
    const methods = discovered.serverMetadata().token_endpoint_auth_methods_supported;
    if (
      !methods ||
      methods.includes('client_secret_basic') ||
      !methods.includes('client_secret_post')
    )
      return discovered;
    const config = new client.Configuration(
      discovered.serverMetadata(),
      provider.clientId,
      provider.clientSecret,
      client.ClientSecretPost(provider.clientSecret),
    );
    config.timeout = PROVIDER_TIMEOUT_SECONDS;
    if (insecure) client.allowInsecureRequests(config);
    return config;
  }
}

export interface AuthorizationRequest {
  url: URL;
  codeVerifier: string;
  state: string;
  nonce: string;
}

/** The provider's authorization URL for a code flow with PKCE (S256), state and nonce. */
export async function authorizationRequest(
  config: client.Configuration,
  redirectUri: string,
  hints: Record<string, string>,
): Promise<AuthorizationRequest> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...hints,
  });
  return { url, codeVerifier, state, nonce };
}

/**
 * Takes the provider's answer (`callbackUrl`: the redirect URI with the query it came back with)
 * and exchanges the code: openid-client checks the state, the issuer (RFC 9207 `iss` too), and
 * the ID token's signature, issuer, audience, expiry and nonce. Answers the ID token's claims.
 */
export async function exchangeCode(
  config: client.Configuration,
  callbackUrl: URL,
  expected: { codeVerifier: string; state: string; nonce: string },
): Promise<Record<string, unknown>> {
  const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
    pkceCodeVerifier: expected.codeVerifier,
    expectedState: expected.state,
    expectedNonce: expected.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  if (!claims) throw new Error('The provider answered no ID token');
  return { ...claims };
}

/** The provider refused or the person turned back (`error=access_denied` in its answer). */
export function cancelledAtProvider(error: unknown): boolean {
  return error instanceof client.AuthorizationResponseError && error.error === 'access_denied';
}
