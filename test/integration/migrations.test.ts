import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateTo, migrateToLatest, migrationNames } from '../../src/db/migrate.ts';
import { pageOfVisibleStudents } from '../../src/modules/students/repository.ts';
import {
  createTestDatabase,
  type TestDatabase,
  testEngine,
  whileNoSchemaIsDropped,
} from '../support/database.ts';

const now = '2026-11-01T09:00:00.000Z';

/** Organisations as a migration's test needs them, written as rows (the services are newer). */
async function organisations(db: TestDatabase['database']['db'], ids: readonly string[]) {
  for (const org of ids) {
    await db
      .insertInto('organisations')
      .values({ id: org, name: `Trust ${org}`, created_at: now, updated_at: now } as never)
      .execute();
  }
}

describe('migrations keep what is there', () => {
  let test: TestDatabase | undefined;
  afterEach(async () => {
    await test?.dispose();
    test = undefined;
  });

  /** A database brought to the migration just before `name`, to test `name` on it. */
  async function justBefore(name: string) {
    test = await createTestDatabase({ migrate: false });
    const db = test.database.db;
    const before = migrationNames[migrationNames.indexOf(name) - 1]!;
    await whileNoSchemaIsDropped(() => migrateTo(db, before));
    return db;
  }

  it('migrates a second installation beside a first in the same database (PostgreSQL schemas)', async () => {
    test = await createTestDatabase();
    const second = await createTestDatabase();
    try {
      // Each has its own tables and its own record of the migrations it ran.
      const rows = await second.database.db.selectFrom('students').select('id').execute();
      expect(rows).toEqual([]);
      expect(
        (await whileNoSchemaIsDropped(() => migrateToLatest(second.database.db))).applied,
      ).toEqual([]);
    } finally {
      await second.dispose();
    }
  });

  it('0006 gives every search word its student sort keys, and searches read them in name order', async () => {
    test = await createTestDatabase({ migrate: false });
    const db = test.database.db;
    await whileNoSchemaIsDropped(() => migrateTo(db, '0005_documents'));
    await db
      .insertInto('organisations')
      .values({ id: 'o1', name: 'Trust', created_at: now, updated_at: now } as never)
      .execute();
    await db
      .insertInto('schools')
      .values({
        id: 'k1',
        organisation_id: 'o1',
        name: 'Oak',
        created_at: now,
        updated_at: now,
      } as never)
      .execute();
    const students = [
      { id: 's1', given: 'Zara', family: 'Smith' },
      { id: 's2', given: 'Amy', family: 'Smithson' },
      { id: 's3', given: 'Sam', family: 'Jones' },
    ];
    for (const s of students) {
      await db
        .insertInto('students')
        .values({
          id: s.id,
          organisation_id: 'o1',
          school_id: 'k1',
          given_name: s.given,
          family_name: s.family,
          given_key: s.given.toLowerCase(),
          family_key: s.family.toLowerCase(),
          created_at: now,
          updated_at: now,
        } as never)
        .execute();
      // The words as 0002 wrote them: no sort keys.
      for (const token of [s.given.toLowerCase(), s.family.toLowerCase()])
        await sql`insert into student_name_tokens (organisation_id, student_id, token) values ('o1', ${s.id}, ${token})`.execute(
          db,
        );
    }

    expect((await whileNoSchemaIsDropped(() => migrateToLatest(db))).applied).toContain(
      '0006_search_in_name_order',
    );

    const tokens = await db
      .selectFrom('student_name_tokens')
      .select(['student_id', 'token', 'family_key', 'given_key'])
      .orderBy('student_id')
      .orderBy('token')
      .execute();
    expect(tokens).toEqual([
      { student_id: 's1', token: 'smith', family_key: 'smith', given_key: 'zara' },
      { student_id: 's1', token: 'zara', family_key: 'smith', given_key: 'zara' },
      { student_id: 's2', token: 'amy', family_key: 'smithson', given_key: 'amy' },
      { student_id: 's2', token: 'smithson', family_key: 'smithson', given_key: 'amy' },
      { student_id: 's3', token: 'jones', family_key: 'jones', given_key: 'sam' },
      { student_id: 's3', token: 'sam', family_key: 'jones', given_key: 'sam' },
    ]);

    // A direct link lets one user see all three; the search reads the migrated words.
    await db
      .insertInto('users')
      .values({
        id: 'u1',
        organisation_id: 'o1',
        email: 'u1@example.org',
        name: 'U',
        created_at: now,
        updated_at: now,
      } as never)
      .execute();
    await db
      .insertInto('student_links')
      .values(
        students.map(
          (s, i) =>
            ({
              id: `l${i}`,
              organisation_id: 'o1',
              user_id: 'u1',
              student_id: s.id,
              valid_from: now,
            }) as never,
        ),
      )
      .execute();
    const page = await pageOfVisibleStudents(
      db,
      { organisationId: 'o1' },
      { userId: 'u1', schools: ['k1'] },
      { limit: 10, q: 's', shape: 'search' },
    );
    expect(page.map((s) => s.id)).toEqual(['s3', 's1', 's2']);
  });

  it('0007 gives each earlier revision the school, sensitivity, subject and children it had', async () => {
    const db = await justBefore('0007_revision_shapes');
    const insert = (table: string, values: Record<string, unknown>) =>
      db
        .insertInto(table as never)
        .values(values as never)
        .execute();
    await organisations(db, ['o1']);
    await insert('schools', {
      id: 'k1',
      organisation_id: 'o1',
      name: 'Oak',
      created_at: now,
      updated_at: now,
    });
    for (const u of ['u1', 'u2'])
      await insert('users', {
        id: u,
        organisation_id: 'o1',
        email: `${u}@oak.test`,
        name: u,
        created_at: now,
        updated_at: now,
      });
    for (const s of ['s1', 's2'])
      await insert('students', {
        id: s,
        organisation_id: 'o1',
        school_id: 'k1',
        given_name: s,
        family_name: s,
        family_key: s,
        given_key: s,
        created_at: now,
        updated_at: now,
      });
    for (const [id, sensitivity] of [
      ['c1', 'child_protection'],
      ['c2', 'standard'],
    ])
      await insert('categories', {
        id,
        organisation_id: 'o1',
        school_id: 'k1',
        name: id,
        sensitivity,
        created_at: now,
      });
    await insert('incidents', {
      id: 'i1',
      organisation_id: 'o1',
      school_id: 'k1',
      category_id: 'c2',
      sensitivity: 'standard',
      occurred_at: now,
      description: 'Now standard',
      status: 'open',
      reporter_id: 'u1',
      revision: 3,
      created_at: now,
      updated_at: now,
    });
    await insert('incident_students', { incident_id: 'i1', student_id: 's1' });
    const snapshot = (fields: Record<string, unknown>) =>
      JSON.stringify({
        occurredAt: now,
        location: null,
        description: 'x',
        status: 'open',
        ...fields,
      });
    // An allegation about u2 naming both children; then a version whose snapshot has no
    // sensitivity of its own, read from its category.
    await insert('incident_revisions', {
      incident_id: 'i1',
      revision: 1,
      snapshot: snapshot({
        categoryId: 'c1',
        sensitivity: 'allegation',
        subjectUserId: 'u2',
        studentIds: ['s1', 's2'],
      }),
      changed_by: 'u1',
      changed_at: now,
    });
    await insert('incident_revisions', {
      incident_id: 'i1',
      revision: 2,
      snapshot: snapshot({ categoryId: 'c1', subjectUserId: null, studentIds: ['s1'] }),
      changed_by: 'u1',
      changed_at: now,
    });

    expect((await whileNoSchemaIsDropped(() => migrateToLatest(db))).applied).toContain(
      '0007_revision_shapes',
    );

    const shapes = await db
      .selectFrom('incident_revisions')
      .select(['revision', 'school_id', 'sensitivity', 'subject_user_id'])
      .orderBy('revision')
      .execute();
    expect(shapes).toEqual([
      { revision: 1, school_id: 'k1', sensitivity: 'allegation', subject_user_id: 'u2' },
      { revision: 2, school_id: 'k1', sensitivity: 'child_protection', subject_user_id: null },
    ]);
    const children = await db
      .selectFrom('incident_revision_students')
      .select(['revision', 'student_id'])
      .orderBy('revision')
      .orderBy('student_id')
      .execute();
    expect(children).toEqual([
      { revision: 1, student_id: 's1' },
      { revision: 1, student_id: 's2' },
      { revision: 2, student_id: 's1' },
    ]);
  });

  it("0008 homes existing user groups at the organisation, and each school's own team at its school", async () => {
    const db = await justBefore('0008_user_group_home');
    await organisations(db, ['o1', 'o2']);
    for (const [school, org] of [
      ['k1', 'o1'],
      ['k2', 'o1'],
      ['k3', 'o2'],
    ]) {
      await db
        .insertInto('schools')
        .values({
          id: school,
          organisation_id: org,
          name: school,
          created_at: now,
          updated_at: now,
        } as never)
        .execute();
    }
    const groups = [
      { id: 'g1', org: 'o1', key: 'safeguarding_team:k1' },
      { id: 'g2', org: 'o1', key: 'safeguarding_team:k2' },
      { id: 'g3', org: 'o1', key: null },
      { id: 'g4', org: 'o2', key: 'safeguarding_team:k3' },
      // A key naming another organisation's school is not taken at its word.
      { id: 'g5', org: 'o2', key: 'safeguarding_team:k1' },
    ];
    for (const g of groups) {
      await db
        .insertInto('user_groups')
        .values({
          id: g.id,
          organisation_id: g.org,
          name: g.id,
          system_key: g.key,
          created_at: now,
          updated_at: now,
        } as never)
        .execute();
    }
    await db
      .insertInto('role_grants')
      .values({
        id: 'r1',
        organisation_id: 'o1',
        user_group_id: 'g3',
        role: 'viewer',
        scope_type: 'school',
        scope_id: 'k1',
        valid_from: now,
      } as never)
      .execute();

    expect((await whileNoSchemaIsDropped(() => migrateToLatest(db))).applied).toContain(
      '0008_user_group_home',
    );

    const homes = await db
      .selectFrom('user_groups')
      .select(['id', 'home_scope_type', 'home_scope_id'])
      // The test's own groups: 0011 adds each school's Allegations group.
      .where('id', 'in', ['g1', 'g2', 'g3', 'g4', 'g5'])
      .orderBy('id')
      .execute();
    expect(homes).toEqual([
      { id: 'g1', home_scope_type: 'school', home_scope_id: 'k1' },
      { id: 'g2', home_scope_type: 'school', home_scope_id: 'k2' },
      { id: 'g3', home_scope_type: 'organisation', home_scope_id: 'o1' },
      { id: 'g4', home_scope_type: 'school', home_scope_id: 'k3' },
      { id: 'g5', home_scope_type: 'organisation', home_scope_id: 'o2' },
    ]);
    const grant = await db
      .selectFrom('role_grants')
      .select(['id', 'reason'])
      .executeTakeFirstOrThrow();
    expect(grant).toEqual({ id: 'r1', reason: null });
  });

  it('0009 makes email unique per organisation, keeping every user, index and foreign key', async () => {
    const db = await justBefore('0009_email_per_organisation');
    await organisations(db, ['o1', 'o2']);
    const user = (id: string, org: string, email: string, extra: object = {}) => ({
      id,
      organisation_id: org,
      email,
      name: `User ${id}`,
      password_hash: null,
      created_at: now,
      updated_at: now,
      disabled_at: null,
      removed_at: null,
      ...extra,
    });
    const users = [
      user('u1', 'o1', 'ada@school.test', { password_hash: 'hash-1' }),
      user('u2', 'o1', 'bea@school.test', { disabled_at: now }),
      user('u3', 'o2', 'cal@school.test', { removed_at: now }),
    ];
    await db.insertInto('users').values(users).execute();
    // Before: one address, one account on the whole installation.
    await expect(
      db
        .insertInto('users')
        .values(user('u4', 'o2', 'ada@school.test'))
        .execute(),
    ).rejects.toThrow();
    await db
      .insertInto('sessions')
      .values({
        id: 's1',
        token_hash: 't1',
        user_id: 'u1',
        organisation_id: 'o1',
        csrf_token: 'c1',
        created_at: now,
        last_seen_at: now,
        expires_at: now,
      } as never)
      .execute();
    await db
      .insertInto('role_grants')
      .values({
        id: 'r1',
        organisation_id: 'o1',
        user_id: 'u1',
        granted_by: 'u2',
        role: 'admin',
        scope_type: 'organisation',
        scope_id: 'o1',
        valid_from: now,
      } as never)
      .execute();

    expect((await whileNoSchemaIsDropped(() => migrateToLatest(db))).applied).toContain(
      '0009_email_per_organisation',
    );

    // The columns 0009 knew (later migrations add more).
    const columns = Object.keys(users[0]!) as (keyof (typeof users)[0])[];
    expect(await db.selectFrom('users').select(columns).orderBy('id').execute()).toEqual(users);
    expect(
      await db.selectFrom('role_grants').select(['id', 'user_id', 'granted_by']).execute(),
    ).toEqual([{ id: 'r1', user_id: 'u1', granted_by: 'u2' }]);
    const engine = testEngine();
    const indexes =
      engine === 'postgres'
        ? (
            await sql<{ name: string }>`
              select indexname as name from pg_indexes
              where schemaname = current_schema() and tablename = 'users'`.execute(db)
          ).rows
        : (
            await sql<{ name: string }>`
              select name from sqlite_master where type = 'index' and tbl_name = 'users'
                and sql is not null`.execute(db)
          ).rows;
    expect(indexes.map((i) => i.name)).toEqual(
      expect.arrayContaining(['users_org_name', 'users_org_email']),
    );
    if (engine === 'sqlite') {
      const { rows } = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db);
      expect(rows[0]?.foreign_keys).toBe(1);
      expect((await sql`pragma foreign_key_check`.execute(db)).rows).toEqual([]);
    }

    // Another organisation may hold the same address; one organisation may not hold it twice.
    await db
      .insertInto('users')
      .values(user('u4', 'o2', 'ada@school.test'))
      .execute();
    await expect(
      db
        .insertInto('users')
        .values(user('u5', 'o1', 'ada@school.test'))
        .execute(),
    ).rejects.toThrow();
    // A removed user's address stays reserved in its organisation.
    await expect(
      db
        .insertInto('users')
        .values(user('u6', 'o2', 'cal@school.test'))
        .execute(),
    ).rejects.toThrow();
    // The foreign keys into users still hold against the rebuilt table.
    await expect(db.deleteFrom('users').where('id', '=', 'u1').execute()).rejects.toThrow();
    await expect(
      db
        .insertInto('sessions')
        .values({
          id: 's2',
          token_hash: 't2',
          user_id: 'nobody',
          organisation_id: 'o1',
          csrf_token: 'c2',
          created_at: now,
          last_seen_at: now,
          expires_at: now,
        } as never)
        .execute(),
    ).rejects.toThrow();
  });
});

