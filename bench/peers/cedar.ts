import { readFileSync } from 'node:fs';
import type {
  AuthorizationAnswer,
  DetailedError,
  EntityJson,
  PolicySet,
  TypeAndId,
} from '@cedar-policy/cedar-wasm/nodejs';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { allStudentGroupMembers, type Fixture, type ScopeRef } from '../fixture.ts';
import type { PeerEngine } from '../peer.ts';

/**
 * Haven's visibility rule in Cedar (policies: cedar.cedar, schema: cedar.cedarschema; the policy
 * file's header lists what the entity data copies or denormalises).
 *
 * Cedar keeps no entity data of its own: each request carries the entities it needs. So `load`
 * prepares the policies and schema inside Cedar (preparsed, validated) and builds indexes from
 * which each request's slice is cut: the principal with its ancestors, the resource with its
 * ancestors. Cedar makes every decision; the indexes only hold the fixture's facts.
 */

const NS = 'Haven';
const T = {
  organisation: `${NS}::Organisation`,
  hub: `${NS}::Hub`,
  school: `${NS}::School`,
  role: `${NS}::Role`,
  caseload: `${NS}::Caseload`,
  userGroup: `${NS}::UserGroup`,
  user: `${NS}::User`,
  studentGroup: `${NS}::StudentGroup`,
  student: `${NS}::Student`,
} as const;
const VIEW: TypeAndId = { type: `${NS}::Action`, id: 'view' };
/** The id of the organisation and of its Role (the fixture has one trust). */
const ORGANISATION = 'organisation';

/** One request's principal side, reused across the candidates of a lookup. */
interface PrincipalSlice {
  uid: TypeAndId;
  entities: Entity[];
  /** Also in `entities`; the resource side leaves these out (Cedar rejects duplicates). */
  caseloads: Set<Entity>;
}

const uid = (type: string, id: string): TypeAndId => ({ type, id });
/** An entity reference inside an attribute value. */
const ref = (type: string, id: string) => ({ __entity: uid(type, id) });
/** Cedar's entity, with its uid and parents always in the plain `{ type, id }` form. */
interface Entity extends EntityJson {
  uid: TypeAndId;
  parents: TypeAndId[];
}
const entity = (type: string, id: string, parents: TypeAndId[] = [], attrs = {}): Entity => ({
  uid: uid(type, id),
  attrs,
  parents,
});

/** Each peer instance preparses under its own names (Cedar caches them per thread, by name). */
let instances = 0;

export class CedarPeer implements PeerEngine {
  readonly name = 'Cedar';
  readonly modelFiles = ['bench/peers/cedar.cedar', 'bench/peers/cedar.cedarschema'];

  #policySetId = '';
  #schemaName = '';
  /** Kept as data for partial evaluation, which parses its policy set on every call. */
  #policySet: PolicySet = {};
  #schemaText = '';
  /** Template-linked policy id -> the scope it was linked to. */
  readonly #scopeOfLink = new Map<string, ScopeRef>();

  // Principal side.
  /** User -> its user groups (arrays shared between users with the same groups; copy on write). */
  readonly #groupsOfUser = new Map<string, string[]>();
  /** User -> scopes of the grants the user holds directly. */
  readonly #rolesOfUser = new Map<string, string[]>();
  readonly #userGroupEntity = new Map<string, Entity>();
  readonly #roleEntity = new Map<string, Entity>();
  readonly #caseloadEntity = new Map<string, Entity>();

  // Resource side.
  readonly #studentEntity = new Map<string, Entity>();
  /** Student -> its ancestors: student groups, school, hub, organisation. */
  readonly #studentAncestors = new Map<string, Entity[]>();
  /** Student -> the caseloads its student groups are in (ancestors too, kept apart to dedupe). */
  readonly #studentCaseloads = new Map<string, Entity[]>();
  readonly #studentsOfSchool = new Map<string, string[]>();
  readonly #schoolsOfHub = new Map<string, string[]>();
  readonly #schools: string[] = [];

  // For lookupUsers' candidates: the original members of each group; current membership is
  // what #groupsOfUser says, and the decision is Cedar's.
  readonly #holdersOfRole = new Map<string, { users: string[]; groups: string[] }>();
  readonly #membersOfGroup = new Map<string, string[]>();

