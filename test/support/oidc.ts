import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import Provider, { type Configuration, interactionPolicy } from 'oidc-provider';
import { freePort } from './processes.ts';

/**
 * The person the test provider signs in next: their ID token claims (`sub` and whatever else:
 * `email`, `email_verified`, `preferred_username`, `xms_edov`, `hd` ...) and the `amr` their
 * sign-in asserts.
 */
export interface OidcAccount {
  sub: string;
  amr?: string[];
  [claim: string]: unknown;
}

export interface OidcProviderOptions {
  /**
   * Where the provider may send people back to: Haven's `<origin>/api/v1/auth/oidc/<providerId>/callback`,
   * or, ending in `*`, any address that begins so (`<origin>/api/v1/auth/oidc/*`).
   */
  redirectUris: string[];
  clientId?: string;
  clientSecret?: string;
}

/**
 * A real OpenID provider (`oidc-provider`) on a free loopback port, for Haven to sign people in
 * against. There is no login page: every authorization request signs in, at once, the account
 * last given to `setAccount` (asked afresh each time, so a second sign-in can be someone else),
 * and consent is implied, so a browser, or `completeAtProvider`, just follows redirects.
 *
 * ```ts
 * const idp = await TestOidcProvider.start({ redirectUris: ['http://haven.test/api/v1/auth/oidc/*'] });
 * idp.setAccount({ sub: 'p-1', email: 'ann@school.test', email_verified: true, amr: ['pwd', 'mfa'] });
 * // PUT /organisation/sso with { kind: 'oidc', issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret }
 * await idp.stop();
 * ```
 */
export class TestOidcProvider {
  readonly clientId: string;
  readonly clientSecret: string;
  #account: OidcAccount | undefined;
  readonly #claims = new Map<string, Record<string, unknown>>();
  /** How many authorization requests reached the provider's sign-in (tests count round trips). */
  signIns = 0;

  private constructor(
    readonly issuer: string,
    private readonly server: Server,
    readonly provider: Provider,
    options: Required<OidcProviderOptions>,
  ) {
    this.clientId = options.clientId;
    this.clientSecret = options.clientSecret;
  }

  static async start(options: OidcProviderOptions): Promise<TestOidcProvider> {
    const settings: Required<OidcProviderOptions> = {
      clientId: 'haven-test',
      clientSecret: 'test-client-secret-0123456789abcdef',
      ...options,
    };
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    let self: TestOidcProvider | undefined;

    // Every authorization asks for a sign-in, even with a provider session from the last one.
    const policy = interactionPolicy.base();
    policy
      .get('login')!
      .checks.add(
        new interactionPolicy.Check(
          'test_sign_in',
          'the test provider signs in the chosen account every time',
          (ctx) =>
            ctx.oidc.result?.login
              ? interactionPolicy.Check.NO_NEED_TO_PROMPT
              : interactionPolicy.Check.REQUEST_PROMPT,
        ),
      );

    // Its own signing key (RS256, as Microsoft and Google sign with), made for this run.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const signingKey = {
      ...privateKey.export({ format: 'jwk' }),
      kid: 'test-key',
      use: 'sig',
      alg: 'RS256',
    };

