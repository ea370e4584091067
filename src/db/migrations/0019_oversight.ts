import type { Kysely } from 'kysely';

/** Role overview, school-scoped oversight and 'All students' rationale (issue 14, items 4-6): owned by the oversight helper. */
export async function up(_db: Kysely<unknown>): Promise<void> {}
