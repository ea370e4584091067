import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { accountEmailPayload, wipedAccountPayload } from '../../src/modules/accounts/emails.ts';
import { withoutLinkToken } from '../../src/modules/accounts/tokens.ts';
import { openSecret } from '../../src/modules/auth/secret-seal.ts';

describe('account links at rest and in the logs', () => {
  const key = randomBytes(32);
  const token = 'k3Jd9Qx_2-secret-token-value-AbCdEfGhIjKlMnOp';

  it('seals the token into the payload, bound to its token id, and wipes it', () => {
    const payload = accountEmailPayload(key, 'invitation', { id: 'tok-1', token });
    expect(JSON.stringify(payload)).not.toContain(token);
    expect(openSecret(key, 'tok-1', payload.sealedToken!)).toBe(token);
    // Copied onto another token's email, it does not open.
    expect(() => openSecret(key, 'tok-2', payload.sealedToken!)).toThrow();
    expect(wipedAccountPayload(payload)).toEqual({ kind: 'invitation', tokenId: 'tok-1' });
  });

  it('blanks the token of a link page in a logged url, and nothing else', () => {
    expect(withoutLinkToken(`/accept-invitation?token=${token}`)).toBe(
      '/accept-invitation?token=[redacted]',
    );
    expect(withoutLinkToken(`/reset-password?x=1&token=${token}#top`)).toBe(
      '/reset-password?x=1&token=[redacted]#top',
    );
    expect(withoutLinkToken('/api/v1/students?q=tokens')).toBe('/api/v1/students?q=tokens');
  });
});
