import { appendFileSync } from 'node:fs';
import { newId } from '../../src/lib/ids.ts';
import {
  type IdKind,
  idKinds,
  type LeakWorld,
  type Prober,
  type ProberKey,
  type WorldRecord,
} from './leak-world.ts';

/**
 * The leak hunt's engine: reads the OpenAPI document, plans every GET with every world id in each
 * path parameter and every filter set to world ids and markers, and reports any marker or id a
 * prober must not reach (content leaks), and any answer that tells a hidden id from an id that does
 * not exist (existence leaks).
 */

export interface Route {
  path: string;
  pathParams: string[];
  queryParams: { name: string; enum?: string[] | undefined; required: boolean }[];
}

export interface Finding {
  kind: 'content' | 'existence' | 'count';
  prober: ProberKey;
  route: string;
  url: string;
  status: number;
  /** What leaked: the marker or id, and the record it belongs to. */
  leaked: string;
  record: string;
  snippet: string;
}

interface Planned {
  route: string;
  url: string;
  /** The world value put in the url (a path or query parameter), if any, and the template it went into. */
  value?: string | undefined;
  template?: string | undefined;
  /** Values the prober supplied themselves; their echo in the answer is not a leak. */
  supplied: string[];
}

interface Answer {
  status: number;
  text: string;
  headers: Record<string, unknown>;
}

const ID = /^[0-9a-z]{26}$/;
const PAGE_LIMIT = 200;
const MAX_PAGES = 20;
const PARALLEL = Number(process.env.LEAK_HUNT_PARALLEL ?? 4);
/** Where the value goes in a url template (needs no encoding). */
const SLOT = 'zzLEAKSLOTzz';

/** Every GET operation of the OpenAPI document. */
export function getRoutes(openapi: any): Route[] {
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries<any>(openapi.paths ?? {})) {
    const get = operations?.get;
    if (!get) continue;
    const params: any[] = [...(operations.parameters ?? []), ...(get.parameters ?? [])];
    routes.push({
      path,
      pathParams: params.filter((x) => x.in === 'path').map((x) => x.name),
      queryParams: params
        .filter((x) => x.in === 'query' && x.name !== 'cursor' && x.name !== 'limit')
        .map((x) => ({
          name: x.name,
          enum: x.schema?.enum ?? x.schema?.anyOf?.find((s: any) => s.enum)?.enum,
          required: Boolean(x.required),
        })),
    });
  }
  return routes;
}

/** The routes whose contents record other people's requests (the audit chain). */
export const isLogRoute = (route: Route) => /\/(audit|access)-log\b/.test(route.path);

export class LeakHunter {
  readonly findings: Finding[] = [];
  /** Query parameters the plan did not know how to fill, by route. */
  readonly untested = new Set<string>();
  requests = 0;
  /** Milliseconds spent on each route's first pages, for the summary. */
  readonly timing = new Map<string, number>();
  /** How often each route answered each status, for the summary. */
  readonly statuses = new Map<string, Map<number, number>>();
  readonly #fakeId = newId();
  readonly #fakeMarker = 'LEAK-nothing-0x';
  readonly #allIds: string[];
  readonly #names = new Map<string, string>();
  readonly #byKind = new Map<IdKind, string[]>();
  readonly #kindOf = new Map<string, IdKind>();
  readonly #forbidden = new Map<ProberKey, Map<string, { token: string; record: WorldRecord }>>();
  readonly #baselines = new Map<string, Promise<Answer>>();
  readonly #asked = new Set<string>();