describe('migrations of notifications', () => {
  let test: TestDatabase | undefined;
  afterEach(async () => {
    await test?.dispose();
    test = undefined;
  });

  it('0010 keeps every alert and its states, and 0012 gives existing schools the default rules', async () => {
    test = await createTestDatabase({ migrate: false });
    const db = test.database.db;
    await whileNoSchemaIsDropped(() => migrateTo(db, '0009_email_per_organisation'));
    await organisations(db, ['o1']);
    const row = (table: string, values: object) =>
      db
        .insertInto(table as never)
        .values(values as never)
        .execute();
    await row('schools', {
      id: 's1',
      organisation_id: 'o1',
      name: 'Oak',
      settings: '{}',
      created_at: now,
      updated_at: now,
    });
    await row('users', {
      id: 'u1',
      organisation_id: 'o1',
      email: 'a@s.test',
      name: 'Ada',
      password_hash: null,
      created_at: now,
      updated_at: now,
    });
    await row('user_groups', {
      id: 'g1',
      organisation_id: 'o1',
      name: 'Safeguarding Team (Oak)',
      description: '',
      rationale: '',
      system_key: 'safeguarding_team:s1',
      home_scope_type: 'school',
      home_scope_id: 's1',
      member_count: 0,
      created_at: now,
      updated_at: now,
    });
    for (const [id, sensitivity] of [
      ['c1', 'child_protection'],
      ['c2', 'standard'],
      ['c3', 'allegation'],
    ])
      await row('categories', {
        id,
        organisation_id: 'o1',
        school_id: 's1',
        name: id,
        sensitivity,
        created_at: now,
      });
    await row('incidents', {
      id: 'i1',
      organisation_id: 'o1',
      school_id: 's1',
      category_id: 'c2',
      sensitivity: 'standard',
      occurred_at: now,
      description: 'x',
      status: 'open',
      reporter_id: 'u1',
      revision: 1,
      created_at: now,
      updated_at: now,
    });
    await row('alerts', {
      id: 'a1',
      organisation_id: 'o1',
      recipient_type: 'user',
      recipient_id: 'u1',
      kind: 'incident_assigned',
      incident_id: 'i1',
      action_id: null,
      created_at: now,
    });
    await row('alert_states', { alert_id: 'a1', user_id: 'u1', read_at: now, dismissed_at: null });

    await whileNoSchemaIsDropped(() => migrateToLatest(db));

    expect(
      await db.selectFrom('alerts').select(['id', 'kind', 'incident_id', 'message']).execute(),
    ).toEqual([{ id: 'a1', kind: 'incident_assigned', incident_id: 'i1', message: null }]);
    expect(await db.selectFrom('alert_states').select(['alert_id', 'read_at']).execute()).toEqual([
      { alert_id: 'a1', read_at: now },
    ]);
    // The new kinds; only a security alert is without a record; unknown kinds are still refused.
    await row('alerts', {
      id: 'a2',
      organisation_id: 'o1',
      recipient_type: 'user',
      recipient_id: 'u1',
      kind: 'security',
      incident_id: null,
      action_id: null,
      created_at: now,
      message: 'Granted',
    });
    await expect(
      row('alerts', {
        id: 'a3',
        organisation_id: 'o1',
        recipient_type: 'user',
        recipient_id: 'u1',
        kind: 'incident_logged',
        incident_id: null,
        action_id: null,
        created_at: now,
      }),
    ).rejects.toThrow();
    await expect(
      row('alerts', {
        id: 'a4',
        organisation_id: 'o1',
        recipient_type: 'user',
        recipient_id: 'u1',
        kind: 'gossip',
        incident_id: 'i1',
        action_id: null,
        created_at: now,
      }),
    ).rejects.toThrow();
    // The foreign keys into and out of the rebuilt table still hold.
    await expect(db.deleteFrom('alerts').where('id', '=', 'a1').execute()).rejects.toThrow();
    await expect(
      row('alerts', {
        id: 'a5',
        organisation_id: 'o1',
        recipient_type: 'user',
        recipient_id: 'u1',
        kind: 'incident_logged',
        incident_id: 'nope',
        action_id: null,
        created_at: now,
      }),
    ).rejects.toThrow();

    const allegations = await db
      .selectFrom('user_groups')
      .select('id')
      .where('system_key', '=', 'allegations:s1')
      .executeTakeFirstOrThrow();
    const rules = await db
      .selectFrom('notification_rules')
      .select(['category_id', 'recipient_id', 'channel'])
      .orderBy('category_id')
      .orderBy('channel')
      .execute();
    expect(rules).toEqual([
      { category_id: 'c1', recipient_id: 'g1', channel: 'alert' },
      { category_id: 'c1', recipient_id: 'g1', channel: 'immediate_email' },
      { category_id: 'c2', recipient_id: 'g1', channel: 'digest_email' },
      { category_id: 'c3', recipient_id: allegations.id, channel: 'alert' },
      { category_id: 'c3', recipient_id: allegations.id, channel: 'immediate_email' },
    ]);
  });
});

