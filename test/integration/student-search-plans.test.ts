import { CompiledQuery } from 'kysely';
import { describe, expect, it } from 'vitest';
import { viewerOf } from '../../src/access/decide.ts';
import { loadPrincipal } from '../../src/access/principal.ts';
import {
  applyStudentFilter,
  planStudentPage,
  visibleStudents,
} from '../../src/modules/students/repository.ts';
import { createStudent, setupOrganisation } from '../support/factories.ts';
import { useHaven } from '../support/haven.ts';

/** The page-shape rule of `planStudentPage` for a searched page, restated to hold the cap to it. */
function shapeFor(reach: number, matches: number): string {
  if (matches <= 4000 && matches <= reach) return 'search';
  if (reach <= 4000) return 'reach';
  if (matches < reach / 4) return 'search';
  return 'walk or scan';
}

describe('student search plans (issue 17, item 5)', () => {
  const haven = useHaven();

  it('counts a search through the organisation’s token index, and caps the planner’s count without changing its choice', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const child = await createStudent(h, org.ownerToken, {
      schoolId: org.schoolId,
      givenName: 'Mabel',
      familyName: 'Quist',
    });
    const db = h.database.db;
    // Many words starting "m" for one child: more than the planner needs to count.
    const word = (i: number) => `m${String(i).padStart(5, '0')}`;
    const extra = Array.from({ length: 4600 }, (_, i) => ({
      organisation_id: org.organisationId,
      student_id: child,
      token: word(i),
      family_key: 'quist',
      given_key: 'mabel',
      school_id: org.schoolId,
      on_roll: 1,
      prior_token: i === 0 ? null : word(i - 1),
    }));
    for (let i = 0; i < extra.length; i += 500)
      await db
        .insertInto('student_name_tokens')
        .values(extra.slice(i, i + 500))
        .execute();
    const full = async (from: string) =>
      Number(
        (
          await db
            .selectFrom('student_name_tokens')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('organisation_id', '=', org.organisationId)
            .where('token', '>=', from)
            .where('token', '<', `${from}\uffff`)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const t = { organisationId: org.organisationId };
    const viewer = viewerOf(await loadPrincipal(db, org.organisationId, org.ownerId));

    for (const word of ['m', 'qui', 'zzz']) {
      const plan = await planStudentPage(db, t, viewer, { words: [word], walk: null, limit: 50 });
      const exact = await full(word);
      const cap = Math.max(4000, Math.floor(plan.reach / 4)) + 1;
      expect(plan.matches).toBe(Math.min(exact, cap));
      expect(shapeFor(plan.reach, plan.matches!)).toBe(shapeFor(plan.reach, exact));
    }
    expect(await full('m')).toBeGreaterThan(4001);

    // The count of a search names the organisation, so the token index can be sought.
    if (h.db.engine === 'postgres') await sql_analyze(db);
    const query = applyStudentFilter(
      visibleStudents(db, t, viewer).select((eb) => eb.fn.countAll<number>().as('n')),
      { q: 'qui' },
    ).compile();
    expect(query.sql).toMatch(/"nt"\."organisation_id" = "s"\."organisation_id"/);
    const explain = h.db.engine === 'postgres' ? 'explain' : 'explain query plan';
    const plan = await db.executeQuery(
      CompiledQuery.raw(`${explain} ${query.sql}`, [...query.parameters]),
    );
    const text = (plan.rows as Record<string, unknown>[])
      .map((r) => Object.values(r).join(' '))
      .join('\n');
    expect(text).not.toMatch(/Seq Scan on student_name_tokens|SCAN nt\b/);
    expect(text).toMatch(
      h.db.engine === 'postgres'
        ? /student_name_tokens_by_token on student_name_tokens nt[^\n]*\n\s*Index Cond: \(\(organisation_id = /
        : /SEARCH nt [^\n]*student_name_tokens_by_token \(organisation_id=\? AND token/,
    );
  });
});

async function sql_analyze(db: import('kysely').Kysely<any>) {
  await db.executeQuery(CompiledQuery.raw('analyze student_name_tokens'));
}
