import { type Kysely, sql, type Transaction } from 'kysely';
import { type NotifiedParty, partyMembers, recipientsReading } from '../../access/notifications.ts';
import type { MailConfig } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import type { DB, NoticesTable, OutboxTable } from '../../db/tables.ts';
import { newId } from '../../lib/ids.ts';
import { londonDate, londonInstant } from '../../lib/london-time.ts';
import { raiseReviewReminders } from '../access-reviews/reminders.ts';
import { clearImportProblems } from '../imports/retention.ts';
import { schoolSettings } from '../organisations/settings.ts';
import { raiseOverdueTransfers } from '../transfers/overdue.ts';
import { raiseAlerts } from './alerts.ts';
import type { Mailer } from './mailer.ts';
import { type OutboxPayload, renderEmail, wipedPayload } from './messages.ts';

export interface WorkerLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WorkerOptions {
  /** Null: no SMTP is set, so no email is queued or sent (alerts in the app still are). */
  mailer: Mailer | null;
  mail: Pick<MailConfig, 'publicUrl' | 'maxAttempts' | 'retryBaseMs' | 'leaseMs'>;
  pollMs: number;
  log: WorkerLog;
  /** The worker's clock (tests move it to a school's digest time). */
  clock?: () => Date;
  /** The installation's `account_tokens` subkey, to open the links of invitations and resets. */
  accountTokenKey?: Buffer;
  /**
   * Requests made through the API that become emails here, before each pass sends (password
   * resets: `handleResetRequests` in src/modules/accounts); answers how many it handled.
   */
  accountRequests?: (now: Date) => Promise<number>;
}

/** What one pass did, for logs and tests. */
export interface WorkerPass {
  dueActions: number;
  /** Access reviews' alerts raised (their start, due within three days, overdue). */
  reviewReminders: number;
  /** Overdue transfers' alerts to the sending school's DSLs. */
  overdueTransfers: number;
  /** Import runs whose problems were blanked, 30 days after they ended. */
  importProblemsCleared: number;
  notices: number;
  digests: number;
  accountRequests: number;
  sent: number;
  retrying: number;
  failed: number;
  withdrawn: number;
}

const BATCH = 50;
/**
 * Emails are claimed one at a time, each just before it is sent, so the lease only ever has to
 * outlast one send (nodemailer's time limits), however many wait; a pass sends at most this many.
 */
const SENDS_PER_PASS = 500;

/**
 * Sends what changes queued: raises due-action reminders on time, turns each notice into an
 * email per person who may read its record at that moment, makes each school's daily digest at
 * its `digestTime` (Europe/London), and sends the outbox with retries and backoff. It also keeps
 * the schedule of other modules: access reviews' reminders, overdue transfers, and blanking import
 * runs' problems once they are 30 days old (`modules/imports/retention.ts`).
 *
 * Every step claims its rows in the transaction that handles them, so several workers on one
 * PostgreSQL share the work without doing anything twice (`FOR UPDATE SKIP LOCKED`), and a
 * process killed at any point leaves its work for the next pass. An email is marked sent only
 * after the SMTP server accepted it; one being sent when its worker died is taken over once its
 * lease ends (the one case where it may arrive twice).
 */
export class NotificationWorker {
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<unknown> | undefined;
  #stopped = true;

  constructor(
    private readonly database: Database,
    private readonly options: WorkerOptions,
  ) {}

  get running(): boolean {
    return !this.#stopped;
  }

