import type { Kysely } from 'kysely';

/** Saved Access Audit Report runs (issue 14, item 2): owned by the report helper. */
export async function up(_db: Kysely<unknown>): Promise<void> {}
