export const scopeTypes = ['organisation', 'school_group', 'school'] as const;
export type ScopeType = (typeof scopeTypes)[number];

export interface Scope {
  type: ScopeType;
  id: string;
}

/** Which school groups each school belongs to; a grant at a school group covers its schools. */
export type SchoolGroupsBySchool = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * Does a grant held at `grantScope` cover `target`? (spec section 1)
 * The organisation covers everything in it; a school group covers itself and its schools;
 * a school covers itself.
 */
export function covers(
  grantScope: Scope,
  target: Scope,
  schoolGroupsBySchool: SchoolGroupsBySchool,
): boolean {
  switch (grantScope.type) {
    case 'organisation':
      return true;
    case 'school_group':
      if (target.type === 'school_group') return target.id === grantScope.id;
      if (target.type === 'school') {
        return schoolGroupsBySchool.get(target.id)?.has(grantScope.id) ?? false;
      }
      return false;
    case 'school':
      return target.type === 'school' && target.id === grantScope.id;
  }
}

export function sameScope(a: Scope, b: Scope): boolean {
  return a.type === b.type && a.id === b.id;
}