  #now(): Date {
    return this.options.clock?.() ?? new Date();
  }

  /** Runs passes every `pollMs` until `stop`. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const tick = async () => {
      if (this.#stopped) return;
      this.#pass = this.runOnce().catch((err) =>
        this.options.log.error({ err }, 'notification worker pass failed'),
      );
      await this.#pass;
      if (!this.#stopped) this.#timer = setTimeout(tick, this.options.pollMs);
    };
    this.#timer = setTimeout(tick, 0);
  }

  /** Stops after the pass under way, if any. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#pass;
    this.options.mailer?.close();
  }

  /** One pass over everything due at `now`. */
  async runOnce(now: Date = this.#now()): Promise<WorkerPass> {
    const pass: WorkerPass = {
      dueActions: await this.raiseDueActions(now),
      reviewReminders: await this.raiseReviewReminders(now),
      overdueTransfers: await this.raiseOverdueTransfers(now),
      importProblemsCleared: await clearImportProblems(this.database.db, now),
      notices: 0,
      digests: 0,
      accountRequests: 0,
      sent: 0,
      retrying: 0,
      failed: 0,
      withdrawn: 0,
    };
    for (let n = BATCH; n === BATCH; pass.notices += n) n = await this.#expandNotices(now);
    pass.digests = await this.#makeDigests(now);
    if (this.options.mailer && this.options.accountRequests)
      pass.accountRequests = await this.options.accountRequests(now);
    if (this.options.mailer) {
      for (let n = 0; n < SENDS_PER_PASS; n++) {
        const outcome = await this.#sendOne(now);
        if (outcome === 'none') break;
        pass[outcome] += 1;
      }
    }
    if (Object.values(pass).some((n) => n > 0))
      this.options.log.info({ pass }, 'notifications handled');
    return pass;
  }

  #transaction<T>(work: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    return this.database.db.transaction().execute(work);
  }

  /**
   * The rows of `table` a query reads, locked for this transaction, skipping those another worker
   * holds (PostgreSQL; SQLite has one writer at a time, so there is nothing to skip).
   */
  #claim<Q extends { forUpdate(of?: never): { skipLocked(): Q } }>(query: Q, table: string): Q {
    return this.database.engine === 'postgres'
      ? query.forUpdate(table as never).skipLocked()
      : query;
  }

  /**
   * Actions now due: an alert for the assignee (once per action, however many workers) and an
   * immediate email, whose recipients are decided like any other.
   */
  async raiseDueActions(now: Date): Promise<number> {
    const at = now.toISOString();
    return this.#transaction(async (trx) => {
      const due = await this.#claim(
        trx
          .selectFrom('actions as a')
          .innerJoin('incidents as i', 'i.id', 'a.incident_id')
          .select([
            'a.id',
            'a.organisation_id',
            'a.incident_id',
            'a.assignee_type',
            'a.assignee_id',
            'i.school_id',
          ])
          .where('a.deleted_at', 'is', null)
          .where('a.completed_at', 'is', null)
          .where('i.deleted_at', 'is', null)
          .where('a.due_at', '<=', at)
          .where((eb) =>
            eb.not(
              eb.exists(
                trx
                  .selectFrom('alerts as x')
                  .select('x.id')
                  .where('x.action_id', '=', sql.ref<string>('a.id'))
                  .where('x.kind', '=', 'action_due'),
              ),
            ),
          )
          .orderBy('a.due_at')
          .limit(BATCH),
        'a',
      ).execute();
      let raised = 0;
      for (const a of due) {
        const inserted = await raiseAlerts({ db: trx, now: at }, a.organisation_id, [
          {
            kind: 'action_due',
            to: { type: a.assignee_type, id: a.assignee_id },
            incidentId: a.incident_id,
            actionId: a.id,
          },
        ]);
        if (inserted === 0) continue;
        raised += 1;
        await trx
          .insertInto('notices')
          .values({
            id: newId(),
            organisation_id: a.organisation_id,
            school_id: a.school_id,
            kind: 'action_due',
            channel: 'immediate_email',
            recipient_type: a.assignee_type,
            recipient_id: a.assignee_id,
            incident_id: a.incident_id,
            action_id: a.id,
            message: null,
            status: 'pending',
            created_at: at,
            handled_at: null,
          })
          .execute();
      }
      return raised;
    });
  }

  /**
   * Access reviews' reminders now due, to the reviewers of undecided items: an alert, and an email
   * when email is on; once per review, reviewer and phase, however many workers.
   */
  async raiseReviewReminders(now: Date): Promise<number> {
    return this.#transaction((trx) =>
      raiseReviewReminders(trx, now, { emails: this.options.mailer !== null }),
    );
  }

  /** Transfers past their due day without receipt: one alert to each sending DSL, once. */
  async raiseOverdueTransfers(now: Date): Promise<number> {
    return this.#transaction((trx) => raiseOverdueTransfers(trx, now));
  }

  /** Claims pending notices and queues one email per person they reach now. */
  async #expandNotices(now: Date): Promise<number> {
    const at = now.toISOString();
    return this.#transaction(async (trx) => {
      const claimed = await trx
        .updateTable('notices')
        .set({ status: 'done', handled_at: at })
        .where(
          'id',
          'in',
          this.#claim(
            trx
              .selectFrom('notices')
              .select('id')
              .where('status', '=', 'pending')
              .orderBy('created_at')
              .orderBy('id')
              .limit(BATCH),
            'notices',
          ),
        )
        .returningAll()
        .execute();
      if (!this.options.mailer) return claimed.length;
      for (const notice of claimed) {
        const payload = payloadOf(notice);
        const people = await noticeRecipients(trx, notice);
        const already = await alreadyQueued(
          trx,
          notice,
          people.map((p) => p.user_id),
        );
        await queueEmails(
          trx,
          notice,
          people.filter((p) => !already.has(p.user_id)),
          payload,
          at,
        );
      }
      return claimed.length;
    });
  }

  /** Every school whose digest time has come today (London) and whose digest is not made. */
  async #makeDigests(now: Date): Promise<number> {
    const date = londonDate(now);
    const schools = await this.database.db
      .selectFrom('schools as s')
      .select(['s.id', 's.organisation_id', 's.settings'])
      .where((eb) =>
        eb.not(
          eb.exists(
            this.database.db
              .selectFrom('digest_runs as d')
              .select('d.school_id')
              .where('d.school_id', '=', sql.ref<string>('s.id'))
              .where('d.digest_date', '=', date),
          ),
        ),
      )
      .execute();
    let made = 0;
    for (const school of schools) {
      const dueAt = londonInstant(date, schoolSettings(school.settings).digestTime);
      if (now < dueAt) continue;
      if (await this.#digest(school, date, now)) made += 1;
    }
    return made;
  }

  async #digest(school: { id: string; organisation_id: string }, date: string, now: Date) {
    const at = now.toISOString();
    return this.#transaction(async (trx) => {
      const run = await trx
        .insertInto('digest_runs')
        .values({
          school_id: school.id,
          digest_date: date,
          organisation_id: school.organisation_id,
          created_at: at,
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (Number(run.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      const held = await trx
        .updateTable('notices')
        .set({ status: 'done', handled_at: at })
        .where('school_id', '=', school.id)
        .where('status', '=', 'held')
        .where('created_at', '<=', at)
        .returningAll()
        .execute();
      if (!this.options.mailer || held.length === 0) return true;
      // Each person once, with every record of the day they may read, whichever rules named them.
      const byUser = new Map<string, { email: string; incidents: Set<string> }>();
      const byParty = new Map<string, { party: NotifiedParty; incidents: Set<string> }>();
      for (const n of held) {
        if (!n.incident_id || !n.recipient_id) continue;
        const key = `${n.recipient_type}:${n.recipient_id}`;
        const entry = byParty.get(key) ?? {
          party: { type: n.recipient_type, id: n.recipient_id },
          incidents: new Set<string>(),
        };
        entry.incidents.add(n.incident_id);
        byParty.set(key, entry);
      }
      for (const { party, incidents } of byParty.values()) {
        const reading = await recipientsReading(
          trx,
          { organisationId: school.organisation_id },
          [...incidents],
          party,
        );
        for (const r of reading) {
          const entry = byUser.get(r.user_id) ?? { email: r.email, incidents: new Set<string>() };
          entry.incidents.add(r.incident_id);
          byUser.set(r.user_id, entry);
        }
      }
      if (byUser.size > 0)
        await trx
          .insertInto('outbox')
          .values(
            [...byUser].map(([userId, { email, incidents }]) =>
              outboxRow({
                organisationId: school.organisation_id,
                schoolId: school.id,
                noticeId: null,
                userId,
                address: email,
                payload: { kind: 'digest', schoolId: school.id, date, incidentIds: [...incidents] },
                at,
              }),
            ),
          )
          .execute();
      return true;
    });
  }

  /**
   * Claims the next due email and sends it: `sent`, `withdrawn` (its recipient may no longer read
   * what it is about), `retrying` (refused or unreachable: tried again after a backoff), `failed`
   * (the last attempt), or `none` when nothing is due.
   */
  async #sendOne(now: Date): Promise<'sent' | 'withdrawn' | 'retrying' | 'failed' | 'none'> {
    const at = now.toISOString();
    const { leaseMs, maxAttempts, retryBaseMs, publicUrl } = this.options.mail;
    const [email] = await this.#transaction((trx) =>
      trx
        .updateTable('outbox')
        .set((eb) => ({
          status: 'sending',
          locked_until: new Date(Math.max(now.getTime(), Date.now()) + leaseMs).toISOString(),
          attempts: eb('attempts', '+', 1),
        }))
        .where(
          'id',
          'in',
          this.#claim(
            trx
              .selectFrom('outbox')
              .select('id')
              .where((eb) =>
                eb.or([
                  eb.and([eb('status', '=', 'pending'), eb('next_attempt_at', '<=', at)]),
                  // Its worker died while sending: taken over once the lease ran out.
                  eb.and([eb('status', '=', 'sending'), eb('locked_until', '<', at)]),
                ]),
              )
              .orderBy('next_attempt_at')
              .orderBy('id')
              .limit(1),
            'outbox',
          ),
        )
        .returningAll()
        .execute(),
    );
    if (!email) return 'none';
    const db = this.database.db;
    const settle = (values: Partial<OutboxTable>) =>
      db.updateTable('outbox').set(values).where('id', '=', email.id).execute();
    let payload: OutboxPayload | undefined;
    // Done with for good: a secret the payload carries (an account link) is wiped with it.
    const wiped = () => {
      const kept = payload && wipedPayload(payload);
      return kept ? { payload: JSON.stringify(kept) } : {};
    };
    try {
      payload = JSON.parse(email.payload) as OutboxPayload;
      const content = await renderEmail(
        db,
        { userId: email.to_user_id, organisationId: email.organisation_id },
        payload,
        { publicUrl, now, accountTokenKey: this.options.accountTokenKey },
      );
      if (!content) {
        await settle({ status: 'withdrawn', locked_until: null, ...wiped() });
        return 'withdrawn';
      }
      await this.options.mailer!.send({ to: email.to_address, ...content });
      await settle({
        status: 'sent',
        sent_at: new Date().toISOString(),
        locked_until: null,
        subject: content.subject,
        last_error: null,
        ...wiped(),
      });
      return 'sent';
    } catch (err) {
      const attempts = Number(email.attempts);
      const last = attempts >= maxAttempts;
      await settle({
        ...(last ? wiped() : {}),
        status: last ? 'failed' : 'pending',
        locked_until: null,
        last_error: String((err as Error).message ?? err).slice(0, 500),
        next_attempt_at: new Date(
          now.getTime() + retryBaseMs * 2 ** Math.min(attempts - 1, 16),
        ).toISOString(),
      });
      this.options.log.error(
        { err, outboxId: email.id, attempts, givenUp: last },
        'an email could not be sent',
      );
      return last ? 'failed' : 'retrying';
    }
  }
}

