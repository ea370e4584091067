import { readFileSync } from 'node:fs';
import { type Enforcer, newEnforcer, newModelFromString, type RoleManager } from 'casbin';
import { allStudentGroupMembers, type Fixture, type ScopeRef } from '../fixture.ts';
import type { PeerEngine } from '../peer.ts';

/** Node names in the policies; casbin.conf explains each relation. */
const ug = (key: string) => `ug:${key}`;
const sg = (key: string) => `sg:${key}`;
const ORGANISATION = 'organisation';
const scopeNode = (scope: ScopeRef) => (scope.type === 'organisation' ? ORGANISATION : scope.key);

/**
 * Haven's visibility rule in node-casbin: the model is casbin.conf; this class turns the fixture's
 * facts into Casbin policies one for one and asks the enforcer.
 */
export class CasbinPeer implements PeerEngine {
  readonly name = 'Casbin';
  readonly modelFiles = ['bench/peers/casbin.conf'];
  #enforcer: Enforcer | undefined;

  get #e(): Enforcer {
    if (!this.#enforcer) throw new Error('CasbinPeer: load() first');
    return this.#enforcer;
  }

  #rm(ptype: 'g' | 'g2' | 'g3'): RoleManager {
    const rm = this.#e.getNamedRoleManager(ptype);
    if (!rm) throw new Error(`CasbinPeer: no role manager for ${ptype}`);
    return rm;
  }

  async load(fixture: Fixture): Promise<void> {
    const model = newModelFromString(
      readFileSync(new URL('./casbin.conf', import.meta.url), 'utf8'),
    );
    // In memory, no adapter: the policies below are the whole state.
    const enforcer = await newEnforcer(model);

    const p: string[][] = [];
    for (const group of fixture.userGroups) {
      for (const link of group.links) {
        p.push(
          'studentGroup' in link
            ? [ug(group.key), sg(link.studentGroup), 'allow']
            : [ug(group.key), link.student, 'allow'],
        );
      }
    }
    for (const link of fixture.directLinks) p.push([link.user, link.student, 'allow']);
    for (const block of fixture.blocks) p.push([block.user, block.student, 'deny']);

    const g: string[][] = [];
    for (const group of fixture.userGroups)
      for (const member of group.members) g.push([member, ug(group.key)]);
    const roleAtScope = new Set<string>();
    for (const grant of fixture.grants) {
      const subject = grant.subject.type === 'user' ? grant.subject.key : ug(grant.subject.key);
      const role = `${grant.role}@${scopeNode(grant.scope)}`;
      g.push([subject, role]);
      if (!roleAtScope.has(role)) {
        roleAtScope.add(role);
        g.push([role, scopeNode(grant.scope)]);
      }
    }
    for (const hub of fixture.schoolGroups) g.push([ORGANISATION, hub.key]);
    for (const school of fixture.schools) g.push([school.hub, school.key]);

    const g2: string[][] = [];
    for (const [group, students] of allStudentGroupMembers(fixture))
      for (const student of students) g2.push([student, sg(group)]);
    const g3 = fixture.students.map((s) => [s.key, s.school]);

    // One batch per policy type: each add*Policies call checks every new rule against the rules
    // already held by a linear scan, so a batch into an empty type stays linear, where adding a
    // million memberships in pieces would be quadratic. Role links are built incrementally as each
    // batch lands (auto-build on): buildRoleLinks() after enableAutoBuildRoleLinks(false) would
    // rebuild every g type once per role manager, three times the work here.
    await enforcer.addPolicies(p);
    await enforcer.addNamedGroupingPolicies('g', g);
    await enforcer.addNamedGroupingPolicies('g2', g2);
    await enforcer.addNamedGroupingPolicies('g3', g3);
    this.#enforcer = enforcer;
  }

  /** The request's domain: the student's school, read from Casbin's own g3 relation. */
  async #schoolOf(student: string): Promise<string | undefined> {
    return (await this.#rm('g3').getRoles(student))[0];
  }

  /**
   * enforceSync rather than enforce: both are documented and give the same answer, but the async
   * form awaits each matcher evaluation, one microtask per policy rule, for nothing when the
   * role managers are in memory.
   */
  async #enforce(user: string, student: string): Promise<boolean> {
    const school = await this.#schoolOf(student);
    return school !== undefined && this.#e.enforceSync(user, school, student);
  }

  check(user: string, student: string): Promise<boolean> {
    return this.#enforce(user, student);
  }

  /**
   * Casbin has no "lookup resources". The nearest documented route: getImplicitPermissionsForUser
   * gives the policy rules held by the user or any role they inherit (their groups, and through
   * them nothing else, since grants carry no rules); the targets of the allowing rules, student
   * groups expanded to their students with the g2 role manager's getUsers, are the candidates;
   * then each candidate is enforced, which applies the school condition and the blocks.
   * (getImplicitUsersForRole would also expand a group, but it asks every role manager about every
   * node it meets, about a million roles for each of a group's 100,000 students at scale 1.)
   */
  async lookupStudents(user: string): Promise<string[]> {
    const candidates = new Set<string>();
    for (const [, target, eft] of await this.#e.getImplicitPermissionsForUser(user)) {
      if (eft !== 'allow' || target === undefined) continue;
      if (target.startsWith('sg:'))
        for (const student of await this.#rm('g2').getUsers(target)) candidates.add(student);
      else candidates.add(target);
    }
    const visible: string[] = [];
    for (const student of candidates) if (await this.#enforce(user, student)) visible.push(student);
    return visible;
  }

  /**
   * The mirror of lookupStudents: the rules that name the student or one of its groups
   * (getFilteredPolicy on the object field), their subjects expanded to members with the g role
   * manager's getUsers, then each candidate enforced. One shortcut, stated plainly: "All staff"
   * (a million members at scale 1) is linked to the medical-alerts group, and enforcing every
   * member would take over an hour, so candidates are first kept only if the role manager's
   * hasLink(user, school) holds. That is the matcher's own last term, so it drops no one who could
   * pass; the enforcer still makes every decision.
   */
  async lookupUsers(student: string): Promise<string[]> {
    const school = await this.#schoolOf(student);
    if (school === undefined) return [];
    const g = this.#rm('g');
    const targets = [student, ...(await this.#rm('g2').getRoles(student))];
    const candidates = new Set<string>();
    for (const target of targets) {
      for (const [subject, , eft] of await this.#e.getFilteredPolicy(1, target)) {
        if (eft !== 'allow' || subject === undefined) continue;
        if (subject.startsWith('ug:'))
          for (const member of await g.getUsers(subject)) candidates.add(member);
        else candidates.add(subject);
      }
    }
    const users: string[] = [];
    for (const user of candidates) {
      if ((await g.hasLink(user, school)) && this.#e.enforceSync(user, school, student))
        users.push(user);
    }
    return users;
  }

  /** enforceEx's account: the decision and the policy rule that decided it (a link or a block). */
  async explain(user: string, student: string): Promise<unknown> {
    const school = await this.#schoolOf(student);
    if (school === undefined)
      return { allowed: false, request: [user, null, student], matchedRule: [] };
    const [allowed, matchedRule] = this.#e.enforceExSync(user, school, student);
    return { allowed, request: [user, school, student], matchedRule };
  }

  /** The user's implicit roles (groups, roles at scopes, the scopes they cover) and the rules they hold. */
  async effectivePermissions(user: string): Promise<unknown> {
    return {
      roles: await this.#e.getImplicitRolesForUser(user),
      permissions: await this.#e.getImplicitPermissionsForUser(user),
    };
  }

  async removeMember(user: string, userGroup: string): Promise<void> {
    // Removes the g rule and, with auto-build on, the role link the next enforce walks.
    await this.#e.deleteRoleForUser(user, ug(userGroup));
  }

  async addMember(user: string, userGroup: string): Promise<void> {
    await this.#e.addRoleForUser(user, ug(userGroup));
  }

  async close(): Promise<void> {
    this.#enforcer = undefined;
  }
}
