import type { Kysely } from 'kysely';

/** Single sign-on with OpenID Connect (issue 13). */
export async function up(_db: Kysely<unknown>): Promise<void> {}
