import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

/**
 * A new opaque id: 10 characters of millisecond time then 16 random characters (80 bits).
 * Time-ordered ids keep B-tree inserts local, which matters for million-row membership tables.
 */
export function newId(now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(10);
  let random = '';
  // 80 bits -> 16 base32 characters, 5 bits at a time
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      random += ALPHABET[(buffer >> bits) & 31];
    }
  }
  return time + random;
}

/** A url-safe secret with 256 bits of entropy (session tokens, CSRF tokens). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}
