import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { DatabaseTimeouts } from './db/database.ts';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
// Milliseconds; 0 turns the limit off.
const milliseconds = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  HAVEN_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  HAVEN_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  HAVEN_SESSION_IDLE_MINUTES: positiveInt(30),
  HAVEN_SESSION_ABSOLUTE_HOURS: positiveInt(12),
  HAVEN_COOKIE_SECURE: z.enum(['auto', 'true', 'false']).default('auto'),
  HAVEN_TRUST_PROXY: z
    .string()
    .trim()
    .default('false')
    .refine(
      (value) => trustProxySetting(value) !== undefined,
      'must be true, false, or the addresses of the proxies in front, separated by commas',
    ),
  HAVEN_LOGIN_MAX_FAILURES: positiveInt(10),
  HAVEN_LOGIN_WINDOW_MINUTES: positiveInt(15),
  // Failed checks from one client address within the window, whatever the email; 0 turns it off.
  HAVEN_LOGIN_ADDRESS_MAX_FAILURES: z.coerce.number().int().min(0).default(50),
  // Requests per minute from one address to each public sign-in route; 0 turns it off.
  HAVEN_AUTH_RATE_LIMIT: z.coerce.number().int().min(0).default(60),
  HAVEN_MFA_WINDOW_MINUTES: positiveInt(15),
  // No .min(1): an empty value gets loadSecretKey's clearer message.
  HAVEN_SECRET_KEY: z.string().optional(),
  HAVEN_MAX_UPLOAD_BYTES: positiveInt(25 * 1024 * 1024),
  HAVEN_REPORT_PDF_MAX_PEOPLE: positiveInt(20_000),
  HAVEN_WEB_DIR: z.string().min(1).optional(),
  HAVEN_DB_STATEMENT_TIMEOUT_MS: milliseconds(30_000),
  HAVEN_DB_LOCK_TIMEOUT_MS: milliseconds(10_000),
  HAVEN_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: milliseconds(60_000),
  HAVEN_DB_ACQUIRE_TIMEOUT_MS: milliseconds(10_000),
  HAVEN_DB_BUSY_TIMEOUT_MS: milliseconds(5_000),
  HAVEN_AUDIT_REFUSAL_WINDOW_SECONDS: positiveInt(60),
  HAVEN_AUDIT_REFUSAL_MAX_CLIENTS: positiveInt(10_000),
  HAVEN_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional(),
  HAVEN_MAIL_FROM: z.string().min(3).default('Haven <haven@localhost>'),
  HAVEN_PUBLIC_URL: z.url().optional(),
  // Single sign-on against a plain-http issuer on this machine (tests, a local provider); never elsewhere.
  HAVEN_OIDC_ALLOW_HTTP: z.enum(['true', 'false']).default('false'),
  HAVEN_WORKER: z.enum(['on', 'off']).default('on'),
  HAVEN_WORKER_POLL_MS: positiveInt(2_000),
  HAVEN_MAIL_MAX_ATTEMPTS: positiveInt(8),
  HAVEN_MAIL_RETRY_BASE_MS: positiveInt(30_000),
  HAVEN_MAIL_LEASE_MS: positiveInt(300_000),
  // Unset: no /metrics. A bearer token in a header: printable ASCII without spaces.
  HAVEN_METRICS_TOKEN: z
    .string()
    .regex(
      /^[\x21-\x7e]{32,}$/,
      'must be at least 32 printable characters without spaces (for instance `openssl rand -hex 32`)',
    )
    .optional(),
});

const NAMED_PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * HAVEN_TRUST_PROXY as Fastify takes it: `true` believes every X-Forwarded-For entry (the
 * left-most, which a client can write itself unless the proxy replaces the header); a list of
 * addresses or ranges (`10.0.0.2`, `10.0.0.0/8`, `loopback`) believes only what those proxies
 * append. (Fastify no longer honours a hop count.) Undefined if malformed.
 */
function trustProxySetting(value: string): boolean | string[] | undefined {
  if (value === 'true' || value === 'false') return value === 'true';
  const proxies = value.split(',').map((entry) => entry.trim());
  const valid = proxies.every((entry) => {
    if (NAMED_PROXY_RANGES.has(entry)) return true;
    const [address, bits, ...rest] = entry.split('/');
    if (rest.length > 0 || !address || isIP(address) === 0) return false;
    return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= 128);
  });
  return valid ? proxies : undefined;
}