  async load(fixture: Fixture): Promise<void> {
    instances += 1;
    this.#policySetId = `haven-${instances}`;
    this.#schemaName = `haven-${instances}`;
    const policyText = readFileSync(new URL('./cedar.cedar', import.meta.url), 'utf8');
    this.#schemaText = readFileSync(new URL('./cedar.cedarschema', import.meta.url), 'utf8');
    this.#loadPolicies(policyText, fixture);
    this.#loadEntities(fixture);
  }

  /** Splits the policy file into templates and static policies, links, validates, preparses. */
  #loadPolicies(text: string, fixture: Fixture) {
    const parts = cedar.policySetTextToParts(text);
    if (parts.type === 'failure') throw cedarError('policies do not parse', parts.errors);
    // Cedar names policies by position; the files name them with @id.
    const byId = (list: string[], toJson: typeof cedar.policyToJson) =>
      Object.fromEntries(
        list.map((p) => {
          const json = toJson(p);
          if (json.type === 'failure') throw cedarError('policy does not parse', json.errors);
          const id = json.json.annotations?.id;
          if (!id) throw new Error(`policy without @id: ${p}`);
          return [id, p];
        }),
      );
    const staticPolicies = byId(parts.policies, cedar.policyToJson);
    const templates = byId(parts.policy_templates, cedar.templateToJson);

    // One link per template and scope: ?principal is the scope's Role, ?resource the scope.
    const scopes: { key: string; ref: ScopeRef; entity: TypeAndId }[] = [
      {
        key: ORGANISATION,
        ref: { type: 'organisation' },
        entity: uid(T.organisation, ORGANISATION),
      },
      ...fixture.schoolGroups.map((h) => ({
        key: h.key,
        ref: { type: 'school_group' as const, key: h.key },
        entity: uid(T.hub, h.key),
      })),
      ...fixture.schools.map((s) => ({
        key: s.key,
        ref: { type: 'school' as const, key: s.key },
        entity: uid(T.school, s.key),
      })),
    ];
    const templateLinks = Object.keys(templates).flatMap((templateId) =>
      scopes.map((scope) => {
        const newId = `${templateId}@${scope.key}`;
        this.#scopeOfLink.set(newId, scope.ref);
        return {
          templateId,
          newId,
          values: { '?principal': uid(T.role, scope.key), '?resource': scope.entity },
        };
      }),
    );
    this.#policySet = { staticPolicies, templates, templateLinks };

    const validation = cedar.validate({
      schema: this.#schemaText,
      policies: this.#policySet,
      validationSettings: { mode: 'strict' },
    });
    if (validation.type === 'failure') throw cedarError('validation failed', validation.errors);
    if (validation.validationErrors.length > 0) {
      const errors = validation.validationErrors.map((e) => ({
        ...e.error,
        message: `${e.policyId}: ${e.error.message}`,
      }));
      throw cedarError('policies do not match the schema', errors);
    }
    const schema = cedar.preparseSchema(this.#schemaName, this.#schemaText);
    if (schema.type === 'failure') throw cedarError('schema does not parse', schema.errors);
    const policies = cedar.preparsePolicySet(this.#policySetId, this.#policySet);
    if (policies.type === 'failure') throw cedarError('policies do not parse', policies.errors);
  }

  #loadEntities(fixture: Fixture) {
    const scopeKey = (scope: ScopeRef) =>
      scope.type === 'organisation' ? ORGANISATION : scope.key;
    const roleUid = (key: string) => uid(T.role, key);
    for (const key of [ORGANISATION, ...fixture.schoolGroups.map((h) => h.key)]) {
      this.#roleEntity.set(key, entity(T.role, key));
    }
    for (const s of fixture.schools) this.#roleEntity.set(s.key, entity(T.role, s.key));

    // Grants: a user or user group holding a grant is a member of that scope's Role.
    const rolesOfGroup = new Map<string, string[]>();
    for (const g of fixture.grants) {
      const key = scopeKey(g.scope);
      const held = g.subject.type === 'user' ? this.#rolesOfUser : rolesOfGroup;
      const list = held.get(g.subject.key) ?? [];
      if (!list.includes(key)) list.push(key);
      held.set(g.subject.key, list);
      const holders = this.#holdersOfRole.get(key) ?? { users: [], groups: [] };
      (g.subject.type === 'user' ? holders.users : holders.groups).push(g.subject.key);
      this.#holdersOfRole.set(key, holders);
    }

    // User groups, their caseloads, and membership (interned: most users share one group list).
    const interned = new Map<string, string[]>();
    const groupsOfUser = new Map<string, string[]>();
    const linksOfStudentGroup = new Map<string, string[]>();
    const groupLinksOfStudent = new Map<string, string[]>();
    for (const g of fixture.userGroups) {
      this.#userGroupEntity.set(
        g.key,
        entity(T.userGroup, g.key, (rolesOfGroup.get(g.key) ?? []).map(roleUid)),
      );
      this.#caseloadEntity.set(g.key, entity(T.caseload, g.key));
      this.#membersOfGroup.set(g.key, g.members);
      for (const m of g.members) {
        const list = groupsOfUser.get(m);
        if (list) list.push(g.key);
        else groupsOfUser.set(m, [g.key]);
      }
      for (const link of g.links) {
        const [index, key] =
          'student' in link
            ? [groupLinksOfStudent, link.student]
            : [linksOfStudentGroup, link.studentGroup];
        index.set(key, [...(index.get(key) ?? []), g.key]);
      }
    }
    for (const [user, groups] of groupsOfUser) {
      const signature = groups.join('\n');
      const shared = interned.get(signature) ?? groups;
      interned.set(signature, shared);
      this.#groupsOfUser.set(user, shared);
    }