function payloadOf(notice: NoticesTable): OutboxPayload {
  if (notice.kind === 'security') return { kind: 'security', message: notice.message ?? '' };
  if (notice.kind === 'action_due')
    return { kind: 'action_due', incidentId: notice.incident_id!, actionId: notice.action_id! };
  return { kind: 'incident_logged', incidentId: notice.incident_id! };
}

/** Who a notice reaches now: those it names who may read its record (a security alert: its watcher). */
async function noticeRecipients(db: Kysely<DB>, notice: NoticesTable) {
  const t = { organisationId: notice.organisation_id };
  if (!notice.recipient_id) return [];
  if (notice.kind === 'security')
    return partyMembers(db, t, { type: notice.recipient_type, id: notice.recipient_id });
  if (!notice.incident_id) return [];
  return recipientsReading(db, t, [notice.incident_id], {
    type: notice.recipient_type,
    id: notice.recipient_id,
  });
}

/** People already emailed about this record for the same reason (two rules naming them). */
async function alreadyQueued(db: Kysely<DB>, notice: NoticesTable, userIds: string[]) {
  if (!notice.incident_id || userIds.length === 0) return new Set<string>();
  const rows = await db
    .selectFrom('outbox as o')
    .innerJoin('notices as n', 'n.id', 'o.notice_id')
    .select('o.to_user_id')
    .where('n.incident_id', '=', notice.incident_id)
    .where('n.kind', '=', notice.kind)
    .where('n.channel', '=', notice.channel)
    .where('o.to_user_id', 'in', userIds)
    .execute();
  return new Set(rows.map((r) => r.to_user_id));
}

async function queueEmails(
  db: Kysely<DB>,
  notice: NoticesTable,
  people: { user_id: string; email: string }[],
  payload: OutboxPayload,
  at: string,
) {
  if (people.length === 0) return;
  await db
    .insertInto('outbox')
    .values(
      people.map((p) =>
        outboxRow({
          organisationId: notice.organisation_id,
          schoolId: notice.school_id,
          noticeId: notice.id,
          userId: p.user_id,
          address: p.email,
          payload,
          at,
        }),
      ),
    )
    .execute();
}

function outboxRow(e: {
  organisationId: string;
  schoolId: string | null;
  noticeId: string | null;
  userId: string;
  address: string;
  payload: OutboxPayload;
  at: string;
}): OutboxTable {
  return {
    id: newId(),
    organisation_id: e.organisationId,
    school_id: e.schoolId,
    notice_id: e.noticeId,
    kind: e.payload.kind,
    to_user_id: e.userId,
    to_address: e.address,
    payload: JSON.stringify(e.payload),
    status: 'pending',
    attempts: 0,
    next_attempt_at: e.at,
    locked_until: null,
    last_error: null,
    subject: null,
    created_at: e.at,
    sent_at: null,
  };
}