    const configuration: Configuration = {
      jwks: { keys: [signingKey] as NonNullable<Configuration['jwks']>['keys'] },
      clients: [
        {
          client_id: settings.clientId,
          client_secret: settings.clientSecret,
          redirect_uris: settings.redirectUris,
          response_types: ['code'],
          grant_types: ['authorization_code'],
        },
      ],
      // As Microsoft and Google do: the claims go in the ID token, not only at userinfo.
      conformIdTokenClaims: false,
      claims: {
        acr: null,
        amr: null,
        auth_time: null,
        sid: null,
        iss: null,
        openid: ['sub', 'amr', 'auth_time'],
        email: ['email', 'email_verified'],
        profile: ['name', 'preferred_username', 'hd', 'xms_edov', 'tid'],
      },
      features: { devInteractions: { enabled: false } },
      interactions: { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      pkce: { required: () => true },
      cookies: { keys: ['test-provider-cookie-key'] },
      findAccount: (_ctx, sub) => {
        const claims = self ? self.#claims.get(sub) : undefined;
        if (!claims) return undefined;
        return { accountId: sub, claims: () => ({ ...claims, sub }) };
      },
      // Consent is implied: the grant holds whatever the client asked for.
      loadExistingGrant: async (ctx) => {
        const session = ctx.oidc.session;
        const client = ctx.oidc.client;
        if (!session?.accountId || !client) return undefined;
        const existing = session.grantIdFor(client.clientId);
        if (existing) {
          const found = await ctx.oidc.provider.Grant.find(existing);
          if (found && found.accountId === session.accountId) return found;
        }
        const grant = new ctx.oidc.provider.Grant({
          accountId: session.accountId,
          clientId: client.clientId,
        });
        grant.addOIDCScope('openid email profile');
        grant.addOIDCClaims([
          'email',
          'email_verified',
          'name',
          'preferred_username',
          'hd',
          'xms_edov',
          'tid',
        ]);
        await grant.save();
        return grant;
      },
      ttl: {
        Session: 600,
        Interaction: 600,
        Grant: 600,
        AuthorizationCode: 60,
        IdToken: 600,
        AccessToken: 600,
      },
    };
    const provider = new Provider(issuer, configuration);
    // Haven gives each provider its own callback (`…/oidc/<providerId>/callback`), known only once
    // the provider is saved: a registered redirect URI ending in `*` allows any URI it begins.
    const client = provider.Client.prototype as unknown as {
      redirectUris: string[];
      redirectUriAllowed(this: unknown, value: string): boolean;
    };
    const exactly = client.redirectUriAllowed;
    client.redirectUriAllowed = function (this: { redirectUris: string[] }, value: string) {
      return (
        exactly.call(this, value) ||
        this.redirectUris.some((u) => u.endsWith('*') && value.startsWith(u.slice(0, -1)))
      );
    };
    const callback = provider.callback();

    const server = createServer((req, res) => {
      if (req.url?.startsWith('/interaction/')) {
        self!.#interact(req, res).catch((error: unknown) => {
          res.statusCode = 500;
          res.end(String(error));
        });
        return;
      }
      callback(req, res);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    self = new TestOidcProvider(issuer, server, provider, settings);
    return self;
  }

  /** Who the next sign-in is, with the claims the provider answers for them. */
  setAccount(account: OidcAccount): void {
    const { amr: _amr, ...claims } = account;
    this.#account = account;
    this.#claims.set(account.sub, claims);
  }

  async #interact(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await this.provider.interactionDetails(req, res);
    const account = this.#account;
    if (!account) {
      await this.provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'the test chose no account',
      });
      return;
    }
    if (details.prompt.name !== 'login') {
      throw new Error(`the test provider does not handle the ${details.prompt.name} prompt`);
    }
    this.signIns += 1;
    await this.provider.interactionFinished(
      req,
      res,
      { login: { accountId: account.sub, ...(account.amr ? { amr: account.amr } : {}) } },
      { mergeWithLastSubmission: false },
    );
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Follows an authorization URL through the provider (its cookies kept in a jar of its own, as a
 * fresh browser would), until the provider sends the browser elsewhere: answers that address,
 * Haven's callback with `code` and `state`.
 */
export async function completeAtProvider(authorizationUrl: string): Promise<URL> {
  const start = new URL(authorizationUrl);
  const jar = new Map<string, string>();
  let url = start;
  for (let hop = 0; hop < 10; hop++) {
    const response = await fetch(url, {
      redirect: 'manual',
      headers: jar.size
        ? { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') }
        : {},
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const expired = attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired) jar.delete(name);
      else jar.set(name, pair.slice(at + 1).trim());
    }
    const location = response.headers.get('location');
    if (!location) {
      throw new Error(
        `the provider stopped at ${url} (${response.status}): ${(await response.text()).slice(0, 500)}`,
      );
    }
    const next = new URL(location, url);
    if (next.origin !== start.origin) return next;
    url = next;
  }
  throw new Error('the provider redirected too many times');
}
