import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * TOTP secrets at rest: AES-256-GCM under the installation's `totp` subkey, bound to the user
 * (the user id is the associated data, so a sealed secret copied onto another account fails to
 * open). A database dump alone then yields no working authenticator secrets.
 *
 * Stored form: `v1.` + base64(iv ‖ tag ‖ ciphertext). A value without the prefix is a secret
 * written before sealing existed and is read as it is.
 */
const PREFIX = 'v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function sealSecret(key: Buffer, userId: string, secret: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(userId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
}

/** The secret, or throws if the stored value was altered, moved to another user or sealed under another key. */
export function openSecret(key: Buffer, userId: string, stored: string): string {
  if (!stored.startsWith(PREFIX)) return stored;
  const sealed = Buffer.from(stored.slice(PREFIX.length), 'base64');
  if (sealed.length <= IV_BYTES + TAG_BYTES) throw new Error('Sealed TOTP secret is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(userId, 'utf8'));
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([
    decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)),
    decipher.final(),
  ]).toString('utf8');
}
