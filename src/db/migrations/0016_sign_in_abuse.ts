import type { Kysely } from 'kysely';

/**
 * Failed sign-ins are also counted per client address across emails (issue 13, item 6): each
 * check reads the address's attempts within the window, newest first, as it reads the email's.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('login_attempts_by_ip')
    .on('login_attempts')
    .columns(['ip', 'at'])
    .execute();
}
