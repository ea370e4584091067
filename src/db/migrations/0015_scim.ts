import type { Kysely } from 'kysely';

/** SCIM 2.0 provisioning (issue 13). */
export async function up(_db: Kysely<unknown>): Promise<void> {}
