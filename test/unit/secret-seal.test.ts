import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openSecret, sealSecret } from '../../src/modules/auth/secret-seal.ts';

describe('sealing TOTP secrets at rest', () => {
  const key = randomBytes(32);
  const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

  it('round-trips, and never stores the secret or the same text twice', () => {
    const a = sealSecret(key, 'user-1', secret);
    const b = sealSecret(key, 'user-1', secret);
    expect(a).toMatch(/^v1\./);
    expect(a).not.toContain(secret);
    expect(a).not.toBe(b);
    expect(openSecret(key, 'user-1', a)).toBe(secret);
  });

  it('refuses a secret moved to another user, altered, or opened with another key', () => {
    const sealed = sealSecret(key, 'user-1', secret);
    expect(() => openSecret(key, 'user-2', sealed)).toThrow();
    expect(() => openSecret(randomBytes(32), 'user-1', sealed)).toThrow();
    const bytes = Buffer.from(sealed.slice(3), 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    expect(() => openSecret(key, 'user-1', `v1.${bytes.toString('base64')}`)).toThrow();
    expect(() => openSecret(key, 'user-1', 'v1.AAAA')).toThrow(/truncated/);
  });

  it('reads a secret stored before sealing as it is', () => {
    expect(openSecret(key, 'user-1', secret)).toBe(secret);
  });
});
