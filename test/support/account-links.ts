import { afterEach, beforeEach, expect } from 'vitest';
import { startHaven, type TestHaven } from './haven.ts';
import { type ReceivedEmail, TestSmtpServer } from './smtp.ts';

export const PUBLIC_URL = 'https://haven.school.example';

/**
 * A Haven sending email to a real SMTP server started for each test (`mail.smtp`), as the
 * invitation and password reset tests need it. `work` is one pass of the notification worker.
 */
export function useHavenWithMail(overrides: Record<string, string> = {}) {
  const mail: { h?: TestHaven; smtp?: TestSmtpServer } = {};
  beforeEach(async () => {
    mail.smtp = await new TestSmtpServer().start();
    mail.h = await startHaven({
      HAVEN_SMTP_URL: mail.smtp.url,
      HAVEN_MAIL_FROM: 'Haven <haven@school.example>',
      HAVEN_PUBLIC_URL: PUBLIC_URL,
      HAVEN_MAIL_RETRY_BASE_MS: '1000',
      HAVEN_MAIL_MAX_ATTEMPTS: '2',
      ...overrides,
    });
  });
  afterEach(async () => {
    await mail.h?.close();
    await mail.smtp?.close();
    mail.h = undefined;
    mail.smtp = undefined;
  });
  return () => {
    if (!mail.h || !mail.smtp) throw new Error('only inside a test');
    const h = mail.h;
    return { h, smtp: mail.smtp, work: (at?: Date) => h.services.worker.runOnce(at) };
  };
}

/** The token of the one link to `page` in an email (failing the test if there is none). */
export function linkToken(
  email: ReceivedEmail | undefined,
  page: '/accept-invitation' | '/reset-password',
): string {
  expect(email, `an email with a ${page} link`).toBeDefined();
  const escaped = `${PUBLIC_URL}${page}`.replace(/[.?/]/g, (c) => `\\${c}`);
  const links = [...email!.text.matchAll(new RegExp(`${escaped}\\?token=([A-Za-z0-9_-]+)`, 'g'))];
  expect(links).toHaveLength(1);
  return links[0]![1]!;
}

/** Every value of every row of a table, as one text, to show a secret is nowhere in it. */
export async function tableText(h: TestHaven, table: 'outbox' | 'audit_events' | 'account_tokens') {
  return JSON.stringify(await h.database.db.selectFrom(table).selectAll().execute());
}
