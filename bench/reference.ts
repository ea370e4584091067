import { allStudentGroupMembers, type Fixture, type ScopeRef } from './fixture.ts';

/**
 * Section 3 written plainly over the fixture: the yardstick Haven is held to before it is timed
 * (and each peer during its development). Indexed so that a single check costs microseconds even
 * on the full trust, where "who can see" asks it about a million users.
 */
export class ReferenceModel {
  readonly #groupsOfUser = new Map<string, Set<string>>();
  readonly #group = new Map<string, Fixture['userGroups'][number]>();
  readonly #studentsOfGroup = new Map<string, Set<string>>();
  readonly #schoolOf = new Map<string, string>();
  readonly #hubOf = new Map<string, string>();
  readonly #blocks = new Set<string>();
  readonly #directLinks = new Map<string, Set<string>>();
  readonly #grantsOf = new Map<string, ScopeRef[]>();

  constructor(fixture: Fixture) {
    for (const [group, students] of allStudentGroupMembers(fixture))
      this.#studentsOfGroup.set(group, new Set(students));
    for (const s of fixture.students) this.#schoolOf.set(s.key, s.school);
    for (const s of fixture.schools) this.#hubOf.set(s.key, s.hub);
    for (const b of fixture.blocks) this.#blocks.add(`${b.user}:${b.student}`);
    for (const l of fixture.directLinks) {
      const set = this.#directLinks.get(l.user) ?? new Set<string>();
      set.add(l.student);
      this.#directLinks.set(l.user, set);
    }
    for (const g of fixture.grants) {
      const key = `${g.subject.type}:${g.subject.key}`;
      this.#grantsOf.set(key, [...(this.#grantsOf.get(key) ?? []), g.scope]);
    }
    for (const g of fixture.userGroups) {
      this.#group.set(g.key, g);
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

  /** The scopes of every grant the user holds, directly or through a group. */
  #scopes(user: string): ScopeRef[] {
    return [
      ...(this.#grantsOf.get(`user:${user}`) ?? []),
      ...this.groupsOf(user).flatMap((g) => this.#grantsOf.get(`user_group:${g}`) ?? []),
    ];
  }

  /** May the user see the student: a role covering the school, a path, and no block. */
  check(user: string, student: string): boolean {
    const school = this.#schoolOf.get(student);
    if (school === undefined || this.#blocks.has(`${user}:${student}`)) return false;
    if (!this.#scopes(user).some((scope) => this.#covers(scope, school))) return false;
    if (this.#directLinks.get(user)?.has(student)) return true;
    return this.groupsOf(user).some((g) =>
      this.#group
        .get(g)!
        .links.some((link) =>
          'student' in link
            ? link.student === student
            : this.#studentsOfGroup.get(link.studentGroup)?.has(student),
        ),
    );
  }

  /** Every student the user can see. */
  visible(user: string): Set<string> {
    const scopes = this.#scopes(user);
    const reached = new Set<string>(this.#directLinks.get(user) ?? []);
    for (const g of this.groupsOf(user)) {
      for (const link of this.#group.get(g)!.links) {
        if ('student' in link) reached.add(link.student);
        else for (const s of this.#studentsOfGroup.get(link.studentGroup) ?? []) reached.add(s);
      }
    }
    return new Set(
      [...reached].filter(
        (s) =>
          !this.#blocks.has(`${user}:${s}`) &&
          scopes.some((scope) => this.#covers(scope, this.#schoolOf.get(s)!)),
      ),
    );
  }
}
