/** Haven's fixed, ranked roles (spec section 2). Rank is explicit, never derived from order. */
export const roles = {
  owner: { rank: 5, label: 'Owner' },
  dsl: { rank: 4, label: 'DSL' },
  deputy_dsl: { rank: 3, label: 'Deputy DSL' },
  admin: { rank: 2, label: 'Admin' },
  viewer: { rank: 1, label: 'Viewer' },
  member: { rank: 0, label: 'Member' },
} as const satisfies Record<string, { rank: number; label: string }>;

export type Role = keyof typeof roles;

/** Roles that can be granted; Member is a placeholder every user holds and is never picked. */
export const grantableRoles = ['owner', 'dsl', 'deputy_dsl', 'admin', 'viewer'] as const;
export type GrantableRole = (typeof grantableRoles)[number];

export const allRoles = Object.keys(roles) as Role[];

export function rankOf(role: Role): number {
  return roles[role].rank;
}

export function roleLabel(role: Role): string {
  return roles[role].label;
}

/** The role with exactly this rank (ranks are unique). */
export function roleOfRank(rank: number): Role {
  const found = allRoles.find((role) => roles[role].rank === rank);
  if (!found) throw new Error(`No role has rank ${rank}`);
  return found;
}