/** Where `npm run build` puts the web app. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../web/dist', import.meta.url));

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  logLevel: string;
  session: { idleMs: number; absoluteMs: number };
  cookieSecure: 'auto' | boolean;
  /** Fastify's `trustProxy`: which proxies' X-Forwarded-For is believed for `request.ip`. */
  trustProxy: boolean | string[];
  /**
   * Failed password and code checks counted per email (`maxFailures`) and per client address
   * across emails (`maxFailuresPerAddress`, 0: not counted) within `windowMs`.
   */
  login: { maxFailures: number; windowMs: number; maxFailuresPerAddress: number };
  /** Requests per window from one address to each public route under /auth and /setup (0: off). */
  rateLimit: { max: number; windowMs: number };
  /** How long a passed TOTP step-up lets a session read child-protection and allegation records. */
  mfaWindowMs: number;
  /** The installation key (base64 or hex, 32 bytes); unset: generated into the data directory. */
  secretKey: string | undefined;
  documents: { maxUploadBytes: number };
  /** The most people of an Access Audit Report run printed as PDF (larger runs: CSV or JSON). */
  reports: { pdfMaxPeople: number };
  /** The built web app, served at `/`. */
  webDir: string;
  /** How long the server waits on its database (bulk console commands wait without limit). */
  databaseTimeouts: DatabaseTimeouts;
  /** Refusals without a signed-in caller, after the first per client and code, are counted this long. */
  refusals: { windowMs: number; maxClients: number };
  mail: MailConfig;
  /** The notification worker: on inside `haven serve` unless turned off (then run `haven worker`). */
  worker: { enabled: boolean; pollMs: number };
  sso: SsoConfig;
  /** `HAVEN_METRICS_TOKEN`: the bearer token `/metrics` asks for; unset, there is no `/metrics`. */
  metricsToken: string | undefined;
}

/** Single sign-on (`src/modules/sso`). */
export interface SsoConfig {
  /** `HAVEN_PUBLIC_URL`: the redirect URI is `<publicUrl>/api/v1/auth/oidc/<providerId>/callback`; unset, the request's own origin. */
  publicUrl: string | undefined;
  /** `HAVEN_OIDC_ALLOW_HTTP`: an `http://` issuer is accepted when it is a loopback address. */
  allowHttpLoopback: boolean;
}

export interface MailConfig {
  /** Unset: Haven sends no email (alerts in the app still work). */
  smtpUrl: string | undefined;
  from: string;
  /** Where links in emails point (the address staff open Haven at). */
  publicUrl: string;
  maxAttempts: number;
  /** The first retry waits this long; each later one twice as long as the one before. */
  retryBaseMs: number;
  /** How long a worker holds an email it is sending before another may take it over. */
  leaseMs: number;
}

/** Reads Haven's settings from the environment; a bad value stops start-up with a clear message. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.HAVEN_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    logLevel: e.HAVEN_LOG_LEVEL,
    session: {
      idleMs: e.HAVEN_SESSION_IDLE_MINUTES * 60_000,
      absoluteMs: e.HAVEN_SESSION_ABSOLUTE_HOURS * 3_600_000,
    },
    cookieSecure: e.HAVEN_COOKIE_SECURE === 'auto' ? 'auto' : e.HAVEN_COOKIE_SECURE === 'true',
    trustProxy: trustProxySetting(e.HAVEN_TRUST_PROXY) ?? false,
    login: {
      maxFailures: e.HAVEN_LOGIN_MAX_FAILURES,
      windowMs: e.HAVEN_LOGIN_WINDOW_MINUTES * 60_000,
      maxFailuresPerAddress: e.HAVEN_LOGIN_ADDRESS_MAX_FAILURES,
    },
    rateLimit: { max: e.HAVEN_AUTH_RATE_LIMIT, windowMs: 60_000 },
    mfaWindowMs: e.HAVEN_MFA_WINDOW_MINUTES * 60_000,
    secretKey: e.HAVEN_SECRET_KEY,
    documents: { maxUploadBytes: e.HAVEN_MAX_UPLOAD_BYTES },
    reports: { pdfMaxPeople: e.HAVEN_REPORT_PDF_MAX_PEOPLE },
    webDir: path.resolve(e.HAVEN_WEB_DIR ?? DEFAULT_WEB_DIR),
    databaseTimeouts: {
      statementMs: e.HAVEN_DB_STATEMENT_TIMEOUT_MS,
      lockMs: e.HAVEN_DB_LOCK_TIMEOUT_MS,
      idleInTransactionMs: e.HAVEN_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      acquireMs: e.HAVEN_DB_ACQUIRE_TIMEOUT_MS,
      busyMs: e.HAVEN_DB_BUSY_TIMEOUT_MS,
    },
    refusals: {
      windowMs: e.HAVEN_AUDIT_REFUSAL_WINDOW_SECONDS * 1000,
      maxClients: e.HAVEN_AUDIT_REFUSAL_MAX_CLIENTS,
    },
    mail: {
      smtpUrl: e.HAVEN_SMTP_URL,
      from: e.HAVEN_MAIL_FROM,
      publicUrl: (e.HAVEN_PUBLIC_URL ?? `http://${e.HOST}:${e.PORT}`).replace(/\/+$/, ''),
      maxAttempts: e.HAVEN_MAIL_MAX_ATTEMPTS,
      retryBaseMs: e.HAVEN_MAIL_RETRY_BASE_MS,
      leaseMs: e.HAVEN_MAIL_LEASE_MS,
    },
    worker: { enabled: e.HAVEN_WORKER === 'on', pollMs: e.HAVEN_WORKER_POLL_MS },
    sso: {
      publicUrl: e.HAVEN_PUBLIC_URL?.replace(/\/+$/, ''),
      allowHttpLoopback: e.HAVEN_OIDC_ALLOW_HTTP === 'true',
    },
    metricsToken: e.HAVEN_METRICS_TOKEN,
  };
}
