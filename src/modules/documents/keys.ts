import { hkdfSync, randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

/** The installation's master key is 256 bits; every subkey is derived from it, never used raw. */
export const SECRET_KEY_BYTES = 32;
export const SECRET_KEY_FILE = 'secret.key';

/** What each subkey is for; a new purpose gets a new, independent key from the same master. */
export const KEY_PURPOSES = ['documents', 'totp', 'account_tokens', 'sso'] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

/** A missing, unreadable or malformed master key: start-up stops with this message. */
export class SecretKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretKeyError';
  }
}

export interface SecretKeySource {
  /** `HAVEN_SECRET_KEY` as given (base64, base64url or hex); when undefined the key file is used. */
  secretKey?: string | undefined;
  /** `HAVEN_DATA_DIR`; the key file is `<dataDir>/secret.key`. */
  dataDir: string;
}

/**
 * The installation's master key: `HAVEN_SECRET_KEY` when set, otherwise `<dataDir>/secret.key`,
 * generated on first start. Synchronous because it runs once, before the server listens.
 */
export function loadSecretKey({ secretKey, dataDir }: SecretKeySource): Buffer {
  if (secretKey !== undefined) {
    // A blank value is most likely a templating slip; silently falling back to a key file
    // would encrypt new documents under a key the operator never meant to use.
    if (secretKey.trim() === '') {
      throw new SecretKeyError(
        `HAVEN_SECRET_KEY is set but empty. Unset it to use ${path.join(dataDir, SECRET_KEY_FILE)}, or ${KEY_FORMAT_HINT}`,
      );
    }
    const key = parseSecretKey(secretKey);
    if (!key) throw new SecretKeyError(`HAVEN_SECRET_KEY is malformed: ${KEY_FORMAT_HINT}`);
    return key;
  }
  return readOrCreateKeyFile(path.join(dataDir, SECRET_KEY_FILE));
}

/** A subkey for one purpose (HKDF-SHA256, RFC 5869); the master is uniformly random, so no salt. */
export function deriveKey(master: Buffer, purpose: KeyPurpose): Buffer {
  if (master.length !== SECRET_KEY_BYTES) {
    throw new SecretKeyError(`The master key must be ${SECRET_KEY_BYTES} bytes`);
  }
  return Buffer.from(
    hkdfSync('sha256', master, Buffer.alloc(0), `haven:${purpose}:v1`, SECRET_KEY_BYTES),
  );
}

/** A new master key in the form `HAVEN_SECRET_KEY` and the key file take. */
export function newSecretKeyText(): string {
  return randomBytes(SECRET_KEY_BYTES).toString('base64');
}

const KEY_FORMAT_HINT = `it must be ${SECRET_KEY_BYTES} bytes written as base64 (44 characters, e.g. from \`openssl rand -base64 32\`) or hex (64 characters, \`openssl rand -hex 32\`)`;

const HEX = /^[0-9a-fA-F]{64}$/;
// 32 bytes are 43 base64 characters and one '=' of padding; padding is optional, either alphabet.
const BASE64 = /^[A-Za-z0-9+/]{43}=?$/;
const BASE64URL = /^[A-Za-z0-9_-]{43}=?$/;

/** The key in `text`, or undefined. Strict: Buffer.from(..., 'base64') would skip stray characters. */
export function parseSecretKey(text: string): Buffer | undefined {
  const value = text.trim();
  if (HEX.test(value)) return Buffer.from(value, 'hex');
  const encoding = BASE64.test(value) ? 'base64' : BASE64URL.test(value) ? 'base64url' : undefined;
  if (!encoding) return undefined;
  const key = Buffer.from(value, encoding);
  // Non-zero bits in the last character's unused tail mean a typo, not a different key.
  const canonical = key.toString(encoding).replace(/=$/, '') === value.replace(/=$/, '');
  if (key.length === SECRET_KEY_BYTES && canonical) return key;
  return undefined;
}

function readOrCreateKeyFile(file: string): Buffer {
  const existing = readKeyFile(file);
  if (existing) return existing;
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Written whole under a private name, then linked into place: link(2) fails if the name exists,
  // so of two processes starting together exactly one key wins, and nobody reads a half-written file.
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(fd, `${newSecretKeyText()}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(temporary, file);
    syncDirectory(path.dirname(file));
  } catch (error) {
    if (!isCode(error, 'EEXIST')) throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
  const key = readKeyFile(file);
  if (!key) throw new SecretKeyError(`${file} vanished while it was being created`);
  return key;
}

/** The key in an existing key file, undefined when there is none; refuses a file others can read. */
function readKeyFile(file: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return undefined;
    throw new SecretKeyError(`Cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new SecretKeyError(`${file} is not a regular file`);
    // As ssh does for private keys: any group or world permission is refused (Windows has no modes).
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      throw new SecretKeyError(
        `${file} is readable or writable by other users (mode ${(stat.mode & 0o777).toString(8)}); run \`chmod 600 ${file}\``,
      );
    }
    const key = parseSecretKey(readFileSync(fd, 'utf8'));
    if (!key) throw new SecretKeyError(`${file} is malformed: ${KEY_FORMAT_HINT}`);
    return key;
  } finally {
    closeSync(fd);
  }
}

/** Makes a new directory entry durable (a no-op where directories cannot be opened, e.g. Windows). */
function syncDirectory(directory: string): void {
  let fd: number;
  try {
    fd = openSync(directory, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename/link itself is still atomic.
  } finally {
    closeSync(fd);
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}
