import { loadPrincipal, type Principal } from '../src/access/principal.ts';
import {
  planWhoCanSee,
  reachingUserIds,
  roleHolderIds,
  userSeesStudent,
} from '../src/access/visibility.ts';
import type { Fixture, Persona } from './fixture.ts';
import type { HavenOperations } from './haven-ops.ts';
import type { StudentIndex } from './listing.ts';
import type { PeerEngine } from './peer.ts';

/** The page size of every list operation, as the web app asks for it. */
export const PAGE = 50;

/** What one persona is asked, decided once from the fixture and the reference model. */
export interface PersonaPlan {
  persona: Persona;
  /** Which page the deep-page operation reads (0 when the persona sees one page or fewer). */
  deepPage: number;
  /** A user group whose loss takes the student away from the persona, if there is one. */
  revokeGroup: string | undefined;
}

/**
 * One engine as the harness sees it: every operation of the benchmark for one persona.
 * Lists answer with fixture keys, so that answers can be compared across engines.
 */
export interface Subject {
  readonly name: string;
  prepare(plan: PersonaPlan): Promise<void>;
  check(plan: PersonaPlan, student?: string): Promise<boolean>;
  /** Haven only: what each request does before it decides (grants, groups, clearances). */
  loadCaller?(plan: PersonaPlan): Promise<unknown>;
  firstPage(plan: PersonaPlan): Promise<string[]>;
  search(plan: PersonaPlan): Promise<string[]>;
  deepPage(plan: PersonaPlan): Promise<string[]>;
  /** The first page of those who can see the persona's student (user keys, sorted by key for peers). */
  whoCanSee(plan: PersonaPlan): Promise<string[]>;
  /** Everyone who can see the student (the cross-check; not timed). */
  allWhoCanSee(student: string): Promise<Set<string>>;
  /** Every student the persona sees (the cross-check; not timed). */
  allVisible(plan: PersonaPlan): Promise<Set<string>>;
  explain(plan: PersonaPlan): Promise<unknown>;
  effective(plan: PersonaPlan): Promise<unknown>;
  /** Removes the persona from its revoke group and asks again: must answer false. */
  revokeThenCheck(plan: PersonaPlan): Promise<boolean>;
  /** Puts the persona back (untimed), so that revoke-then-check can be repeated. */
  restore(plan: PersonaPlan): Promise<void>;
}

/** Haven through the functions its routes call, with each persona's principal loaded per request. */
export class HavenSubject implements Subject {
  readonly #principals = new Map<string, Principal>();
  readonly #deepCursor = new Map<string, string | undefined>();
  #owner: Principal | undefined;
  #auditor: Principal | undefined;

  constructor(
    readonly name: string,
    readonly ops: HavenOperations,
    readonly plans: PersonaPlan[],
  ) {}

