/**
 * Checks one peer against the reference model and prints its costs (a development aid; the
 * benchmark itself cross-checks every peer against Haven).
 *   npx tsx bench/peers/check.ts casbin|cedar|spicedb [--scale 0.02]
 * Exits non-zero on any disagreement.
 */
import { generateFixture } from '../fixture.ts';
import { ReferenceModel } from '../reference.ts';
import { createPeer, type PeerName, peerNames } from './index.ts';

const name = process.argv[2] as PeerName;
if (!peerNames.includes(name)) throw new Error(`name a peer: ${peerNames.join(', ')}`);

const scaleArg = process.argv.indexOf('--scale');
const scale = scaleArg === -1 ? 0.02 : Number(process.argv[scaleArg + 1]);
if (!(scale > 0)) throw new Error('--scale takes a positive number');

// Sampled RSS misses peaks inside long synchronous stretches, so the kernel's high-water mark
// (getrusage maxRSS) is reported beside it.
let sampledPeak = 0;
const sample = () => {
  sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
};
const sampler = setInterval(sample, 20);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
const ms = (t0: number) => performance.now() - t0;

let failures = 0;
const fail = (message: string) => {
  failures += 1;
  if (failures <= 20) console.log(`DISAGREE ${message}`);
};

let t0 = performance.now();
const fixture = generateFixture({ scale });
const reference = new ReferenceModel(fixture);
sample();
console.log(
  `scale ${scale}: fixture ${ms(t0).toFixed(0)} ms, ${fixture.users.length} users, ${fixture.students.length} students, rss ${mb(process.memoryUsage().rss)}`,
);

const peer = await createPeer(name);
const rssBefore = process.memoryUsage().rss;
t0 = performance.now();
await peer.load(fixture);
const loadMs = ms(t0);
sample();
console.log(
  `load ${(loadMs / 1000).toFixed(2)} s, rss ${mb(rssBefore)} -> ${mb(process.memoryUsage().rss)}`,
);

// Deterministic sample: users who hold a role (directly or through a group), each asked about a
// student they can see, one at the same school, and one anywhere; then every block and persona.
let seed = 7;
const random = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const grantHolders = new Set<string>();
for (const grant of fixture.grants) {
  if (grant.subject.type === 'user') grantHolders.add(grant.subject.key);
  else
    for (const m of fixture.userGroups.find((g) => g.key === grant.subject.key)?.members ?? [])
      grantHolders.add(m);
}
const holders = [...grantHolders];
const schoolOf = new Map(fixture.students.map((s) => [s.key, s.school]));
const bySchool = new Map<string, string[]>();
for (const s of fixture.students) {
  const list = bySchool.get(s.school) ?? [];
  list.push(s.key);
  bySchool.set(s.school, list);
}
const pairs: [string, string][] = [];
for (let i = 0; i < 100; i++) {
  const user = pick(holders);
  const visible = [...reference.visible(user)];
  const near = visible.length > 0 ? pick(visible) : pick(fixture.students).key;
  pairs.push([user, near]);
  pairs.push([user, pick(bySchool.get(schoolOf.get(near)!)!)]);
  pairs.push([user, pick(fixture.students).key]);
}
for (const b of fixture.blocks) pairs.push([b.user, b.student]);
for (const p of fixture.personas) pairs.push([p.user, p.student]);

let allowed = 0;
for (const [user, student] of pairs) {
  const got = await peer.check(user, student);
  const want = reference.check(user, student);
  if (got) allowed += 1;
  if (got !== want) fail(`check ${user} ${student}: ${name} ${got}, reference ${want}`);
}
console.log(`check: ${pairs.length} pairs (${fixture.blocks.length} blocked, ${allowed} allowed)`);

// Median over ~2000 checks, cycling through the sample.
const latencies: number[] = [];
for (let i = 0; i < 2000; i++) {
  const [user, student] = pairs[i % pairs.length]!;
  const t = performance.now();
  await peer.check(user, student);
  latencies.push(performance.now() - t);
}
latencies.sort((a, b) => a - b);
const median = latencies[latencies.length >> 1]!;
console.log(
  `check latency: median ${(median * 1000).toFixed(0)} µs, p99 ${(latencies[Math.floor(latencies.length * 0.99)]! * 1000).toFixed(0)} µs`,
);

const sameSet = (got: string[], want: Set<string>) =>
  got.length === want.size && new Set(got).size === got.length && got.every((k) => want.has(k));

for (const persona of fixture.personas) {
  t0 = performance.now();
  const got = await peer.lookupStudents(persona.user);
  const took = ms(t0);
  sample();
  const want = reference.visible(persona.user);
  if (!sameSet(got, want))
    fail(
      `lookupStudents ${persona.name} (${persona.user}): ${name} ${got.length}, reference ${want.size}`,
    );
  const explain = JSON.stringify((await peer.explain?.(persona.user, persona.student)) ?? null);
  console.log(
    `lookupStudents ${persona.name.padEnd(24)} ${String(got.length).padStart(6)} students in ${took.toFixed(0).padStart(7)} ms; explain ${persona.student}: ${explain.slice(0, 160)}`,
  );
}

// lookupUsers, for the persona students, against the reference over every user who could qualify
// (a member of some group or a holder of a direct link or grant).
const candidates = new Set<string>([...grantHolders, ...fixture.directLinks.map((l) => l.user)]);
for (const persona of fixture.personas) {
  t0 = performance.now();
  if (!peer.lookupUsers) break;
  const got = await peer.lookupUsers(persona.student);
  const took = ms(t0);
  const want = new Set([...candidates].filter((u) => reference.check(u, persona.student)));
  if (!sameSet(got, want))
    fail(`lookupUsers ${persona.student}: ${name} ${got.length}, reference ${want.size}`);
  console.log(
    `lookupUsers ${persona.student} ${String(got.length).padStart(4)} users in ${took.toFixed(0).padStart(6)} ms`,
  );
}

// Removal: the form tutor leaves their pastoral team, the All-staff persona leaves All staff.
const removals = [
  {
    persona: fixture.personas.find((p) => p.name === 'form tutor')!,
    group: (user: string) =>
      fixture.userGroups.find((g) => g.key.includes('/pastoral-') && g.members.includes(user))!.key,
  },
  {
    persona: fixture.personas.find((p) => p.name === 'member of All staff')!,
    group: () => 'trust/all-staff',
  },
];
for (const { persona, group } of removals) {
  const key = group(persona.user);
  const before = await peer.check(persona.user, persona.student);
  t0 = performance.now();
  await peer.removeMember(persona.user, key);
  const took = ms(t0);
  reference.removeMember(persona.user, key);
  const after = await peer.check(persona.user, persona.student);
  if (after !== reference.check(persona.user, persona.student))
    fail(`check after removing ${persona.user} from ${key}`);
  const got = await peer.lookupStudents(persona.user);
  if (!sameSet(got, reference.visible(persona.user)))
    fail(`lookupStudents after removing ${persona.user} from ${key}`);
  console.log(
    `removeMember ${persona.user} from ${key} in ${took.toFixed(0)} ms: check ${persona.student} ${before} -> ${after}, now sees ${got.length}`,
  );
}

await peer.close();
clearInterval(sampler);
sample();
console.log(
  `peak rss: sampled ${mb(sampledPeak)}, getrusage ${mb(process.resourceUsage().maxRSS * 1024)}`,
);
console.log(failures === 0 ? 'all agree' : `${failures} disagreements`);
process.exit(failures === 0 ? 0 : 1);
