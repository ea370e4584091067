import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';

/** RFC 6238 as every authenticator app reads it by default (spec api.md: SHA-1, 6 digits, 30 s). */
export const TOTP = { algorithm: 'sha1', digits: 6, period: 30 } as const;
/** Codes of the step before and after now are accepted too, for phone clocks a little out. */
const TOLERANCE_STEPS = 1;
export const TOTP_ISSUER = 'Haven';

/** A new secret of 20 random bytes (RFC 4226's recommended length for HMAC-SHA-1), base32. */
export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/** The `otpauth://totp/...` URI an authenticator app scans to add the account. */
export function totpUri(secret: string, account: string): string {
  return generateURI({ issuer: TOTP_ISSUER, label: account, secret, ...TOTP });
}

/** The URI as a QR code, a `data:image/png;base64,...` URL ready for an `<img src>`. */
export function totpQrCode(uri: string): Promise<string> {
  return QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 240 });
}

export function timeStepAt(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP.period);
}

export function looksLikeTotp(code: string): boolean {
  return /^\d{6}$/.test(code);
}

/**
 * The RFC 6238 time step of `code` if it is a right code within the tolerance of `nowMs` and
 * later than `afterStep` (the last step accepted, so that no code is accepted twice); else null.
 */
export async function matchTotp(
  secret: string,
  code: string,
  nowMs: number,
  afterStep: number | null,
): Promise<number | null> {
  if (!looksLikeTotp(code)) return null;
  // Every step in the window is already used up (otplib refuses such an `afterTimeStep` outright).
  if (afterStep !== null && afterStep >= timeStepAt(nowMs) + TOLERANCE_STEPS) return null;
  const result = await verify({
    secret,
    token: code,
    ...TOTP,
    epoch: Math.floor(nowMs / 1000),
    epochTolerance: TOLERANCE_STEPS * TOTP.period,
    ...(afterStep !== null ? { afterTimeStep: afterStep } : {}),
  });
  // The result type also covers HOTP, which has no time step.
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}

/*
 * Recovery codes are hashed with SHA-256 and a per-code salt, not argon2id. Each code carries
 * 80 random bits, so a slow hash adds nothing against guessing (2^80 hashes are out of reach
 * however fast each is), whereas checking a typed code against up to ten argon2id hashes of
 * 19 MiB each would make every recovery sign-in cost ten password hashes.
 */
export const RECOVERY_CODE_COUNT = 10;
const RECOVERY_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case
const RECOVERY_CODE_LENGTH = 16; // 16 characters of 5 bits: 80 bits

/** A new recovery code as shown to the user: `xxxx-xxxx-xxxx-xxxx`. */
export function newRecoveryCode(): string {
  // 256 is a multiple of 32, so the low 5 bits of each byte are uniform.
  const chars = [...randomBytes(RECOVERY_CODE_LENGTH)].map((b) => RECOVERY_ALPHABET[b & 31]);
  return chars.join('').replace(/(.{4})(?!$)/g, '$1-');
}

/** A typed recovery code in canonical form (case, dashes, spaces and look-alikes forgiven), or null. */
export function normaliseRecoveryCode(input: string): string | null {
  const code = input.toLowerCase().replace(/[\s-]/g, '').replace(/[il]/g, '1').replace(/o/g, '0');
  if (code.length !== RECOVERY_CODE_LENGTH) return null;
  return [...code].every((c) => RECOVERY_ALPHABET.includes(c)) ? code : null;
}

function recoveryDigest(salt: string, code: string): Buffer {
  return createHash('sha256').update(salt).update(':').update(code).digest();
}

export function hashRecoveryCode(code: string): { salt: string; codeHash: string } {
  const salt = randomBytes(16).toString('hex');
  const canonical = normaliseRecoveryCode(code);
  if (!canonical) throw new Error('not a recovery code');
  return { salt, codeHash: recoveryDigest(salt, canonical).toString('hex') };
}

/** Whether the canonical `code` is the one stored as `salt` and `codeHash` (constant time). */
export function recoveryCodeMatches(code: string, salt: string, codeHash: string): boolean {
  const stored = Buffer.from(codeHash, 'hex');
  const typed = recoveryDigest(salt, code);
  return stored.length === typed.length && timingSafeEqual(stored, typed);
}
