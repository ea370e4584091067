import type { FastifyRequest } from 'fastify';
import type { Database } from '../db/database.ts';
import type { HavenError } from '../lib/errors.ts';
import { nowIso } from '../lib/time.ts';
import { type ChangeOrigin, runChange } from '../modules/audit/change.ts';

const AUDITED_REFUSALS = new Set([401, 403, 429]);

// Failed checks of an existing account's password or code: each one is evidence, and the
// sign-in throttle already bounds them to a few per window.
const PER_ATTEMPT = new Set(['invalid_credentials', 'invalid_code']);

const OVERFLOW = '*';

/** Refusals of one key after its first, within one window. */
interface Tally {
  /** The key for every client past the cap: its rows go to the installation's chain. */
  overflow: boolean;
  organisationId: string | null;
  ip: string | null;
  code: string;
  status: number;
  windowEnds: number;
  repeated: number;
  firstAt: string | null;
  lastAt: string | null;
  lastPath: string | null;
}

export interface RefusalAuditOptions {
  /** How long refusals after the first per key are counted before their summary is written. */
  windowMs: number;
  /** Distinct keys held at once; refusals from further keys are counted under one overflow key. */
  maxKeys: number;
  /** Where a summary that could not be written is reported (it is written outside any request). */
  onError: (error: unknown) => void;
  /** Milliseconds since the epoch; tests move it on instead of waiting. */
  clock?: () => number;
}

function requestMeta(request: FastifyRequest, error: HavenError) {
  return {
    method: request.method,
    route: request.routeOptions.url ?? request.url.split('?')[0],
    path: request.url.split('?')[0],
    status: error.status,
    code: error.code,
    detail: error.detail,
    ...error.auditMeta,
  };
}

/**
 * Writes refused requests (401, 403, 429) to the audit log, each in its own transaction (the
 * change it asked for was rolled back). A signed-in caller's refusals, and failed password or
 * code checks of an existing account, are written one row each. Other refusals without a
 * signed-in caller are written once per client address, code and organisation per window, and
 * the rest of the window is counted and written as one summary row when the window ends (at the
 * key's next refusal, by a timer, or when the app closes): a flood of anonymous requests must not
 * grow the audit chain by a row each.
 */
export class RefusalAudit {
  readonly #tallies = new Map<string, Tally>();
  readonly #writing = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly database: Database,
    private readonly options: RefusalAuditOptions,
  ) {}

  async record(request: FastifyRequest, error: HavenError): Promise<void> {
    if (!AUDITED_REFUSALS.has(error.status)) return;
    const principal = request.auth?.principal;
    const organisationId = principal?.organisationId ?? error.auditOrganisationId ?? null;
    const origin: ChangeOrigin = {
      organisationId,
      userId: principal?.userId ?? null,
      requestId: request.id,
      ip: request.ip,
      via: 'api',
    };
    const meta = requestMeta(request, error);
    if (principal || (organisationId && PER_ATTEMPT.has(error.code))) {
      return this.#write(origin, `request.${error.code}`, meta);
    }

    const now = this.#now();
    let key = `${request.ip}|${error.code}|${organisationId ?? ''}`;
    if (!this.#tallies.has(key) && this.#tallies.size >= this.options.maxKeys) key = OVERFLOW;
    const overflow = key === OVERFLOW;
    const open = this.#tallies.get(key);
    if (open && open.windowEnds > now) {
      const at = nowIso();
      open.repeated += 1;
      open.firstAt ??= at;
      open.lastAt = at;
      open.lastPath = meta.path ?? null;
      return;
    }
    this.#tallies.set(key, {
      overflow,
      organisationId: overflow ? null : organisationId,
      ip: overflow ? null : request.ip,
      code: error.code,
      status: error.status,
      windowEnds: now + this.options.windowMs,
      repeated: 0,
      firstAt: null,
      lastAt: null,
      lastPath: null,
    });
    this.#startTimer();
    // The window that ended is summed up first, so the chain reads in order.
    if (open) await this.#track(this.#summarise(open));
    if (overflow) {
      return this.#write({ ...origin, organisationId: null }, 'request.refused', {
        ...meta,
        overflow: true,
      });
    }
    return this.#write(origin, `request.${error.code}`, meta);
  }

  /** Writes every count still open (the app is closing). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const open = [...this.#tallies.values()];
    this.#tallies.clear();
    for (const tally of open) this.#track(this.#summarise(tally));
    await Promise.allSettled([...this.#writing]);
  }

  #now(): number {
    return this.options.clock?.() ?? Date.now();
  }

  #startTimer() {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#sweep(), this.options.windowMs);
    // The sweep must not keep a finished process alive.
    this.#timer.unref();
  }

  #sweep() {
    const now = this.#now();
    for (const [key, tally] of this.#tallies) {
      if (tally.windowEnds > now) continue;
      this.#tallies.delete(key);
      this.#track(this.#summarise(tally));
    }
    if (this.#tallies.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #track(writing: Promise<void>): Promise<void> {
    const tracked = writing.catch(this.options.onError).finally(() => {
      this.#writing.delete(tracked);
    });
    this.#writing.add(tracked);
    return tracked;
  }

  async #summarise(tally: Tally): Promise<void> {
    if (tally.repeated === 0) return;
    const origin: ChangeOrigin = {
      organisationId: tally.organisationId,
      userId: null,
      ...(tally.ip ? { ip: tally.ip } : {}),
      via: 'api',
    };
    const counted = {
      repeated: tally.repeated,
      firstAt: tally.firstAt,
      lastAt: tally.lastAt,
      lastPath: tally.lastPath,
    };
    if (tally.overflow) {
      await this.#write(origin, 'request.refused', { overflow: true, ...counted });
      return;
    }
    await this.#write(origin, `request.${tally.code}`, {
      status: tally.status,
      code: tally.code,
      ...counted,
    });
  }

  async #write(origin: ChangeOrigin, action: string, meta: Record<string, unknown>) {
    await runChange(this.database, origin, async (change) => {
      change.record({ category: 'denied', action, meta });
    });
  }
}
