import type { Kysely } from 'kysely';

/**
 * Role overview, school-scoped oversight and the "All students" rationale (issue 14, items 4-6).
 * A link to an "All students" group keeps why it was made, as the person who confirmed it wrote
 * it (or Haven's own words for the links it makes with a school); other links may carry one too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('student_links').addColumn('rationale', 'text').execute();
}
