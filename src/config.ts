import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

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
  HAVEN_TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  HAVEN_LOGIN_MAX_FAILURES: positiveInt(10),
  HAVEN_LOGIN_WINDOW_MINUTES: positiveInt(15),
  HAVEN_MFA_WINDOW_MINUTES: positiveInt(15),
  // No .min(1): an empty value gets loadSecretKey's clearer message.
  HAVEN_SECRET_KEY: z.string().optional(),
  HAVEN_MAX_UPLOAD_BYTES: positiveInt(25 * 1024 * 1024),
  HAVEN_WEB_DIR: z.string().min(1).optional(),
});

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
  trustProxy: boolean;
  login: { maxFailures: number; windowMs: number };
  /** How long a passed TOTP step-up lets a session read child-protection and allegation records. */
  mfaWindowMs: number;
  /** The installation key (base64 or hex, 32 bytes); unset: generated into the data directory. */
  secretKey: string | undefined;
  documents: { maxUploadBytes: number };
  /** The built web app, served at `/`. */
  webDir: string;
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
    trustProxy: e.HAVEN_TRUST_PROXY === 'true',
    login: {
      maxFailures: e.HAVEN_LOGIN_MAX_FAILURES,
      windowMs: e.HAVEN_LOGIN_WINDOW_MINUTES * 60_000,
    },
    mfaWindowMs: e.HAVEN_MFA_WINDOW_MINUTES * 60_000,
    secretKey: e.HAVEN_SECRET_KEY,
    documents: { maxUploadBytes: e.HAVEN_MAX_UPLOAD_BYTES },
    webDir: path.resolve(e.HAVEN_WEB_DIR ?? DEFAULT_WEB_DIR),
  };
}
