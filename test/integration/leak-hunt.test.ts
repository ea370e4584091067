import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Finding,
  getRoutes,
  isLogRoute,
  LeakHunter,
  type Route,
} from '../support/leak-hunt.ts';
import {
  buildLeakWorld,
  type LeakWorld,
  type Prober,
  type ProberKey,
  proberKeys,
} from '../support/leak-world.ts';

/**
 * Issue 11, deliverable 9: the leak hunt. One world per engine in which every kind of record exists
 * out of reach of each prober in one way (another organisation, another school, no path, blocked,
 * excluded, no clearance, the allegation's subject, no step-up, an Admin without clearances), each
 * with a marker in every text field. Every GET of the OpenAPI document, with every id of the world
 * in each path parameter and every filter set to ids and markers, must show no prober a marker or
 * an id of a record hidden from them, nor answer a hidden id differently from one that does not exist.
 */
describe('leak hunt: no GET route shows a record to someone who may not read it', () => {
  let world: LeakWorld;
  let hunter: LeakHunter;
  let routes: Route[];

  beforeAll(async () => {
    world = await buildLeakWorld();
    const openapi = await world.haven.get('/api/v1/openapi.json', world.ownerToken);
    if (openapi.status !== 200) throw new Error(`no OpenAPI document (${openapi.status})`);
    routes = getRoutes(openapi.body);
    hunter = new LeakHunter(world, await auditActions(world));
  }, 300_000);

  afterAll(async () => {
    await world?.haven.close();
  });

  const fail = (findings: Finding[], what: string) =>
    `${findings.length} ${what}:\n${hunter.report(findings)}${
      world.notes.length ? `\n\nWorld notes:\n${world.notes.join('\n')}` : ''
    }`;

  // First, before any prober has asked for a hidden id (which would put that id in the log as
  // the prober's own request): the logs, read by those who may read them first.
  it('the audit and access logs show no prober a record they cannot read', async () => {
    const logRoutes = routes.filter(isLogRoute);
    expect(logRoutes.map((r) => r.path)).toEqual(
      expect.arrayContaining(['/api/v1/audit-log', '/api/v1/access-log']),
    );
    const readers: Prober[] = [];
    const others: Prober[] = [];
    for (const key of proberKeys) {
      const prober = world.probers[key];
      const plain = await hunter.fetch(prober, '/api/v1/audit-log');
      (plain.status === 200 ? readers : others).push(prober);
    }
    // The Admin is the prober this part is about: it must reach the logs, or nothing is proven.
    expect(readers.map((p) => p.key)).toContain('adminWithoutClearance');
    const before = hunter.findings.length;
    for (const prober of [...readers, ...others]) await hunter.hunt(prober, logRoutes);
    const found = hunter.findings.slice(before);
    if (found.length > 0) throw new Error(fail(found, 'leaks through the logs'));
  }, 300_000);

  it('positive controls: the hunt finds a marker where the prober may read the record', async () => {
    const record = (label: string) => {
      const r = world.records.find((x) => x.label === label);
      if (!r) throw new Error(`no record ${label}`);
      return r;
    };
    const i = world.ids;
    const controls: [ProberKey, string, string][] = [
      [
        'otherOrganisation',
        `/api/v1/students/${i.bStudent}`,
        'organisation B, its student and its child-protection incident',
      ],
      ['otherSchool', `/api/v1/incidents/${i['std-w']}`, 'incident at school A2 about W'],
      ['noPath', '/api/v1/me', 'user prober-no-path'],
      ['blocked', `/api/v1/incidents/${i['cp-v']}`, 'incident cp-v, with its earlier revision'],
      [
        'blocked',
        `/api/v1/incidents/${i.allegation}`,
        'incident allegation, with its earlier revision',
      ],
      ['blocked', `/api/v1/students/${i.V}`, 'student V'],
      ['excluded', `/api/v1/incidents/${i['cp-v']}`, 'incident cp-v, with its earlier revision'],
      [
        'excluded',
        `/api/v1/incidents/${i.allegation}`,
        'incident allegation, with its earlier revision',
      ],
      [
        'noClearance',
        `/api/v1/incidents/${i['std-v']}`,
        'incident std-v, with its earlier revision',
      ],
      [
        'noClearance',
        `/api/v1/incidents/${i.lowered}`,
        'incident lowered from child protection to standard (current version)',
      ],
      [
        'allegationSubject',
        `/api/v1/incidents/${i['cp-v']}`,
        'incident cp-v, with its earlier revision',
      ],
      ['noStepUp', `/api/v1/incidents/${i['std-v']}`, 'incident std-v, with its earlier revision'],
      [
        'adminWithoutClearance',
        `/api/v1/incidents/${i['std-v']}`,
        'incident std-v, with its earlier revision',
      ],
      [
        'adminWithoutClearance',
        `/api/v1/imports/${i.adminImportRun}`,
        'import run of-the-admin-prober',
      ],
    ];
    for (const [key, url, label] of controls) {
      const prober = world.probers[key];
      const r = record(label);
      // The world agrees: this prober may read this record.
      expect(r.hiddenFrom, `${key} may read ${label}`).not.toContain(key);
      const answer = await hunter.fetch(prober, url);
      expect(answer.status, `${key} reads ${url}`).toBe(200);
      const planted = new Map(
        [...r.ids, ...r.markers].map((token) => [token.toLowerCase(), { token, record: r }]),
      );
      const seen = hunter.scan(prober, { route: url, url, supplied: [] }, answer, planted);
      expect(seen.length, `the scan sees ${label} in ${url} as ${key}`).toBeGreaterThan(0);
    }
    // The step-up is what holds the no-step-up prober back, not a missing clearance.
    const cp = await hunter.fetch(world.probers.noStepUp, `/api/v1/incidents/${i['cp-v']}`);
    expect(cp.status).toBe(403);
    expect(cp.text).toContain('mfa_required');

    // The whole engine, on a world where a record the prober reads is declared hidden from them:
    // it must report both the content and the difference from an id that does not exist.
    for (const key of ['noClearance', 'blocked'] as const) {
      const planted: LeakWorld = {
        ...world,
        records: world.records.map((r) =>
          r.label === 'incident std-v, with its earlier revision'
            ? { ...r, hiddenFrom: [...r.hiddenFrom, key] }
            : r,
        ),
      };
      const control = new LeakHunter(planted, []);
      await control.hunt(
        world.probers[key],
        routes.filter((r) => r.path === '/api/v1/incidents/{id}'),
      );
      const kinds = new Set(
        control.findings.filter((f) => f.record.includes('std-v')).map((f) => f.kind),
      );
      expect([...kinds].sort(), `the planted leak is found as ${key}`).toEqual([
        'content',
        'existence',
      ]);
    }
  }, 120_000);

  it('no GET route shows a prober a hidden record, with any id or filter', async () => {
    const before = hunter.findings.length;
    const requestsBefore = hunter.requests;
    const started = Date.now();
    const hunted = routes.filter((r) => !isLogRoute(r) && !isReportingPicker(r));
    expect(hunted.length).toBeGreaterThan(20);
    const verbose = Boolean(process.env.LEAK_HUNT_VERBOSE);
    for (const key of proberKeys) {
      const t0 = Date.now();
      const r0 = hunter.requests;
      await hunter.hunt(world.probers[key], hunted);
      if (verbose)
        console.info(`${key}: ${hunter.requests - r0} requests in ${Date.now() - t0} ms`);
    }
    const found = hunter.findings.slice(before);
    console.info(
      `leak hunt: ${hunter.requests - requestsBefore} requests over ${hunted.length} GET routes ` +
        `as ${proberKeys.length} probers in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `query parameters left untried: ${[...hunter.untested].join(', ') || 'none'}`,
    );
    if (verbose)
      console.info(
        [...hunter.statuses]
          .map(([route, byStatus]) => {
            const statuses = [...byStatus].map(([s, n]) => `${s}x${n}`).join(' ');
            return `${route}: ${statuses}, ${Math.round(hunter.timing.get(route) ?? 0)} ms`;
          })
          .join('\n'),
      );
    if (found.length > 0) throw new Error(fail(found, 'leaks'));
  }, 600_000);

  // Reporting (spec section 4): anyone holding a role at a school may find any child on roll there
  // by name, except one they are blocked from. The picker is hunted with that rule: a child's id and
  // names are hidden from those without a role at the child's school and from the blocked, and the
  // rest of the child's record from whoever may not see the child.
  it('the reporting picker shows names of the children each prober may report about, and no more', async () => {
    const reportable: Record<string, ProberKey[]> = {
      'student V': ['otherOrganisation', 'otherSchool'],
      'student H': ['otherOrganisation', 'otherSchool', 'blocked'],
      'student W': ['otherOrganisation', 'noPath', 'noClearance'],
    };
    const records = world.records.flatMap((r) => {
      const hiddenFrom = reportable[r.label];
      if (!hiddenFrom) return [r];
      const [id, ...otherIds] = r.ids;
      const [given, family, ...otherMarkers] = r.markers;
      return [
        {
          ...r,
          label: `${r.label} (its names)`,
          ids: [id!],
          markers: [given!, family!],
          hiddenFrom,
        },
        { ...r, ids: otherIds, markers: otherMarkers },
      ];
    });
    expect(records.length).toBe(world.records.length + 3);
    const picker = new LeakHunter({ ...world, records }, []);
    const pickerRoutes = routes.filter(isReportingPicker);
    expect(pickerRoutes).toHaveLength(1);
    for (const key of proberKeys) await picker.hunt(world.probers[key], pickerRoutes);
    if (picker.findings.length > 0)
      throw new Error(
        `${picker.findings.length} leaks through the reporting picker:\n${picker.report(picker.findings)}`,
      );
    // Positive control: the Viewer in no group finds a child of their school there.
    const found = await picker.fetch(world.probers.noPath, '/api/v1/reportable-students');
    expect(found.text).toContain(world.ids.V);
  }, 300_000);

  it('every count agrees with the list it counts (no hidden child or record counted)', async () => {
    const found: Finding[] = [];
    const count = (
      prober: Prober,
      route: string,
      url: string,
      counted: number,
      listed: number,
      what: string,
    ) => {
      if (counted !== listed)
        found.push({
          kind: 'count',
          prober: prober.key,
          route,
          url,
          status: 200,
          leaked: `counts ${counted}, lists ${listed}`,
          record: what,
          snippet: '',
        });
    };
    for (const key of proberKeys) {
      const prober = world.probers[key];
      const groups = await hunter.fetch(prober, '/api/v1/student-groups');
      if (groups.status === 200)
        for (const g of JSON.parse(groups.text).items ?? []) {
          if (typeof g.memberCount !== 'number') continue;
          const listed = await allItems(hunter, prober, `/api/v1/student-groups/${g.id}/students`);
          count(
            prober,
            '/api/v1/student-groups',
            '/api/v1/student-groups',
            g.memberCount,
            listed.length,
            `memberCount of student group ${hunter.name(g.id)}`,
          );
        }
      for (const [list, counter] of [
        ['/api/v1/students', '/api/v1/students/count'],
        ['/api/v1/incidents', '/api/v1/incidents/count'],
      ] as const) {
        const counted = await hunter.fetch(prober, counter);
        if (counted.status !== 200) continue;
        const listed = await allItems(hunter, prober, list);
        count(prober, counter, counter, JSON.parse(counted.text).count, listed.length, list);
      }
    }
    if (found.length > 0) throw new Error(fail(found, 'counts that disagree with their lists'));
  }, 120_000);
});

/** `GET /reportable-students`, which shows names by the reporting rule, not the seeing rule. */
function isReportingPicker(route: Route): boolean {
  return route.path === '/api/v1/reportable-students';
}

/** Every item of a list, following its cursor. */
async function allItems(hunter: LeakHunter, prober: Prober, url: string): Promise<unknown[]> {
  const items: unknown[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const answer = await hunter.fetch(
      prober,
      `${url}?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    if (answer.status !== 200) return items;
    const body = JSON.parse(answer.text);
    items.push(...(body.items ?? []));
    cursor = body.nextCursor ?? undefined;
    if (!cursor) break;
  }
  return items;
}

/** The actions of the audit log's rows about a record, to try as the `action` filter. */
async function auditActions(world: LeakWorld): Promise<string[]> {
  const rows = await world.haven.database.db
    .selectFrom('audit_events')
    .select('action')
    .where('target_id', 'is not', null)
    .distinct()
    .execute();
  return rows.map((r) => r.action);
}
