import { forbidden } from '../lib/errors.ts';
import type { Clearance } from './clearances.ts';
import type { HeldGrant, Principal } from './principal.ts';
import { type GrantableRole, roleLabel } from './roles.ts';
import type { SchoolGroupsBySchool } from './scopes.ts';
import type { UserGroupHoldings } from './user-groups.ts';

/**
 * What a SCIM provisioning token may do (docs/decisions.md, "SCIM provisioning"). It acts for the
 * organisation, not as a person: an Admin at the organisation with no user, no clearance and no
 * children visible, so every user and user-group rule Haven applies to an Admin applies to it
 * (it cannot grant or take away Owner, disable an Owner, or pass on a clearance). On top of that,
 * it changes nothing a safeguarding role decides: who holds Owner, DSL or Deputy DSL or a
 * clearance through a group, and the sign-in address of such a person, are decided by a person
 * who holds them, in Haven.
 */
export function scimPrincipal(
  organisationId: string,
  schoolGroupsBySchool: SchoolGroupsBySchool,
): Principal {
  return {
    userId: '',
    organisationId,
    grants: [
      {
        grantId: 'scim',
        role: 'admin',
        scope: { type: 'organisation', id: organisationId },
        source: { type: 'direct' },
        since: new Date(0).toISOString(),
      },
    ],
    clearances: new Set(),
    schoolGroupsBySchool,
  };
}

/** Roles only a person holding them passes on: provisioning never moves anyone into or out of them. */
const decidedByAPerson: ReadonlySet<GrantableRole> = new Set(['owner', 'dsl', 'deputy_dsl']);

/** What of these grants and clearances provisioning must leave alone, in words (empty: nothing). */
function safeguardingHoldings(
  roles: readonly GrantableRole[],
  clearances: readonly Clearance[],
): string[] {
  const held = [...new Set(roles)].filter((role) => decidedByAPerson.has(role)).map(roleLabel);
  const cleared = [...new Set(clearances)].map((c) => `the ${c.replace('_', '-')} clearance`);
  return [...held, ...cleared];
}

/**
 * A group that confers Owner, DSL, Deputy DSL or a clearance is read-only to provisioning: its
 * members, name and existence are a person's decision (anti-escalation rules 1 and 3, and the
 * DSL's own team). Answered 403 and written to the audit log as a refusal.
 */
export function requireProvisionableGroup(holdings: UserGroupHoldings): void {
  const held = safeguardingHoldings(
    holdings.grants.map((g) => g.role),
    holdings.clearances,
  );
  if (held.length === 0) return;
  throw forbidden(
    `This group confers ${held.join(', ')}: its members are changed in Haven by someone who holds that, not by provisioning.`,
    { provisioning: 'refused' },
  );
}

/**
 * Whose sign-in address provisioning may change: nobody holding Owner, DSL, Deputy DSL or a
 * clearance (a changed address is a way into their account through a password reset).
 */
export function requireProvisionableSignIn(
  grants: readonly HeldGrant[],
  clearances: readonly Clearance[],
): void {
  const held = safeguardingHoldings(
    grants.map((g) => g.role),
    clearances,
  );
  if (held.length === 0) return;
  throw forbidden(
    `This person holds ${held.join(', ')}: their sign-in address is changed in Haven, not by provisioning.`,
    { provisioning: 'refused' },
  );
}
