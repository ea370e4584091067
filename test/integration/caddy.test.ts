import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenHash } from '../../src/modules/auth/sessions.ts';
import { setupOrganisation } from '../support/factories.ts';
import { STRONG_PASSWORD, startHaven, type TestHaven } from '../support/haven.ts';
import { freePort, HavenProcess } from '../support/processes.ts';

// Issue 17, item 6: the production path of the README, exercised. Debian's Caddy runs on the
// repository's own deploy/Caddyfile (its {$...} placeholders set to free ports and Caddy's
// internal certificate authority) in front of a real `haven serve`, and a client that trusts
// only Caddy's root certificate signs in through it.
//
// The client connects from 127.0.0.2 and Caddy reaches Haven from 127.0.0.1, so the address
// Haven records tells the two apart: 127.0.0.2 can only have come from Caddy's X-Forwarded-For.

const CADDY = process.env.HAVEN_CADDY ?? '/usr/bin/caddy';
const CADDYFILE = path.resolve(import.meta.dirname, '../../deploy/Caddyfile');
const caddyAvailable = existsSync(CADDY);
if (!caddyAvailable) {
  const message = `The Caddy test needs Debian's caddy at ${CADDY} (apt-get install caddy)`;
  if (process.env.HAVEN_REQUIRE_CADDY === '1') throw new Error(message);
  console.warn(`${message}; skipping it.`);
}

const SITE = 'haven.localhost';
const CLIENT = '127.0.0.2';
const CADDY_SIDE = '127.0.0.1';
const FORGED = '203.0.113.7';

/** Every name resolves to 127.0.0.1: the client asks for SITE (its certificate's name) there. */
const toLoopback: LookupFunction = (_hostname, options, callback) => {
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The issuer's common name of the certificate the server presented (HTTPS only). */
  issuer?: string;
}

interface Call {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
}

function send(
  request: http.ClientRequest,
  call: Call,
  issuerOf?: (socket: TLSSocket) => string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString(),
          ...(issuerOf ? { issuer: issuerOf(response.socket as TLSSocket) } : {}),
        }),
      );
    });
    request.end(call.body === undefined ? undefined : JSON.stringify(call.body));
  });
}

function headersOf(call: Call): Record<string, string> {
  return {
    ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...call.headers,
  };
}

/** A request to Caddy over HTTPS from CLIENT, trusting `ca` (undefined: the system's roots only). */
function overHttps(port: number, ca: Buffer | undefined, call: Call): Promise<Answer> {
  const request = https.request({
    hostname: SITE,
    port,
    method: call.method ?? 'GET',
    path: call.path,
    headers: headersOf(call),
    lookup: toLoopback,
    localAddress: CLIENT,
    ...(ca ? { ca } : {}),
    agent: false,
  });
  return send(request, call, (socket) => String(socket.getPeerCertificate().issuer?.CN ?? ''));
}

/** A plain-HTTP request from CLIENT straight to `port` on loopback (Caddy's port 80, or Haven). */
function overHttp(port: number, call: Call, host = SITE): Promise<Answer> {
  const request = http.request({
    host: '127.0.0.1',
    port,
    method: call.method ?? 'GET',
    path: call.path,
    headers: { host, ...headersOf(call) },
    localAddress: CLIENT,
    agent: false,
  });
  return send(request, call);
}

/** The session cookie's attributes, lower-cased (`secure`, `httponly`, `samesite=strict`...). */
function sessionCookie(answer: Answer): { value: string; attributes: string[] } {
  const cookie = (answer.headers['set-cookie'] ?? []).find((c) => c.startsWith('haven_session='));
  if (!cookie) throw new Error(`no session cookie: ${JSON.stringify(answer.headers)}`);
  const [pair, ...attributes] = cookie.split(';').map((part) => part.trim());
  return {
    value: pair!.slice('haven_session='.length),
    attributes: attributes.map((a) => a.toLowerCase()),
  };
}

/** The sign-in attempts for `email` since `before` (ids), as `outcome address`. */
async function attemptsSince(h: TestHaven, email: string, before: Set<string> = new Set()) {
  const rows = await h.database.db
    .selectFrom('login_attempts')
    .select(['id', 'outcome', 'ip'])
    .where('email', '=', email)
    .orderBy('at')
    .execute();
  return rows.filter((r) => !before.has(r.id)).map((r) => `${r.outcome} ${r.ip}`);
}

async function attemptIds(h: TestHaven, email: string): Promise<Set<string>> {
  const rows = await h.database.db
    .selectFrom('login_attempts')
    .select('id')
    .where('email', '=', email)
    .execute();
  return new Set(rows.map((r) => r.id));
}

