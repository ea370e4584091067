import { describe, expect, it } from 'vitest';
import {
  assertsMultiFactor,
  authenticatedAt,
  verifiedEmail,
} from '../../src/modules/sso/identity.ts';
import {
  authorizationHints,
  isLoopbackHost,
  issuerProblem,
} from '../../src/modules/sso/presets.ts';

const allowed = ['school.org.uk'];

describe('the address a provider vouches for', () => {
  it('any issuer: email with email_verified true, within the allowed domains', () => {
    expect(
      verifiedEmail('oidc', { email: 'Ann@School.org.uk', email_verified: true }, allowed),
    ).toEqual({ ok: true, email: 'ann@school.org.uk', domain: 'school.org.uk' });
    expect(verifiedEmail('oidc', { email: 'ann@school.org.uk' }, allowed)).toEqual({
      ok: false,
      reason: 'sso_unverified_email',
    });
    expect(
      verifiedEmail('oidc', { email: 'ann@school.org.uk', email_verified: 'true' }, allowed).ok,
    ).toBe(false);
    expect(
      verifiedEmail('oidc', { email: 'ann@evil.org.uk', email_verified: true }, allowed),
    ).toEqual({ ok: false, reason: 'sso_domain' });
    // A subdomain is another domain.
    expect(
      verifiedEmail('oidc', { email: 'ann@x.school.org.uk', email_verified: true }, allowed).ok,
    ).toBe(false);
  });

  it('Google: also the hd claim naming the address’s domain (a Workspace account of the school)', () => {
    const claims = { email: 'ann@school.org.uk', email_verified: true };
    expect(verifiedEmail('google', { ...claims, hd: 'school.org.uk' }, allowed).ok).toBe(true);
    // A personal Google account registered with the school's address has no hd.
    expect(verifiedEmail('google', claims, allowed)).toEqual({
      ok: false,
      reason: 'sso_unverified_email',
    });
    expect(verifiedEmail('google', { ...claims, hd: 'other.org.uk' }, allowed).ok).toBe(false);
    expect(
      verifiedEmail('google', { ...claims, email_verified: false, hd: 'school.org.uk' }, allowed)
        .ok,
    ).toBe(false);
  });

  it('Microsoft: email with xms_edov, else the user principal name', () => {
    expect(verifiedEmail('microsoft', { email: 'ann@school.org.uk' }, allowed).ok).toBe(false);
    expect(
      verifiedEmail('microsoft', { email: 'ann@school.org.uk', xms_edov: true }, allowed).ok,
    ).toBe(true);
    expect(
      verifiedEmail('microsoft', { preferred_username: 'Ann@school.org.uk' }, allowed),
    ).toEqual({ ok: true, email: 'ann@school.org.uk', domain: 'school.org.uk' });
    // An unverified mail attribute does not win over the UPN.
    expect(
      verifiedEmail(
        'microsoft',
        { email: 'head@school.org.uk', preferred_username: 'ann@school.org.uk' },
        allowed,
      ),
    ).toMatchObject({ ok: true, email: 'ann@school.org.uk' });
    expect(verifiedEmail('microsoft', { preferred_username: 'ann' }, allowed).ok).toBe(false);
  });
});

describe('multi-factor (amr, RFC 8176)', () => {
  it('is `mfa`, or methods of two different kinds', () => {
    expect(assertsMultiFactor({ amr: ['mfa'] })).toBe(true);
    expect(assertsMultiFactor({ amr: ['pwd', 'otp'] })).toBe(true);
    expect(assertsMultiFactor({ amr: ['hwk', 'fpt'] })).toBe(true);
    expect(assertsMultiFactor({ amr: ['pwd'] })).toBe(false);
    expect(assertsMultiFactor({ amr: ['pwd', 'pin'] })).toBe(false);
    expect(assertsMultiFactor({ amr: ['hwk', 'user'] })).toBe(false);
    expect(assertsMultiFactor({ amr: 'mfa' })).toBe(false);
    expect(assertsMultiFactor({})).toBe(false);
  });

  it('dates the check at auth_time, never in the future', () => {
    const now = '2026-11-30T10:00:00.000Z';
    expect(authenticatedAt({ auth_time: Date.parse('2026-11-30T09:00:00Z') / 1000 }, now)).toBe(
      '2026-11-30T09:00:00.000Z',
    );
    expect(authenticatedAt({ auth_time: Date.parse('2026-11-30T11:00:00Z') / 1000 }, now)).toBe(
      now,
    );
    expect(authenticatedAt({}, now)).toBe(now);
  });
});

describe('issuers', () => {
  it('are https; plain http only for loopback and only when allowed', () => {
    expect(issuerProblem('https://login.microsoftonline.com/x/v2.0', false)).toBeNull();
    expect(issuerProblem('http://127.0.0.1:4000', false)).not.toBeNull();
    expect(issuerProblem('http://127.0.0.1:4000', true)).toBeNull();
    expect(issuerProblem('http://localhost:4000', true)).toBeNull();
    expect(issuerProblem('http://[::1]:4000', true)).toBeNull();
    expect(issuerProblem('http://10.0.0.5', true)).not.toBeNull();
    expect(issuerProblem('http://127.0.0.1.evil.example', true)).not.toBeNull();
    expect(issuerProblem('https://idp.example?x=1', false)).not.toBeNull();
    expect(isLoopbackHost('127.8.9.1')).toBe(true);
  });

  it('Google is hinted at the school’s Workspace domain', () => {
    expect(authorizationHints('google', ['school.org.uk'])).toEqual({ hd: 'school.org.uk' });
    expect(authorizationHints('google', ['a.org.uk', 'b.org.uk'])).toEqual({ hd: '*' });
    expect(authorizationHints('oidc', ['a.org.uk'])).toEqual({});
  });
});
