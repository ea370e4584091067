import { afterEach, describe, expect, it } from 'vitest';
import { testEngine } from '../support/database.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';
import { freePort, HavenProcess } from '../support/processes.ts';
import { logConcern, school } from '../support/school.ts';
import { TestSmtpServer } from '../support/smtp.ts';

const running: { stop(): Promise<void> }[] = [];

function track<T extends { kill(): Promise<void> } | TestSmtpServer>(thing: T): T {
  running.push({
    stop: () =>
      thing instanceof TestSmtpServer ? thing.close() : (thing as { kill(): Promise<void> }).kill(),
  });
  return thing;
}

/** Polls the outbox until `done` holds for its rows (or fails after `ms`). */
async function outboxUntil(
  h: TestHaven,
  done: (rows: { status: string; attempts: number }[]) => boolean,
  ms = 30_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const rows = await h.database.db.selectFrom('outbox').select(['status', 'attempts']).execute();
    if (done(rows.map((r) => ({ status: r.status, attempts: Number(r.attempts) })))) return rows;
    if (Date.now() > deadline) throw new Error(`outbox never got there: ${JSON.stringify(rows)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const quickWorker = {
  HAVEN_WORKER_POLL_MS: '100',
  HAVEN_MAIL_RETRY_BASE_MS: '200',
  HAVEN_MAIL_MAX_ATTEMPTS: '50',
  // A send the killed process had claimed is taken over after this long.
  HAVEN_MAIL_LEASE_MS: '1500',
  HAVEN_PUBLIC_URL: 'https://haven.school.example',
};

describe('an email survives the process that queued it', () => {
  const haven = useHaven();
  afterEach(async () => {
    for (const r of running.splice(0).reverse()) await r.stop();
  });
  it('killed after the commit and before the send, the restarted server delivers it exactly once', async () => {
    const h = haven();
    const s = await school(h);
    // Nothing listens on the SMTP port yet: the server commits the concern, tries, and fails.
    const smtpPort = await freePort();
    const env = { ...quickWorker, HAVEN_SMTP_URL: `smtp://127.0.0.1:${smtpPort}` };
    const first = track(
      await new HavenProcess(h, ['serve'], { ...env, PORT: String(await freePort()) }).start(
        /Haven is serving/,
      ),
    );
    // Setting the school up queued security alerts; let them settle before the concern.
    await outboxUntil(h, (rows) => rows.length > 0 && rows.every((r) => r.attempts >= 1));
    await h.database.db.deleteFrom('outbox').execute();

    const id = await logConcern(h, s, s.users.viewer.token!, { sensitivity: 'child_protection' });
    // The worker took it and could not send it.
    await outboxUntil(h, (rows) => rows.length >= 2 && rows.every((r) => r.attempts >= 1));
    await first.kill();

    const smtp = track(await new TestSmtpServer().start(smtpPort));
    track(
      await new HavenProcess(h, ['serve'], { ...env, PORT: String(await freePort()) }).start(
        /Haven is serving/,
      ),
    );
    await outboxUntil(h, (rows) => rows.every((r) => r.status === 'sent'));
    // A few more passes: nothing is sent twice.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const aboutIt = smtp.received.filter((m) => m.text.includes(id));
    expect(aboutIt.flatMap((m) => m.to).sort()).toEqual(
      [s.org.ownerEmail, s.users.dsl.email].sort(),
    );
  });

  it.runIf(testEngine() === 'postgres')(
    'two worker processes on one PostgreSQL send each message once',
    async () => {
      const h = haven();
      const s = await school(h);
      const smtp = track(await new TestSmtpServer().start());
      // A lease far longer than any send here: only the claim keeps the workers apart.
      const env = { ...quickWorker, HAVEN_SMTP_URL: smtp.url, HAVEN_MAIL_LEASE_MS: '120000' };
      const ids: string[] = [];
      for (let i = 0; i < 12; i++)
        ids.push(
          await logConcern(h, s, s.users.viewer.token!, { sensitivity: 'child_protection' }),
        );
      const workers = await Promise.all(
        [0, 1].map(() => new HavenProcess(h, ['worker'], env).start(/worker is running/)),
      );
      for (const w of workers) track(w);
      await outboxUntil(h, (rows) => rows.length > 0 && rows.every((r) => r.status === 'sent'));
      await new Promise((resolve) => setTimeout(resolve, 600));
      for (const id of ids) {
        const aboutIt = smtp.received.filter((m) => m.text.includes(id));
        expect(aboutIt.flatMap((m) => m.to).sort(), id).toEqual(
          [s.org.ownerEmail, s.users.dsl.email].sort(),
        );
      }
      const messageIds = smtp.received.map((m) => m.messageId);
      expect(new Set(messageIds).size).toBe(messageIds.length);
    },
  );
});
