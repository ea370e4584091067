import { describe, expect, it } from 'vitest';
import { mustEnrol, reachableWhileEnrolling } from '../../src/access/enrolment.ts';
import type { Principal } from '../../src/access/principal.ts';
import type { GrantableRole } from '../../src/access/roles.ts';
import type { Scope } from '../../src/access/scopes.ts';

const asks = JSON.stringify({ requireMfaEnrolment: true });
const never = JSON.stringify({ requireMfaEnrolment: false });
/** Oak asks (by default: nothing stored), Birch does not; Birch is in the North hub. */
const schools = [
  { id: 'oak', settings: '{}' },
  { id: 'birch', settings: never },
];

function principal(grants: [GrantableRole, Scope][], clearances: string[] = []): Principal {
  return {
    userId: 'u',
    organisationId: 'org',
    grants: grants.map(([role, scope], i) => ({
      grantId: `g${i}`,
      role,
      scope,
      source: { type: 'direct' },
      since: '2026-01-01T00:00:00Z',
    })),
    clearances: new Set(clearances) as Principal['clearances'],
    schoolGroupsBySchool: new Map([['birch', new Set(['north'])]]),
  };
}

const at = (type: Scope['type'], id: string): Scope => ({ type, id });

describe('mustEnrol: who enrols two-factor sign-in before using Haven', () => {
  it.each([
    ['a Viewer at Oak', principal([['viewer', at('school', 'oak')]]), false],
    ['an Admin at the organisation', principal([['admin', at('organisation', 'org')]]), false],
    ['a Deputy DSL at Oak, which asks', principal([['deputy_dsl', at('school', 'oak')]]), true],
    ['a DSL at Birch, which does not', principal([['dsl', at('school', 'birch')]]), false],
    [
      'a DSL at the North hub (Birch only)',
      principal([['dsl', at('school_group', 'north')]]),
      false,
    ],
    ['an Owner at the organisation', principal([['owner', at('organisation', 'org')]]), true],
    [
      'a Viewer at Birch holding a clearance (Oak asks)',
      principal([['viewer', at('school', 'birch')]], ['child_protection']),
      true,
    ],
  ])('%s: %s', (_, who, expected) => {
    expect(mustEnrol(who, false, schools)).toBe(expected);
  });

  it('never once TOTP is on, nor where no school asks', () => {
    const owner = principal([['owner', at('organisation', 'org')]], ['allegations']);
    expect(mustEnrol(owner, true, schools)).toBe(false);
    expect(mustEnrol(owner, false, [{ id: 'birch', settings: never }])).toBe(false);
    expect(mustEnrol(owner, false, [{ id: 'birch', settings: asks }])).toBe(true);
    // An unreadable setting takes the default (on).
    expect(mustEnrol(owner, false, [{ id: 'oak', settings: 'not json' }])).toBe(true);
  });

  it('leaves a session only its own account, enrolment and sign-out', () => {
    expect(reachableWhileEnrolling('GET', '/api/v1/me')).toBe(true);
    expect(reachableWhileEnrolling('POST', '/api/v1/me/totp/confirm')).toBe(true);
    expect(reachableWhileEnrolling('POST', '/api/v1/auth/logout')).toBe(true);
    expect(reachableWhileEnrolling('DELETE', '/api/v1/me/totp')).toBe(false);
    expect(reachableWhileEnrolling('POST', '/api/v1/auth/step-up')).toBe(false);
    expect(reachableWhileEnrolling('GET', '/api/v1/incidents')).toBe(false);
  });
});
