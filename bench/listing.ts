import { nameKey, nameTokens, searchTokens } from '../src/modules/students/names.ts';
import type { Fixture, FixtureStudent } from './fixture.ts';

/**
 * Pages of students for the peer engines, built the same way for each: authorization engines
 * answer "which students may this user see" (a set); sorting by family name, searching and
 * paging are done here, exactly as Haven orders and matches them.
 */
export class StudentIndex {
  readonly #byKey = new Map<string, { student: FixtureStudent; sort: string; words: string[] }>();

  constructor(fixture: Fixture) {
    for (const student of fixture.students) {
      const family = nameKey(student.familyName);
      const given = nameKey(student.givenName);
      this.#byKey.set(student.key, {
        student,
        sort: `${family}\u0000${given}\u0000${student.key}`,
        words: nameTokens({
          family_key: family,
          given_key: given,
          preferred_key: null,
          upn: student.upn,
        }),
      });
    }
  }

  /** The page of `limit` students after `after` (a sort key), from a set of visible keys. */
  page(
    keys: Iterable<string>,
    options: { limit: number; q?: string | undefined; afterIndex?: number },
  ): string[] {
    const words = searchTokens(options.q);
    const rows = [];
    for (const key of keys) {
      const entry = this.#byKey.get(key);
      if (!entry) continue;
      if (words.length > 0 && !words.every((w) => entry.words.some((t) => t.startsWith(w))))
        continue;
      rows.push(entry);
    }
    rows.sort((a, b) => (a.sort < b.sort ? -1 : a.sort > b.sort ? 1 : 0));
    const from = options.afterIndex ?? 0;
    return rows.slice(from, from + options.limit).map((r) => r.student.key);
  }
}