    // Where students are: school in hub in organisation.
    const organisation = entity(T.organisation, ORGANISATION);
    const hubEntity = new Map(
      fixture.schoolGroups.map((h) => [h.key, entity(T.hub, h.key, [organisation.uid])]),
    );
    const schoolChain = new Map<string, Entity[]>();
    for (const s of fixture.schools) {
      const hub = hubEntity.get(s.hub)!;
      schoolChain.set(s.key, [entity(T.school, s.key, [hub.uid]), hub, organisation]);
      this.#schools.push(s.key);
      this.#studentsOfSchool.set(s.key, []);
      this.#schoolsOfHub.set(s.hub, [...(this.#schoolsOfHub.get(s.hub) ?? []), s.key]);
    }

    // Student groups: members as the fixture evaluated them, links as Caseload parents.
    const groupsOfStudent = new Map<string, Entity[]>();
    const caseloadsOfStudent = new Map<string, Set<Entity>>();
    for (const [group, members] of allStudentGroupMembers(fixture)) {
      const caseloads = (linksOfStudentGroup.get(group) ?? []).map(
        (g) => this.#caseloadEntity.get(g)!,
      );
      const groupEntity = entity(
        T.studentGroup,
        group,
        caseloads.map((c) => c.uid),
      );
      for (const student of members) {
        const groups = groupsOfStudent.get(student);
        if (groups) groups.push(groupEntity);
        else groupsOfStudent.set(student, [groupEntity]);
        if (caseloads.length === 0) continue;
        const set = caseloadsOfStudent.get(student) ?? new Set();
        for (const c of caseloads) set.add(c);
        caseloadsOfStudent.set(student, set);
      }
    }

