import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateTo, migrateToLatest } from '../../src/db/migrate.ts';
import { pageOfVisibleStudents } from '../../src/modules/students/repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('migrations keep what is there', () => {
  let test: TestDatabase | undefined;
  afterEach(async () => {
    await test?.dispose();
    test = undefined;
  });

  it('migrates a second installation beside a first in the same database (PostgreSQL schemas)', async () => {
    test = await createTestDatabase();
    const second = await createTestDatabase();
    try {
      // Each has its own tables and its own record of the migrations it ran.
      const rows = await second.database.db.selectFrom('students').select('id').execute();
      expect(rows).toEqual([]);
      expect((await migrateToLatest(second.database.db)).applied).toEqual([]);
    } finally {
      await second.dispose();
    }
  });

  it('0006 gives every search word its student sort keys, and searches read them in name order', async () => {
    test = await createTestDatabase({ migrate: false });
    const db = test.database.db;
    await migrateTo(db, '0005_documents');
    const now = '2026-11-01T09:00:00.000Z';
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

    expect((await migrateToLatest(db)).applied).toContain('0006_search_in_name_order');

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
});