describe('migrations of accounts', () => {
  let test: TestDatabase | undefined;
  afterEach(async () => {
    await test?.dispose();
    test = undefined;
  });

  async function justBefore(name: string) {
    test = await createTestDatabase({ migrate: false });
    const db = test.database.db;
    await whileNoSchemaIsDropped(() =>
      migrateTo(db, migrationNames[migrationNames.indexOf(name) - 1]!),
    );
    return db;
  }

  it('0013 counts users with a password as active, and takes their last sign-in from their sessions', async () => {
    const db = await justBefore('0013_accounts');
    await organisations(db, ['o1']);
    const later = '2026-11-20T08:30:00.000Z';
    const user = (id: string, password: string | null) =>
      db
        .insertInto('users')
        .values({
          id,
          organisation_id: 'o1',
          email: `${id}@s.test`,
          name: id,
          password_hash: password,
          created_at: now,
          updated_at: now,
        } as never)
        .execute();
    await user('u1', 'argon2-hash');
    await user('u2', null);
    for (const [id, at] of [
      ['s1', now],
      ['s2', later],
    ] as const)
      await db
        .insertInto('sessions')
        .values({
          id,
          token_hash: `hash-${id}`,
          user_id: 'u1',
          organisation_id: 'o1',
          csrf_token: 'c',
          created_at: at,
          last_seen_at: at,
          expires_at: '2026-12-01T00:00:00.000Z',
        } as never)
        .execute();

    expect((await whileNoSchemaIsDropped(() => migrateToLatest(db))).applied).toContain(
      '0013_accounts',
    );

    expect(
      await db
        .selectFrom('users')
        .select(['id', 'activated_at', 'last_sign_in_at'])
        .orderBy('id')
        .execute(),
    ).toEqual([
      { id: 'u1', activated_at: now, last_sign_in_at: later },
      { id: 'u2', activated_at: null, last_sign_in_at: null },
    ]);
    const token = (id: string, hash: string, purpose: string) =>
      db
        .insertInto('account_tokens')
        .values({
          id,
          organisation_id: 'o1',
          user_id: 'u2',
          purpose,
          token_hash: hash,
          created_at: now,
          expires_at: later,
        } as never)
        .execute();
    await token('t1', 'h1', 'invitation');
    // One row per hash, and only the two purposes.
    await expect(token('t2', 'h1', 'password_reset')).rejects.toThrow();
    await expect(token('t3', 'h3', 'anything')).rejects.toThrow();
  });
});