    const collect = (pairs: { user: string; student: string }[]) => {
      const index = new Map<string, ReturnType<typeof ref>[]>();
      for (const p of pairs) {
        index.set(p.student, [...(index.get(p.student) ?? []), ref(T.user, p.user)]);
      }
      return index;
    };
    const linkedUsers = collect(fixture.directLinks);
    const blockedUsers = collect(fixture.blocks);
    for (const s of fixture.students) {
      const groups = groupsOfStudent.get(s.key) ?? [];
      const chain = schoolChain.get(s.school)!;
      this.#studentEntity.set(
        s.key,
        entity(T.student, s.key, [...groups.map((g) => g.uid), chain[0]!.uid], {
          linkedUserGroups: (groupLinksOfStudent.get(s.key) ?? []).map((g) => ref(T.userGroup, g)),
          linkedUsers: linkedUsers.get(s.key) ?? [],
          blockedUsers: blockedUsers.get(s.key) ?? [],
        }),
      );
      this.#studentAncestors.set(s.key, [...groups, ...chain]);
      this.#studentCaseloads.set(s.key, [...(caseloadsOfStudent.get(s.key) ?? [])]);
      this.#studentsOfSchool.get(s.school)!.push(s.key);
    }
  }

  /** The principal and its ancestors (user groups, roles), and the caseloads it refers to. */
  #principalSlice(user: string): PrincipalSlice {
    const groups = this.#groupsOfUser.get(user) ?? [];
    const roles = new Set(this.#rolesOfUser.get(user) ?? []);
    const groupEntities = groups.map((g) => this.#userGroupEntity.get(g)!);
    for (const g of groupEntities) for (const r of g.parents) roles.add((r as TypeAndId).id);
    const caseloads = new Set(groups.map((g) => this.#caseloadEntity.get(g)!));
    const principal = entity(
      T.user,
      user,
      [
        ...groups.map((g) => uid(T.userGroup, g)),
        ...(this.#rolesOfUser.get(user) ?? []).map((r) => uid(T.role, r)),
      ],
      { caseloads: groups.map((g) => ref(T.caseload, g)) },
    );
    const entities = [
      principal,
      ...groupEntities,
      ...[...roles].map((r) => this.#roleEntity.get(r)!),
      ...caseloads,
    ];
    return { uid: principal.uid, entities, caseloads };
  }

  /** The resource and its ancestors, less the caseloads the principal's slice already has. */
  #resourceSlice(student: string, principalCaseloads: Set<Entity>): Entity[] | undefined {
    const resource = this.#studentEntity.get(student);
    if (!resource) return undefined;
    const caseloads = this.#studentCaseloads
      .get(student)!
      .filter((c) => !principalCaseloads.has(c));
    return [resource, ...this.#studentAncestors.get(student)!, ...caseloads];
  }

  /** One authorization request; policy evaluation errors throw unless `keepErrors`. */
  #authorize(principal: PrincipalSlice, student: string, keepErrors = false) {
    const resource = this.#resourceSlice(student, principal.caseloads);
    if (!resource) return undefined;
    const answer: AuthorizationAnswer = cedar.statefulIsAuthorized({
      principal: principal.uid,
      action: VIEW,
      resource: uid(T.student, student),
      context: {},
      preparsedPolicySetId: this.#policySetId,
      preparsedSchemaName: this.#schemaName,
      validateRequest: true,
      entities: [...principal.entities, ...resource],
    });
    if (answer.type === 'failure') throw cedarError('authorization failed', answer.errors);
    // A policy that errors is skipped by Cedar; here it would mean the entity data is wrong.
    if (!keepErrors && answer.response.diagnostics.errors.length > 0) {
      throw cedarError(
        'policy evaluation errors',
        answer.response.diagnostics.errors.map((e) => e.error),
      );
    }
    return answer.response;
  }

  async check(user: string, student: string): Promise<boolean> {
    return this.#authorize(this.#principalSlice(user), student)?.decision === 'allow';
  }

  /**
   * Cedar's partial evaluation with the resource unknown: the residual policies are the links
   * that may still allow for this user, i.e. the scopes where the user holds a role.
   */
  #residualsFor(principal: PrincipalSlice) {
    const answer = cedar.isAuthorizedPartial({
      principal: principal.uid,
      action: VIEW,
      resource: null,
      context: {},
      policies: this.#policySet,
      schema: this.#schemaText,
      entities: principal.entities,
    });
    if (answer.type === 'failure') throw cedarError('partial evaluation failed', answer.errors);
    return answer.response;
  }

  /**
   * Cedar has no lookup. Partial evaluation (resource unknown) leaves residuals only for the
   * links whose Role the user is in; the students of the schools those links' scopes cover are
   * the candidates, and each candidate is an ordinary authorization request. The residuals are
   * not mined for the path (which student groups): that would be answering the query in JS.
   */
  async lookupStudents(user: string): Promise<string[]> {
    const principal = this.#principalSlice(user);
    const residuals = this.#residualsFor(principal);
    const schools = new Set<string>();
    for (const id of [...residuals.nontrivialResiduals, ...residuals.satisfied]) {
      const scope = this.#scopeOfLink.get(id);
      if (!scope) continue; // the forbid: it can only take students away
      for (const s of this.#schoolsCovered(scope)) schools.add(s);
    }
    const visible: string[] = [];
    for (const school of schools) {
      for (const student of this.#studentsOfSchool.get(school)!) {
        if (this.#authorize(principal, student)?.decision === 'allow') visible.push(student);
      }
    }
    return visible;
  }

  #schoolsCovered(scope: ScopeRef): string[] {
    if (scope.type === 'organisation') return this.#schools;
    if (scope.type === 'school_group') return this.#schoolsOfHub.get(scope.key) ?? [];
    return [scope.key];
  }

  /**
   * The other way round: partial evaluation with the principal unknown leaves residuals for the
   * links whose scope covers the student; the holders of those scopes' Roles (users holding the
   * grant, and members of groups holding it) are the candidates, each authorized in turn.
   */
  async lookupUsers(student: string): Promise<string[]> {
    const resource = this.#resourceSlice(student, new Set());
    if (!resource) return [];
    const answer = cedar.isAuthorizedPartial({
      principal: null,
      action: VIEW,
      resource: uid(T.student, student),
      context: {},
      policies: this.#policySet,
      schema: this.#schemaText,
      entities: resource,
    });
    if (answer.type === 'failure') throw cedarError('partial evaluation failed', answer.errors);
    const candidates = new Set<string>();
    for (const id of [...answer.response.nontrivialResiduals, ...answer.response.satisfied]) {
      const scope = this.#scopeOfLink.get(id);
      if (!scope) continue;
      const holders = this.#holdersOfRole.get(
        scope.type === 'organisation' ? ORGANISATION : scope.key,
      );
      for (const u of holders?.users ?? []) candidates.add(u);
      for (const g of holders?.groups ?? []) {
        for (const u of this.#membersOfGroup.get(g) ?? []) candidates.add(u);
      }
    }
    const users: string[] = [];
    for (const user of candidates) {
      if (this.#authorize(this.#principalSlice(user), student)?.decision === 'allow')
        users.push(user);
    }
    return users;
  }

  /** Cedar's diagnostics: the policies that determined the decision ("<template>@<scope>"). */
  async explain(user: string, student: string): Promise<unknown> {
    const response = this.#authorize(this.#principalSlice(user), student, true);
    if (!response) return { decision: 'deny', reason: [], errors: [`no student ${student}`] };
    const { reason, errors } = response.diagnostics;
    return {
      decision: response.decision,
      reason,
      errors: errors.map((e) => `${e.policyId}: ${e.error.message}`),
    };
  }

  /** The residual policies for the user with the resource unknown: what the user may still see. */
  async effectivePermissions(user: string): Promise<unknown> {
    const residuals = this.#residualsFor(this.#principalSlice(user));
    return Object.fromEntries(
      residuals.nontrivialResiduals.map((id) => {
        const text = cedar.policyToText(residuals.residuals[id]!);
        return [id, text.type === 'success' ? text.text : text.errors];
      }),
    );
  }

  async removeMember(user: string, userGroup: string): Promise<void> {
    const groups = this.#groupsOfUser.get(user);
    // Copy on write: the array may be shared with other users.
    if (groups)
      this.#groupsOfUser.set(
        user,
        groups.filter((g) => g !== userGroup),
      );
  }

  async addMember(user: string, userGroup: string): Promise<void> {
    const groups = this.#groupsOfUser.get(user) ?? [];
    if (!groups.includes(userGroup)) this.#groupsOfUser.set(user, [...groups, userGroup]);
  }

  /** Cedar offers no way to drop a preparsed policy set or schema; the indexes go. */
  async close(): Promise<void> {
    this.#groupsOfUser.clear();
    this.#rolesOfUser.clear();
    this.#studentEntity.clear();
    this.#studentAncestors.clear();
    this.#studentCaseloads.clear();
    this.#membersOfGroup.clear();
  }
}

function cedarError(what: string, errors: DetailedError[]): Error {
  return new Error(`Cedar: ${what}: ${errors.map((e) => e.message).join('; ')}`);
}