/** Where the session a sign-in answered with, and its audit row, say the client was. */
async function sessionAddresses(h: TestHaven, answer: Answer) {
  const { token } = JSON.parse(answer.body) as { token: string };
  const db = h.database.db;
  const session = await db
    .selectFrom('sessions')
    .select(['id', 'ip'])
    .where('token_hash', '=', tokenHash(token))
    .executeTakeFirstOrThrow();
  const audit = await db
    .selectFrom('audit_events')
    .select('meta_json')
    .where('action', '=', 'auth.login')
    .where('target_id', '=', session.id)
    .executeTakeFirstOrThrow();
  return { session: session.ip, audit: JSON.parse(audit.meta_json ?? '{}').ip };
}

class Caddy {
  #child: ChildProcess | undefined;
  #output = '';
  readonly ports = { https: 0, http: 0, admin: 0 };
  root: Buffer | undefined;

  constructor(
    readonly home: string,
    readonly upstreamPort: number,
  ) {}

  async start(): Promise<void> {
    this.ports.https = await freePort();
    this.ports.http = await freePort();
    this.ports.admin = await freePort();
    const child = spawn(CADDY, ['run', '--config', CADDYFILE, '--adapter', 'caddyfile'], {
      env: {
        PATH: process.env.PATH,
        // Caddy's storage (certificates, its authority) and autosaved config, in the test's own directory.
        HOME: this.home,
        XDG_DATA_HOME: path.join(this.home, 'data'),
        XDG_CONFIG_HOME: path.join(this.home, 'config'),
        CADDY_HTTP_PORT: String(this.ports.http),
        CADDY_HTTPS_PORT: String(this.ports.https),
        CADDY_ADMIN: `127.0.0.1:${this.ports.admin}`,
        HAVEN_SITE: SITE,
        HAVEN_TLS: 'internal',
        HAVEN_UPSTREAM: `127.0.0.1:${this.upstreamPort}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    const keep = (chunk: Buffer) => {
      this.#output += chunk.toString();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);

    // Ready once its authority's root exists and a handshake trusting that root succeeds
    // (the site's certificate is issued just after start).
    const rootFile = path.join(this.home, 'data/caddy/pki/authorities/local/root.crt');
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`caddy exited: ${this.#output}`);
      if (existsSync(rootFile)) {
        this.root = await readFile(rootFile);
        const ok = await overHttps(this.ports.https, this.root, { path: '/api/v1/health' }).then(
          () => true,
          () => false,
        );
        if (ok) return;
      }
      if (Date.now() > deadline) throw new Error(`caddy did not come up: ${this.#output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}

const describeWithCaddy = caddyAvailable ? describe : describe.skip;

describeWithCaddy('Haven behind Caddy, set up by deploy/Caddyfile', () => {
  // One database, one Caddy and one `haven serve` at a time for the whole file: starting the
  // real processes is the slow part.
  let h: TestHaven;
  let home: string;
  let havenPort: number;
  let caddy: Caddy;
  let server: HavenProcess | undefined;

  beforeAll(async () => {
    h = await startHaven();
    home = await mkdtemp(path.join(tmpdir(), 'haven-caddy-'));
    havenPort = await freePort();
    caddy = new Caddy(home, havenPort);
    await caddy.start();
  });
  afterAll(async () => {
    await server?.kill();
    await caddy?.stop();
    await h?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  /** A real `haven serve` on the port Caddy forwards to, as the README's production section runs it. */
  async function serve(env: Record<string, string>): Promise<void> {
    await server?.kill();
    server = new HavenProcess(h, ['serve'], {
      HOST: '127.0.0.1',
      PORT: String(havenPort),
      HAVEN_WORKER: 'off',
      HAVEN_PUBLIC_URL: `https://${SITE}:${caddy.ports.https}`,
      ...env,
    });
    await server.start(/Haven is serving/);
  }

  const signIn = (email: string, password: string, headers: Record<string, string> = {}) =>
    overHttps(caddy.ports.https, caddy.root, {
      method: 'POST',
      path: '/api/v1/auth/login',
      headers,
      body: { email, password },
    });

  describe('with HAVEN_TRUST_PROXY naming Caddy', () => {
    beforeAll(() => serve({ HAVEN_TRUST_PROXY: CADDY_SIDE }));

    it('answers over HTTPS with a certificate of Caddy’s internal authority, and sends plain HTTP there', async () => {
      const health = await overHttps(caddy.ports.https, caddy.root, { path: '/api/v1/health' });
      expect(health.status).toBe(200);
      expect(health.issuer).toMatch(/Caddy Local Authority/);
      // Haven's own headers come through the proxy.
      expect(health.headers['strict-transport-security']).toMatch(/max-age=\d+/);

      // A client that does not trust Caddy's root is refused at the handshake.
      await expect(
        overHttps(caddy.ports.https, undefined, { path: '/api/v1/health' }),
      ).rejects.toThrow(/certificate/i);

      const plain = await overHttp(caddy.ports.http, { path: '/api/v1/health' });
      expect(plain.status).toBe(308);
      // (Caddy 2.6 leaves a non-default https_port out of the redirect; in production it is 443.)
      const location = new URL(String(plain.headers.location));
      expect([location.protocol, location.hostname, location.pathname]).toEqual([
        'https:',
        SITE,
        '/api/v1/health',
      ]);
    });

    it('a sign-in through it gets a Secure, HttpOnly, SameSite cookie and is recorded at the client’s address, whatever X-Forwarded-For the client wrote', async () => {
      const org = await setupOrganisation(h);
      const before = await attemptIds(h, org.ownerEmail);
      const forged = { 'x-forwarded-for': FORGED, 'x-real-ip': FORGED };

      const wrong = await signIn(org.ownerEmail, 'not the password at all', forged);
      expect(wrong.status).toBe(401);

      const answer = await signIn(org.ownerEmail, STRONG_PASSWORD, forged);
      expect(answer.status).toBe(200);
      const cookie = sessionCookie(answer);
      expect(cookie.attributes).toContain('secure');
      expect(cookie.attributes).toContain('httponly');
      expect(cookie.attributes).toContain('samesite=strict');

      // Neither Caddy's address nor the forged one: the client's, in every trace of the sign-in
      // (the failed attempt too, which the per-address throttle counts).
      expect(await attemptsSince(h, org.ownerEmail, before)).toEqual([
        `failure ${CLIENT}`,
        `success ${CLIENT}`,
      ]);
      expect(await sessionAddresses(h, answer)).toEqual({ session: CLIENT, audit: CLIENT });

      // The cookie is a working session through the proxy, CSRF header and all.
      const { csrfToken } = JSON.parse(answer.body) as { csrfToken: string };
      const me = await overHttps(caddy.ports.https, caddy.root, {
        path: '/api/v1/me',
        headers: { cookie: `haven_session=${cookie.value}` },
      });
      expect(me.status).toBe(200);
      expect(JSON.parse(me.body).email).toBe(org.ownerEmail);
      const logout = await overHttps(caddy.ports.https, caddy.root, {
        method: 'POST',
        path: '/api/v1/auth/logout',
        headers: { cookie: `haven_session=${cookie.value}`, 'x-csrf-token': csrfToken },
      });
      expect(logout.status).toBe(204);
    });

    it('past Caddy, straight to Haven, a client’s forwarding headers are not believed', async () => {
      const org = await setupOrganisation(h);
      const before = await attemptIds(h, org.ownerEmail);
      const answer = await overHttp(
        havenPort,
        {
          method: 'POST',
          path: '/api/v1/auth/login',
          headers: { 'x-forwarded-for': FORGED, 'x-forwarded-proto': 'https' },
          body: { email: org.ownerEmail, password: STRONG_PASSWORD },
        },
        `127.0.0.1:${havenPort}`,
      );
      expect(answer.status).toBe(200);
      // It came over plain HTTP from an address that is not the proxy: no Secure, its own address.
      expect(sessionCookie(answer).attributes).not.toContain('secure');
      expect(await attemptsSince(h, org.ownerEmail, before)).toEqual([`success ${CLIENT}`]);
      expect(await sessionAddresses(h, answer)).toEqual({ session: CLIENT, audit: CLIENT });
    });
  });

  // Why the README's production section sets it: the same sign-in, Haven trusting no proxy.
  describe('without HAVEN_TRUST_PROXY', () => {
    beforeAll(() => serve({}));

    it('Haven sees only Caddy: the cookie is not Secure and the address is Caddy’s', async () => {
      const org = await setupOrganisation(h);
      const before = await attemptIds(h, org.ownerEmail);
      const answer = await signIn(org.ownerEmail, STRONG_PASSWORD);
      expect(answer.status).toBe(200);
      expect(sessionCookie(answer).attributes).not.toContain('secure');
      expect(await attemptsSince(h, org.ownerEmail, before)).toEqual([`success ${CADDY_SIDE}`]);
      expect(await sessionAddresses(h, answer)).toEqual({
        session: CADDY_SIDE,
        audit: CADDY_SIDE,
      });
    });
  });
});
