import type { Kysely } from 'kysely';

/** Invitations and password resets (issue 13): single-use tokens, user status. */
export async function up(_db: Kysely<unknown>): Promise<void> {}