  /**
   * The trust safeguarding lead asks the administrative questions (who can see, explain,
   * effective permissions): they see every child, which those questions require of the asker.
   */
  async #auditorPrincipal(): Promise<Principal> {
    const lead = this.plans.find((p) => p.persona.name === 'trust safeguarding lead')!;
    this.#auditor ??= await loadPrincipal(
      this.ops.db,
      this.ops.loaded.organisationId,
      this.ops.loaded.user.get(lead.persona.user)!,
    );
    return this.#auditor;
  }

  /** The trust's Owner makes the membership changes of revoke-then-check. */
  async #ownerPrincipal(): Promise<Principal> {
    this.#owner ??= await loadPrincipal(
      this.ops.db,
      this.ops.loaded.organisationId,
      this.ops.loaded.ownerId,
    );
    return this.#owner;
  }

  #principal(plan: PersonaPlan): Principal {
    return this.#principals.get(plan.persona.user)!;
  }

  async prepare(plan: PersonaPlan): Promise<void> {
    this.#principals.set(plan.persona.user, await this.ops.principal(plan.persona.user));
    let cursor: string | undefined;
    for (let i = 0; i < plan.deepPage; i++) {
      const page = await this.ops.page(this.#principal(plan), { limit: PAGE, cursor });
      cursor = page.nextCursor ?? undefined;
    }
    this.#deepCursor.set(plan.persona.user, cursor);
  }

  /**
   * May U see S, for a caller already loaded: the query behind `GET /students/:id`. Loading the
   * caller is timed apart (`loadCaller`); the check after a revocation reloads it, as the next
   * request does.
   */
  async check(plan: PersonaPlan, student = plan.persona.student): Promise<boolean> {
    let principal = this.#principals.get(plan.persona.user);
    if (!principal) {
      principal = await this.ops.principal(plan.persona.user);
      this.#principals.set(plan.persona.user, principal);
    }
    return this.ops.check(principal, student);
  }

  loadCaller(plan: PersonaPlan): Promise<unknown> {
    return this.ops.principal(plan.persona.user);
  }

  async firstPage(plan: PersonaPlan): Promise<string[]> {
    return (await this.ops.page(this.#principal(plan), { limit: PAGE })).keys;
  }

  async search(plan: PersonaPlan): Promise<string[]> {
    return (await this.ops.page(this.#principal(plan), { limit: PAGE, q: plan.persona.search }))
      .keys;
  }

  async deepPage(plan: PersonaPlan): Promise<string[]> {
    const cursor = this.#deepCursor.get(plan.persona.user);
    return (await this.ops.page(this.#principal(plan), { limit: PAGE, cursor })).keys;
  }

  async whoCanSee(plan: PersonaPlan): Promise<string[]> {
    const items = await this.ops.whoCanSee(
      await this.#auditorPrincipal(),
      plan.persona.student,
      PAGE,
    );
    return items.map((i) => this.#userKey(i.user.id));
  }

  #userKeys: Map<string, string> | undefined;
  #userKey(id: string): string {
    this.#userKeys ??= new Map([...this.ops.loaded.user].map(([key, v]) => [v, key]));
    return this.#userKeys.get(id) ?? id;
  }

  /** The same decision as `GET /students/:id/access`, every id at once. */
  async allWhoCanSee(student: string): Promise<Set<string>> {
    const db = this.ops.db;
    const row = await db
      .selectFrom('students')
      .select(['id', 'school_id'])
      .where('id', '=', this.ops.loaded.student.get(student)!)
      .executeTakeFirstOrThrow();
    const t = { organisationId: this.ops.loaded.organisationId };
    const target = { id: row.id, schoolId: row.school_id };
    const plan = await planWhoCanSee(db, t, target);
    let select = db
      .selectFrom('users as u')
      .select('u.id')
      .where((eb) => userSeesStudent(db, eb, t, target));
    if (plan.shape === 'holders')
      select = select.where('u.id', 'in', roleHolderIds(db, t, row.school_id));
    if (plan.shape === 'reachers')
      select = select.where('u.id', 'in', reachingUserIds(db, t, row.id));
    const rows = await select.execute();
    return new Set(rows.map((r) => this.#userKey(r.id)));
  }

  async allVisible(plan: PersonaPlan): Promise<Set<string>> {
    const keys = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await this.ops.page(this.#principal(plan), { limit: 200, cursor });
      for (const k of page.keys) keys.add(k);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return keys;
  }

  async explain(plan: PersonaPlan): Promise<unknown> {
    return this.ops.explain(
      await this.#auditorPrincipal(),
      plan.persona.user,
      plan.persona.student,
    );
  }

  async effective(plan: PersonaPlan): Promise<unknown> {
    return this.ops.effective(await this.#auditorPrincipal(), plan.persona.user);
  }

  async revokeThenCheck(plan: PersonaPlan): Promise<boolean> {
    await this.ops.removeMember(await this.#ownerPrincipal(), plan.persona.user, plan.revokeGroup!);
    const principal = await this.ops.principal(plan.persona.user);
    return this.ops.check(principal, plan.persona.student);
  }

  async restore(plan: PersonaPlan): Promise<void> {
    await this.ops.addMember(await this.#ownerPrincipal(), plan.persona.user, plan.revokeGroup!);
  }
}

/**
 * A peer engine: its own check, lookup and explain; lists are its "lookup resources" answer,
 * sorted, searched and paged the same way for every peer (StudentIndex), as an application built
 * on it would have to.
 */
export class PeerSubject implements Subject {
  constructor(
    readonly peer: PeerEngine,
    readonly index: StudentIndex,
  ) {}

  get name(): string {
    return this.peer.name;
  }

  async prepare(): Promise<void> {}

  check(plan: PersonaPlan, student = plan.persona.student): Promise<boolean> {
    return this.peer.check(plan.persona.user, student);
  }

  async firstPage(plan: PersonaPlan): Promise<string[]> {
    return this.index.page(await this.peer.lookupStudents(plan.persona.user), { limit: PAGE });
  }

  async search(plan: PersonaPlan): Promise<string[]> {
    return this.index.page(await this.peer.lookupStudents(plan.persona.user), {
      limit: PAGE,
      q: plan.persona.search,
    });
  }

  async deepPage(plan: PersonaPlan): Promise<string[]> {
    return this.index.page(await this.peer.lookupStudents(plan.persona.user), {
      limit: PAGE,
      afterIndex: plan.deepPage * PAGE,
    });
  }

  async whoCanSee(plan: PersonaPlan): Promise<string[]> {
    if (!this.peer.lookupUsers) throw new Error(`${this.name} has no lookup of users`);
    const users = await this.peer.lookupUsers(plan.persona.student);
    return users.sort().slice(0, PAGE);
  }

  async allWhoCanSee(student: string): Promise<Set<string>> {
    if (!this.peer.lookupUsers) throw new Error(`${this.name} has no lookup of users`);
    return new Set(await this.peer.lookupUsers(student));
  }

  async allVisible(plan: PersonaPlan): Promise<Set<string>> {
    return new Set(await this.peer.lookupStudents(plan.persona.user));
  }

  async explain(plan: PersonaPlan): Promise<unknown> {
    return this.peer.explain?.(plan.persona.user, plan.persona.student);
  }

  async effective(plan: PersonaPlan): Promise<unknown> {
    return this.peer.effectivePermissions?.(plan.persona.user);
  }

  async revokeThenCheck(plan: PersonaPlan): Promise<boolean> {
    await this.peer.removeMember(plan.persona.user, plan.revokeGroup!);
    return this.peer.check(plan.persona.user, plan.persona.student);
  }

  async restore(plan: PersonaPlan): Promise<void> {
    await this.peer.addMember(plan.persona.user, plan.revokeGroup!);
  }
}

/** The persona plans for a fixture: the deep page to read and the group to revoke. */
export function planPersonas(
  fixture: Fixture,
  reference: {
    check(u: string, s: string): boolean;
    visible(u: string): Set<string>;
    groupsOf(u: string): string[];
    removeMember(u: string, g: string): void;
    addMember(u: string, g: string): void;
  },
): PersonaPlan[] {
  return fixture.personas.map((persona) => {
    const pages = Math.ceil(reference.visible(persona.user).size / PAGE);
    let revokeGroup: string | undefined;
    if (reference.check(persona.user, persona.student)) {
      for (const group of reference.groupsOf(persona.user)) {
        reference.removeMember(persona.user, group);
        const denied = !reference.check(persona.user, persona.student);
        reference.addMember(persona.user, group);
        if (denied) {
          revokeGroup = group;
          break;
        }
      }
    }
    return { persona, deepPage: Math.floor(pages / 2), revokeGroup };
  });
}
