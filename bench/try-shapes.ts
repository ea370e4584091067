import { viewerOf } from '../src/access/decide.ts';
import { searchTokens } from '../src/modules/students/names.ts';
import {
  type PageShape,
  pageOfVisibleStudents,
  planStudentPage,
  walkedSchools,
} from '../src/modules/students/repository.ts';
import { openLoadedTrial } from './trial.ts';

const scale = Number(process.argv[2] ?? 1);
const { database, fixture, loaded, ops } = await openLoadedTrial(scale);
const t = { organisationId: loaded.organisationId };
const time = async (fn: () => Promise<unknown>, n = 20) => {
  for (let i = 0; i < 3; i++) await fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - t0) / n).toFixed(2);
};
const shapes = (process.argv[3] ?? 'scan,school,reach,search').split(',') as PageShape[];
for (const p of fixture.personas) {
  const principal = await ops.principal(p.user);
  const viewer = viewerOf(principal);
  const plan = await planStudentPage(database.db, t, viewer, {
    words: [],
    walk: walkedSchools(viewer, {}),
    limit: 50,
  });
  const planQ = await planStudentPage(database.db, t, viewer, {
    words: searchTokens(p.search),
    walk: walkedSchools(viewer, {}),
    limit: 50,
  });
  const out: Record<string, string> = {
    plan: plan.shape,
    planQ: planQ.shape,
    schools: String(viewer.schools === 'all' ? 'all' : viewer.schools.length),
  };
  for (const shape of shapes) {
    out[shape] = await time(() =>
      pageOfVisibleStudents(database.db, t, viewer, { limit: 50, shape }),
    );
    out[`${shape}Q`] = await time(() =>
      pageOfVisibleStudents(database.db, t, viewer, { limit: 50, shape, q: p.search }),
    );
  }
  out.auto = await time(() => pageOfVisibleStudents(database.db, t, viewer, { limit: 50 }));
  console.log(p.name.padEnd(26), JSON.stringify(out));
}
await database.close();
