import { describe, expect, it } from 'vitest';
import { canSomewhere } from '../../src/access/decide.ts';
import {
  anyImportPermission,
  type ImportKind,
  importPermissions,
  mayImport,
} from '../../src/access/imports.ts';
import type { Principal } from '../../src/access/principal.ts';
import { type GrantableRole, grantableRoles } from '../../src/access/roles.ts';

function holding(
  role: GrantableRole | null,
  scope: 'organisation' | 'school' = 'school',
): Principal {
  return {
    userId: 'u',
    organisationId: 'org',
    grants: role
      ? [
          {
            grantId: 'g',
            role,
            scope: { type: scope, id: scope === 'school' ? 'oak' : 'org' },
            source: { type: 'direct' },
            since: '2026-01-01T00:00:00Z',
          },
        ]
      : [],
    clearances: new Set(),
    schoolGroupsBySchool: new Map(),
  };
}

const kinds = Object.keys(importPermissions) as ImportKind[];

describe('who may import (src/access/imports.ts)', () => {
  it('asks what the access model gives for adding students and adding users', () => {
    expect(importPermissions).toEqual({
      students: 'students.create',
      staff: 'users.manage',
      oneroster: 'students.create',
    });
  });

  it.each([
    [null, false],
    ['viewer', false],
    ['admin', true],
    ['deputy_dsl', true],
    ['dsl', true],
    ['owner', true],
  ] as const)('%s imports every kind: %s', (role, allowed) => {
    for (const kind of kinds) expect(mayImport(holding(role), kind), kind).toBe(allowed);
  });

  it("the runs' routes declare a permission that every kind's permission implies", () => {
    for (const role of [null, ...grantableRoles])
      for (const scope of ['organisation', 'school'] as const) {
        const principal = holding(role, scope);
        if (kinds.some((kind) => mayImport(principal, kind)))
          expect(canSomewhere(principal, anyImportPermission), `${role} at ${scope}`).toBe(true);
      }
  });
});
