import type { Kysely } from 'kysely';
import { viewerOf } from '../src/access/decide.ts';
import { loadPrincipal, type Principal } from '../src/access/principal.ts';
import type { Database } from '../src/db/database.ts';
import type { DB } from '../src/db/tables.ts';
import { AccessService } from '../src/modules/access/service.ts';
import { findVisibleStudent } from '../src/modules/students/repository.ts';
import { StudentService } from '../src/modules/students/service.ts';
import { UserGroupService } from '../src/modules/user-groups/service.ts';
import type { Loaded } from './load-haven.ts';

/**
 * Haven's side of every benchmark operation, through the functions the API's routes call
 * (the HTTP layer itself is measured separately, with autocannon).
 */
export class HavenOperations {
  readonly students: StudentService;
  readonly access: AccessService;
  readonly userGroups: UserGroupService;
  readonly #principals = new Map<string, Principal>();

  constructor(
    readonly database: Database,
    readonly loaded: Loaded,
  ) {
    this.students = new StudentService(database);
    this.access = new AccessService(database, { mfaWindowMs: 15 * 60_000 });
    this.userGroups = new UserGroupService(database);
  }

  get db(): Kysely<DB> {
    return this.database.db;
  }

  /** The caller as each request loads it (grants, clearances, school groups: no cache). */
  async principal(userKey: string): Promise<Principal> {
    const id = this.loaded.user.get(userKey)!;
    const principal = await loadPrincipal(this.db, this.loaded.organisationId, id);
    this.#principals.set(userKey, principal);
    return principal;
  }

  /** May U see S: the check behind `GET /students/:id`, for a caller whose principal is loaded. */
  async check(principal: Principal, studentKey: string): Promise<boolean> {
    const row = await findVisibleStudent(
      this.db,
      { organisationId: this.loaded.organisationId },
      viewerOf(principal),
      this.loaded.student.get(studentKey)!,
    );
    return row !== undefined;
  }

  async page(principal: Principal, options: { limit: number; q?: string; cursor?: string }) {
    const page = await this.students.list(principal, {
      limit: options.limit,
      q: options.q,
      cursor: options.cursor,
    });
    return {
      keys: page.items.map((s) => this.loaded.studentKey.get(s.id)!),
      nextCursor: page.nextCursor,
    };
  }

  async whoCanSee(asker: Principal, studentKey: string, limit = 50) {
    const page = await this.access.whoCanSee(asker, this.loaded.student.get(studentKey)!, {
      limit,
    });
    return page.items;
  }

  /** Everyone who can see S, following every page. */
  async allWhoCanSee(asker: Principal, studentKey: string): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.access.whoCanSee(asker, this.loaded.student.get(studentKey)!, {
        limit: 200,
        cursor,
      });
      ids.push(...page.items.map((i) => i.user.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return ids;
  }

  explain(asker: Principal, userKey: string, studentKey: string) {
    return this.access.explain(asker, {
      userId: this.loaded.user.get(userKey)!,
      studentId: this.loaded.student.get(studentKey)!,
    });
  }

  effective(asker: Principal, userKey: string) {
    return this.access.effective(asker, this.loaded.user.get(userKey)!, undefined);
  }

  async removeMember(asker: Principal, userKey: string, groupKey: string) {
    await this.userGroups.edit(
      asker,
      this.loaded.userGroup.get(groupKey)!,
      { organisationId: this.loaded.organisationId, userId: asker.userId, via: 'api' },
      (editor) => editor.removeMembers([this.loaded.user.get(userKey)!]),
    );
  }

  async addMember(asker: Principal, userKey: string, groupKey: string) {
    await this.userGroups.edit(
      asker,
      this.loaded.userGroup.get(groupKey)!,
      { organisationId: this.loaded.organisationId, userId: asker.userId, via: 'api' },
      (editor) => editor.addMembers([this.loaded.user.get(userKey)!]),
    );
  }
}
