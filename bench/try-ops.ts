import { openLoadedTrial } from './trial.ts';

const scale = Number(process.argv[2] ?? 1);
const { database, fixture, ops } = await openLoadedTrial(scale);
const lead = await ops.principal(
  fixture.personas.find((p) => p.name === 'trust safeguarding lead')!.user,
);
const time = async (fn: () => Promise<unknown>, n = 10) => {
  await fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - t0) / n).toFixed(2);
};
for (const p of fixture.personas) {
  const principal = await ops.principal(p.user);
  // The middle of the caller's list, as the benchmark's deep page.
  const middle = Math.floor((await ops.students.count(principal, {})) / 50 / 2);
  let cursor: string | undefined;
  for (let i = 0; i < middle; i++) {
    const page = await ops.page(principal, { limit: 50, cursor });
    cursor = page.nextCursor ?? undefined;
    if (!cursor) break;
  }
  console.log(p.name.padEnd(26), {
    principal: await time(() => ops.principal(p.user), 20),
    deep: cursor ? await time(() => ops.page(principal, { limit: 50, cursor })) : 'n/a',
    who: await time(() => ops.whoCanSee(lead, p.student), 5),
    explain: await time(() => ops.explain(lead, p.user, p.student), 5),
    effective: await time(() => ops.effective(lead, p.user), 3),
  });
}
await database.close();