  constructor(
    readonly world: LeakWorld,
    readonly auditActions: string[],
  ) {
    const ids = new Set<string>();
    for (const r of world.records) {
      for (const id of r.ids) if (ID.test(id)) ids.add(id);
      for (const id of r.ids) this.#names.set(id, r.label);
      for (const [id, kind] of idKinds(r)) {
        if (this.#kindOf.has(id)) continue;
        this.#kindOf.set(id, kind);
        this.#byKind.set(kind, [...(this.#byKind.get(kind) ?? []), id]);
      }
    }
    for (const [name, id] of Object.entries(world.ids)) this.#names.set(id, name);
    this.#allIds = [...ids];
    for (const key of Object.keys(world.probers) as ProberKey[]) {
      const tokens = new Map<string, { token: string; record: WorldRecord }>();
      for (const r of world.records)
        if (r.hiddenFrom.includes(key))
          for (const token of [...r.ids, ...r.markers])
            tokens.set(token.toLowerCase(), { token, record: r });
      this.#forbidden.set(key, tokens);
    }
  }

  forbiddenFor(prober: ProberKey) {
    return this.#forbidden.get(prober)!;
  }

  /** A url with each world id followed by the name it has in the world, for the report. */
  name(url: string): string {
    return url.replace(/[0-9a-z]{26}/g, (id) =>
      this.#names.has(id) ? `${id}<${this.#names.get(id)}>` : id,
    );
  }

  async fetch(prober: Prober, url: string): Promise<Answer> {
    this.requests += 1;
    const r = await this.world.haven.app.inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${prober.token}` },
    });
    // LEAK_HUNT_DUMP=<file> keeps every exchange, to read what a prober was shown.
    if (process.env.LEAK_HUNT_DUMP)
      appendFileSync(
        process.env.LEAK_HUNT_DUMP,
        `${prober.key} GET ${this.name(url)} -> ${r.statusCode}\n${r.body.slice(0, 2000)}\n\n`,
      );
    return { status: r.statusCode, text: r.body, headers: r.headers };
  }

  /** Every marker and id forbidden to the prober found in the answer, echoes of `supplied` aside. */
  scan(
    prober: Prober,
    planned: Planned,
    answer: Answer,
    forbidden = this.forbiddenFor(prober.key),
  ) {
    const found: Finding[] = [];
    const supplied = new Set(planned.supplied.map((s) => s.toLowerCase()));
    const places: [string, string][] = [
      ['body', answer.text],
      ...Object.entries(answer.headers).map(
        ([k, v]) => [`header ${k}`, String(v)] as [string, string],
      ),
    ];
    for (const [where, text] of places) {
      const lower = text.toLowerCase();
      for (const [token, { record }] of forbidden) {
        if (supplied.has(token)) continue;
        const at = lower.indexOf(token);
        if (at < 0) continue;
        found.push({
          kind: 'content',
          prober: prober.key,
          route: planned.route,
          url: planned.url,
          status: answer.status,
          leaked: `${text.slice(at, at + token.length)} (${where})`,
          record: `${record.kind}: ${record.label}`,
          snippet: text.slice(Math.max(0, at - 80), at + token.length + 60).replace(/\s+/g, ' '),
        });
      }
    }
    return found;
  }

  /** Requests every page of one url and scans each; answers the first page. */
  async probe(prober: Prober, planned: Planned): Promise<Answer | undefined> {
    // The same question, with the same value under test, is asked once.
    const [path, query = ''] = planned.url.split('?') as [string, string?];
    const key = `${prober.key} ${planned.value ?? ''} ${path}?${[...new URLSearchParams(query)]
      .map((p) => p.join('='))
      .sort()
      .join('&')}`;
    if (this.#asked.has(key)) return undefined;
    this.#asked.add(key);
    const started = performance.now();
    const first = await this.fetch(prober, planned.url);
    this.timing.set(
      planned.route,
      (this.timing.get(planned.route) ?? 0) + performance.now() - started,
    );
    const seen = this.statuses.get(planned.route) ?? new Map<number, number>();
    seen.set(first.status, (seen.get(first.status) ?? 0) + 1);
    this.statuses.set(planned.route, seen);
    let answer = first;
    let url = planned.url;
    for (let page = 0; ; page++) {
      this.findings.push(...this.scan(prober, { ...planned, url }, answer));
      const next = nextCursor(answer);
      if (!next || page >= MAX_PAGES) break;
      url = withQuery(planned.url, { cursor: next });
      answer = await this.fetch(prober, url);
    }
    if (planned.value !== undefined && planned.template)
      await this.#compareWithNothing(prober, planned, first);
    return first;
  }

  /**
   * A hidden id or marker must answer exactly as one that does not exist would (spec section 4:
   * "404, exactly as if it did not exist"). The step-up prompt is the one allowed difference, for
   * the prober who holds the clearance but has not stepped up.
   */
  async #compareWithNothing(prober: Prober, planned: Planned, answer: Answer) {
    const value = planned.value!;
    const hidden = this.forbiddenFor(prober.key).get(value.toLowerCase());
    if (!hidden) return;
    const fake = ID.test(value) ? this.#fakeId : this.#fakeMarker;
    const key = `${prober.key} ${planned.template}`;
    if (!this.#baselines.has(key))
      this.#baselines.set(key, this.fetch(prober, planned.template!.replaceAll(SLOT, fake)));
    const baseline = await this.#baselines.get(key)!;
    const stepUpAllowed = prober.key === 'noStepUp';
    if (stepUpAllowed && answer.status === 403 && /mfa_required/.test(answer.text)) return;
    const a = normalise(answer, value, stepUpAllowed);
    const b = normalise(baseline, fake, stepUpAllowed);
    if (a === b) return;
    this.findings.push({
      kind: 'existence',
      prober: prober.key,
      route: planned.route,
      url: planned.url,
      status: answer.status,
      leaked: `${value} answers ${answer.status}, an id that does not exist ${baseline.status}`,
      record: `${hidden.record.kind}: ${hidden.record.label}`,
      snippet: `${firstDifference(a, b)}`,
    });
  }

  /** The world's ids of one kind. */
  #ofKind(kind: IdKind): string[] {
    return this.#byKind.get(kind) ?? [];
  }

  /**
   * The ids a path parameter is tried with: every id of the route's kind, the prober's own, and
   * one hidden id of another kind (the kinds taking turns from route to route); every id of the
   * world where the route's kind is unknown.
   */
  #pathValues(prober: Prober, route: Route, param: string): string[] {
    const kind = kindOfSegment(route.path, param);
    if (!kind) return [...this.#allIds, prober.id, this.#fakeId];
    const kinds = [...this.#byKind.keys()].filter((k) => k !== kind && k !== 'upn');
    const turn = [...route.path].reduce((n, c) => n + c.charCodeAt(0), 0) % kinds.length;
    const foreign = this.#ofKind(kinds[turn]!);
    const other = foreign.find((id) => this.#isHidden(prober, id)) ?? foreign[0];
    return [
      ...new Set([...this.#ofKind(kind), ...(other ? [other] : []), prober.id, this.#fakeId]),
    ];
  }

  /** The values a query parameter is tried with (undefined: the plan does not know it). */
  #queryValues(
    prober: Prober,
    route: Route,
    param: Route['queryParams'][number],
    onePerRecord: boolean,
  ): string[] | undefined {
    if (param.enum) return param.enum;
    const n = param.name;
    if (n === 'q') {
      // The first marker of each hidden record (a name, an account), and every other one on a
      // search of the record's own kind (every account and location of every revision, say).
      const hidden = this.world.records.filter((r) => r.hiddenFrom.includes(prober.key));
      const searched = route.path.split('/')[3] ?? '';
      // Every marker on the list itself; its count and export take the first of each record.
      const list = route.path.split('/').length === 4;
      const own = (kind: string) =>
        list &&
        (kind.startsWith(searched.replace(/s$/, '')) ||
          (searched === 'incidents' && kind.startsWith('revision')));
      const markers = hidden.flatMap((r) =>
        !onePerRecord && own(r.kind) ? r.markers : r.markers.slice(0, 1),
      );
      return [...new Set(markers), this.#fakeMarker];
    }
    if (/id$/i.test(n) || n === 'inGroup') {
      const kind = kindOfQuery(n);
      // Every hidden id of the filter's kind and three the prober may see: a filter set to a
      // visible record shows a part of the unfiltered list, which is read in full anyway.
      const values = kind
        ? [
            ...this.#ofKind(kind).filter((id) => this.#isHidden(prober, id)),
            ...this.#ofKind(kind)
              .filter((id) => !this.#isHidden(prober, id))
              .slice(0, 3),
          ]
        : // A filter on any record (the logs): every hidden id, and one record of each kind the
          // prober reads (the unfiltered list already shows every row they may see).
          [
            ...this.#allIds.filter(
              (id) =>
                this.#isHidden(prober, id) &&
                // The access log records reads of children, incidents and documents.
                (n !== 'recordId' ||
                  ['incident', 'student', 'document'].includes(this.#kindOf.get(id) ?? '')),
            ),
            ...(['incident', 'student', 'document', 'action', 'user'] as const).flatMap(
              (k) => this.#ofKind(k).find((id) => !this.#isHidden(prober, id)) ?? [],
            ),
          ];
      return [...values, prober.id, ...(n === 'inGroup' ? ['none'] : [])];
    }
    if (n === 'asOf') return [new Date().toISOString()];
    if (n === 'yearGroup') return ['9'];
    if (n === 'action') return this.auditActions;
    this.untested.add(`${route.path}?${n}`);
    return undefined;
  }

  /** Values of a companion filter (explain's studentId beside userId). */
  /**
   * Values of a companion filter (explain's studentId beside userId): the prober's own id, the
   * first hidden and the first visible id of the companion's kind.
   */
  #companions(prober: Prober, name: string): string[] {
    const kind = kindOfQuery(name);
    const ids = kind ? this.#ofKind(kind) : [];
    const hidden = ids.find((id) => this.#isHidden(prober, id));
    const visible = ids.find((id) => !this.#isHidden(prober, id) && id !== prober.id);
    return [prober.id, ...(hidden ? [hidden] : []), ...(visible ? [visible] : [])];
  }

  async #pool<T>(items: T[], work: (item: T) => Promise<void>) {
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++]!;
        await work(item);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
  }

  /**
   * Every GET of `routes` as `prober`: the world's ids of the route's kind (and one of each other
   * kind) in each path parameter, then every filter with ids and markers.
   */
  async hunt(prober: Prober, routes: Route[]) {
    const bases: { route: Route; url: string; planned: Planned }[] = [];
    for (const route of routes) {
      if (route.pathParams.length === 0) {
        const url = withQuery(route.path, { limit: PAGE_LIMIT });
        bases.push({ route, url, planned: { route: route.path, url, supplied: [] } });
        continue;
      }
      // Each parameter in turn takes the values; the others keep the prober's own id.
      for (const param of route.pathParams)
        for (const value of this.#pathValues(prober, route, param)) {
          let template = route.path;
          for (const p of route.pathParams)
            template = template.replace(`{${p}}`, p === param ? SLOT : prober.id);
          const url = withQuery(template.replaceAll(SLOT, value), { limit: PAGE_LIMIT });
          bases.push({
            route,
            url,
            planned: {
              route: route.path,
              url,
              value,
              template: withQuery(template, { limit: PAGE_LIMIT }),
              supplied: [value, prober.id],
            },
          });
        }
    }
    const reached = new Set<(typeof bases)[number]>();
    await this.#pool(bases, async (base) => {
      const answer = await this.probe(prober, base.planned);
      if (!answer) return;
      if (base.route.queryParams.length > 0 && (answer.status === 200 || answer.status === 400))
        reached.add(base);
    });

    // Filters: on each route without path parameters, and on at most two ids of each route with
    // them that the prober reached (hidden ones first: those are the interesting ones).
    const filtered: Planned[] = [];
    const byRoute = new Map<Route, typeof bases>();
    // In the order planned, not the order answered, so every run asks the same questions.
    for (const base of bases.filter((b) => reached.has(b)))
      byRoute.set(base.route, [...(byRoute.get(base.route) ?? []), base]);
    for (const [route, list] of byRoute) {
      const chosen = list
        .sort(
          (a, b) =>
            Number(this.#isHidden(prober, b.planned.value)) -
            Number(this.#isHidden(prober, a.planned.value)),
        )
        .slice(0, 2);
      for (const base of chosen)
        for (const param of route.queryParams) {
          const values = this.#queryValues(prober, route, param, route.pathParams.length > 0);
          for (const value of values ?? [])
            filtered.push({
              route: route.path,
              url: withQuery(base.url, { [param.name]: value }),
              value,
              template: withQuery(base.url, { [param.name]: SLOT }),
              supplied: [...base.planned.supplied, value],
            });
        }
    }
    await this.#pool(filtered, async (planned) => {
      const answer = await this.probe(prober, planned);
      if (!answer) return;
      // A filter that needs a companion (explain's userId with studentId): tried again with
      // each value of the companion's kind.
      if (answer.status !== 400) return;
      const route = routes.find((r) => r.path === planned.route)!;
      const mine = new URL(planned.url, 'http://x').searchParams;
      for (const other of route.queryParams) {
        if (mine.has(other.name) || !/id$/i.test(other.name)) continue;
        for (const companion of this.#companions(prober, other.name))
          await this.probe(prober, {
            ...planned,
            url: withQuery(planned.url, { [other.name]: companion }),
            template: withQuery(planned.template!, { [other.name]: companion }),
            supplied: [...planned.supplied, companion],
          });
      }
    });
  }

  #isHidden(prober: Prober, value: string | undefined) {
    return value !== undefined && this.forbiddenFor(prober.key).has(value.toLowerCase());
  }

  /**
   * The findings as a list a person can act on: by route, then prober, then record; every url
   * and what leaked, with a snippet for the first few of each.
   */
  report(findings = this.findings): string {
    const group = <T>(items: T[], key: (t: T) => string) => {
      const map = new Map<string, T[]>();
      for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
      return [...map].sort(([a], [b]) => a.localeCompare(b));
    };
    const lines: string[] = [];
    for (const [route, byRoute] of group(findings, (f) => f.route)) {
      lines.push(`GET ${route}`);
      for (const [prober, byProber] of group(byRoute, (f) => f.prober)) {
        lines.push(`  ${prober}`);
        for (const [record, items] of group(byProber, (f) => `${f.record} [${f.kind}]`)) {
          lines.push(`    ${record}: ${items.length}`);
          items.forEach((f, n) => {
            lines.push(`      GET ${this.name(f.url)} -> ${f.status}: ${f.leaked}`);
            if (n < 2 && f.snippet) lines.push(`          ${f.snippet}`);
          });
        }
      }
    }
    return lines.join('\n');
  }
}

/** The kind of id a path parameter takes, from the collection it follows. */
const collections: Record<string, IdKind> = {
  incidents: 'incident',
  students: 'student',
  documents: 'document',
  users: 'user',
  'user-groups': 'user_group',
  'student-groups': 'student_group',
  schools: 'school',
  'school-groups': 'school_group',
  actions: 'action',
  alerts: 'alert',
  blocks: 'block',
  categories: 'category',
  'student-links': 'link',
  imports: 'import_run',
};
function kindOfSegment(path: string, param: string): IdKind | undefined {
  const segments = path.split('/');
  const at = segments.indexOf(`{${param}}`);
  return at > 0 ? collections[segments[at - 1]!] : undefined;
}

/** The kind of id a filter takes, from its name; undefined for a filter on any record. */
function kindOfQuery(name: string): IdKind | undefined {
  if (/^(user|actor|subjectUser|reporter)Id$/.test(name)) return 'user';
  if (name === 'inGroup' || name === 'userGroupId') return 'user_group';
  const known: Record<string, IdKind> = {
    studentId: 'student',
    schoolId: 'school',
    categoryId: 'category',
    studentGroupId: 'student_group',
    incidentId: 'incident',
    documentId: 'document',
    actionId: 'action',
    organisationId: 'organisation',
  };
  return known[name];
}

function withQuery(url: string, params: Record<string, string | number>): string {
  const [path, query = ''] = url.split('?') as [string, string?];
  const search = new URLSearchParams(query);
  for (const [k, v] of Object.entries(params)) search.set(k, String(v));
  const s = search.toString();
  return s ? `${path}?${s}` : path;
}

function nextCursor(answer: Answer): string | undefined {
  if (answer.status !== 200 || !/^\s*\{/.test(answer.text)) return undefined;
  try {
    const cursor = JSON.parse(answer.text)?.nextCursor;
    return typeof cursor === 'string' && cursor ? cursor : undefined;
  } catch {
    return undefined;
  }
}

function normalise(answer: Answer, value: string, stepUpAllowed: boolean): string {
  let text = `${answer.status} ${answer.text}`
    .replace(new RegExp(escapeRegExp(value), 'gi'), '{{value}}')
    .replace(new RegExp(escapeRegExp(encodeURIComponent(value)), 'gi'), '{{value}}')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '{{time}}');
  if (stepUpAllowed) text = text.replace(/"stepUpNeeded":\d+/g, '"stepUpNeeded":0');
  return text;
}

function escapeRegExp(s: string) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 60);
  return `hidden: …${a.slice(from, i + 100)}… / nonexistent: …${b.slice(from, i + 100)}…`;
}
