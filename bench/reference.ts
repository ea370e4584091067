import { allStudentGroupMembers, type Fixture, type ScopeRef } from './fixture.ts';

/**
 * Section 3 written plainly over the fixture: the yardstick for peers during development.
 * (The benchmark itself cross-checks every peer against Haven.)
 */
export class ReferenceModel {
  readonly #groupsOfUser = new Map<string, Set<string>>();
  readonly #studentsOfGroup: Map<string, string[]>;
  readonly #schoolOf = new Map<string, string>();
  readonly #blocks = new Set<string>();
  readonly #hubOf = new Map<string, string>();

  constructor(private readonly fixture: Fixture) {
    this.#studentsOfGroup = allStudentGroupMembers(fixture);
    for (const s of fixture.students) this.#schoolOf.set(s.key, s.school);
    for (const s of fixture.schools) this.#hubOf.set(s.key, s.hub);
    for (const b of fixture.blocks) this.#blocks.add(`${b.user}:${b.student}`);
    for (const g of fixture.userGroups) {
      for (const m of g.members) {
        const set = this.#groupsOfUser.get(m) ?? new Set<string>();
        set.add(g.key);
        this.#groupsOfUser.set(m, set);
      }
    }
  }

  removeMember(user: string, group: string) {
    this.#groupsOfUser.get(user)?.delete(group);
  }

  addMember(user: string, group: string) {
    const set = this.#groupsOfUser.get(user) ?? new Set<string>();
    set.add(group);
    this.#groupsOfUser.set(user, set);
  }

  /** The user groups the user belongs to now. */
  groupsOf(user: string): string[] {
    return [...(this.#groupsOfUser.get(user) ?? [])];
  }

  #covers(scope: ScopeRef, school: string): boolean {
    if (scope.type === 'organisation') return true;
    if (scope.type === 'school') return scope.key === school;
    return this.#hubOf.get(school) === scope.key;
  }

  /** Schools where the user holds any role. */
  roleSchools(user: string): Set<string> {
    const groups = this.#groupsOfUser.get(user) ?? new Set();
    const grants = this.fixture.grants.filter(
      (g) =>
        (g.subject.type === 'user' && g.subject.key === user) ||
        (g.subject.type === 'user_group' && groups.has(g.subject.key)),
    );
    return new Set(
      this.fixture.schools
        .filter((s) => grants.some((g) => this.#covers(g.scope, s.key)))
        .map((s) => s.key),
    );
  }

  /** Every student the user can see. */
  visible(user: string): Set<string> {
    const schools = this.roleSchools(user);
    const reached = new Set<string>();
    for (const g of this.#groupsOfUser.get(user) ?? []) {
      const group = this.fixture.userGroups.find((x) => x.key === g)!;
      for (const link of group.links) {
        if ('student' in link) reached.add(link.student);
        else for (const s of this.#studentsOfGroup.get(link.studentGroup) ?? []) reached.add(s);
      }
    }
    for (const l of this.fixture.directLinks) if (l.user === user) reached.add(l.student);
    return new Set(
      [...reached].filter(
        (s) => schools.has(this.#schoolOf.get(s)!) && !this.#blocks.has(`${user}:${s}`),
      ),
    );
  }

  check(user: string, student: string): boolean {
    return this.visible(user).has(student);
  }
}
