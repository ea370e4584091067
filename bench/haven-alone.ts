/**
 * Haven's own memory: every persona's operations on a database the benchmark loaded, run in a
 * process of their own, so that the peak counts Haven alone (no fixture, reference model or
 * peers). Reads its task as JSON on stdin and prints `{"peakMb": ...}` (the kernel's VmHWM).
 * Only its type is imported elsewhere (`import type`), so importing never runs it.
 *
 *   node --import tsx bench/haven-alone.ts < task.json
 */
import { readFileSync } from 'node:fs';
import { viewerOf } from '../src/access/decide.ts';
import { loadPrincipal } from '../src/access/principal.ts';
import { openDatabase } from '../src/db/database.ts';
import { AccessService } from '../src/modules/access/service.ts';
import { findVisibleStudent } from '../src/modules/students/repository.ts';
import { StudentService } from '../src/modules/students/service.ts';
import { peakRssMb } from './stats.ts';

export interface AloneTask {
  databaseUrl?: string;
  dataDir?: string;
  organisationId: string;
  /** Asks the administrative questions (sees every child). */
  auditorId: string;
  personas: { userId: string; studentId: string; search: string }[];
}

const task = JSON.parse(readFileSync(0, 'utf8')) as AloneTask;
const database = openDatabase(
  task.databaseUrl ? { databaseUrl: task.databaseUrl } : { dataDir: task.dataDir! },
);
const db = database.db;
const t = { organisationId: task.organisationId };
const students = new StudentService(database);
const access = new AccessService(database, { mfaWindowMs: 15 * 60_000 });
const auditor = await loadPrincipal(db, task.organisationId, task.auditorId);
for (const p of task.personas) {
  const principal = await loadPrincipal(db, task.organisationId, p.userId);
  await findVisibleStudent(db, t, viewerOf(principal), p.studentId);
  // Every page of the persona's list, as the cross-check reads it.
  let cursor: string | undefined;
  do {
    const page = await students.list(principal, { limit: 200, cursor });
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  await students.list(principal, { limit: 50, q: p.search });
  await students.count(principal, {});
  do {
    const page = await access.whoCanSee(auditor, p.studentId, { limit: 200, cursor });
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  await access.explain(auditor, { userId: p.userId, studentId: p.studentId });
  await access.effective(auditor, p.userId, undefined);
}
await database.close();
console.log(JSON.stringify({ peakMb: peakRssMb() }));
