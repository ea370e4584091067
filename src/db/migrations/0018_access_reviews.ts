import type { Kysely } from 'kysely';

/** Termly access reviews (issue 14, item 3): owned by the reviews helper. */
export async function up(_db: Kysely<unknown>): Promise<void> {}
