import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { formatHead, verifyAuditChains } from '../../src/modules/audit/verify.ts';
import { MANIFEST_MEMBER, type Manifest } from '../../src/modules/backup/manifest.ts';
import { dropScratchDatabase, hasPgTool } from '../../src/modules/backup/postgres.ts';
import { extractArchive, TarWriter } from '../../src/modules/backup/tar.ts';
import { loadSecretKey, newSecretKeyText } from '../../src/modules/documents/keys.ts';
import { openDocumentStorage } from '../../src/modules/documents/storage.ts';
import { runHaven, spawnHaven } from '../support/cli.ts';
import { testEngine } from '../support/database.ts';
import { createStudent } from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';
import { logConcern, type School, school } from '../support/school.ts';

const engine = testEngine();
const pgTools =
  engine === 'postgres' && (await hasPgTool('pg_dump')) && (await hasPgTool('pg_restore'));
const skipped =
  engine === 'postgres' && !pgTools ? 'pg_dump and pg_restore are not on PATH' : undefined;

/** A PDF whose bytes name the child it belongs to, so each restored document can be recognised. */
function pdfFor(label: string): Buffer {
  return Buffer.from(`%PDF-1.4\n% ${label}\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n`);
}

async function upload(h: TestHaven, s: School, studentId: string, bytes: Buffer) {
  const reply = await h.request('POST', `/api/v1/students/${studentId}/documents`, {
    token: s.users.dsl.token,
    query: { filename: 'note.pdf' },
    headers: { 'content-type': 'application/pdf' },
    body: bytes,
  });
  expect(reply.status).toBe(201);
  return reply.body.id as string;
}

function readManifest(archive: string): Manifest {
  // Read with the system's tar: the archive is an ordinary .tar.gz.
  return JSON.parse(execFileSync('tar', ['-xzOf', archive, MANIFEST_MEMBER], { encoding: 'utf8' }));
}

/** Every file under `dir` with its SHA-256: what "unchanged" is checked against. */
function tree(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    files[path.relative(dir, file)] = createHash('sha256').update(readFileSync(file)).digest('hex');
  }
  return files;
}

async function countOf(db: Database, table: 'students' | 'incidents' | 'audit_events') {
  const row = await db.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Where a restore goes: a fresh data directory and, on PostgreSQL, a fresh database on the same
 * server whose search_path names the test's schema (the dump recreates that schema).
 */
interface Target {
  dataDir: string;
  env: Record<string, string>;
  open(): Database;
}

const targets: { dispose(): Promise<void> }[] = [];
afterEach(async () => {
  for (const target of targets.splice(0)) await target.dispose();
});

async function newTarget(h: TestHaven): Promise<Target> {
  const root = mkdtempSync(path.join(tmpdir(), 'haven-restore-'));
  const dataDir = path.join(root, 'data');
  if (engine === 'sqlite') {
    targets.push({ dispose: async () => rmSync(root, { recursive: true, force: true }) });
    return {
      dataDir,
      env: { HAVEN_DATA_DIR: dataDir },
      open: () => openDatabase({ dataDir }),
    };
  }
  const live = new URL(h.db.env.DATABASE_URL!);
  const schema = /search_path=(\S+)/.exec(live.searchParams.get('options') ?? '')![1]!;
  const name = `haven_backup_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: process.env.HAVEN_TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(live);
  url.pathname = `/${name}`;
  targets.push({
    dispose: async () => {
      rmSync(root, { recursive: true, force: true });
      const cleanup = new pg.Client({ connectionString: process.env.HAVEN_TEST_DATABASE_URL });
      await cleanup.connect();
      await dropScratchDatabase(cleanup, name);
      await cleanup.end();
    },
  });
  const plain = new URL(url);
  plain.searchParams.delete('options');
  return {
    dataDir,
    env: { HAVEN_DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    open: () => openDatabase({ databaseUrl: plain.toString(), searchPath: schema, poolSize: 2 }),
  };
}

function archivePath(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'haven-archive-'));
  targets.push({ dispose: async () => rmSync(dir, { recursive: true, force: true }) });
  return path.join(dir, 'haven.tar.gz');
}

/** Copies the live installation's key into `target` as an operator keeping it apart would. */
function bringKey(h: TestHaven, target: Target) {
  execFileSync('mkdir', ['-p', '-m', '700', target.dataDir]);
  copyFileSync(path.join(h.config.dataDir, 'secret.key'), path.join(target.dataDir, 'secret.key'));
  chmodSync(path.join(target.dataDir, 'secret.key'), 0o600);
}

/**
 * A copy of `archive` rewritten by `edit`, with every member's hash recomputed: only the checks
 * after the hashes (manifest facts, audit chains) can catch what `edit` changed.
 */
async function rewritten(
  archive: string,
  edit: (dir: string, manifest: Manifest) => void,
): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'haven-rewrite-'));
  targets.push({ dispose: async () => rmSync(dir, { recursive: true, force: true }) });
  const members = await extractArchive(archive, path.join(dir, 'x'));
  const manifest = JSON.parse(readFileSync(path.join(dir, 'x', MANIFEST_MEMBER), 'utf8'));
  edit(path.join(dir, 'x'), manifest);
  const out = path.join(dir, 'edited.tar.gz');
  const writer = new TarWriter(out, { mtime: new Date() });
  const listed = [];
  for (const member of members.slice(0, -1))
    listed.push(await writer.addFile(member.path, path.join(dir, 'x', member.path)));
  manifest.members = listed;
  await writer.addBytes(MANIFEST_MEMBER, Buffer.from(JSON.stringify(manifest)));
  await writer.finish();
  return out;
}

/** A school with a few children, concerns and documents, backed up (in this process) to a file. */
async function backedUp(h: TestHaven, args: string[] = []) {
  const s = await school(h);
  const documents: Record<string, Buffer> = {};
  for (const [label, id] of Object.entries(s.students)) {
    await logConcern(h, s, s.t, { studentIds: [id] });
    const bytes = pdfFor(label);
    documents[await upload(h, s, id, bytes)] = bytes;
  }
  const archive = archivePath();
  const made = await runHaven(h, ['backup', '--out', archive, ...args]);
  expect(made.err).toBe('');
  expect(made.code).toBe(0);
  return { s, archive, documents, manifest: readManifest(archive) };
}

async function expectDocumentsOpen(target: Target, documents: Record<string, Buffer>) {
  const store = openDocumentStorage({
    dataDir: target.dataDir,
    masterKey: loadSecretKey({ dataDir: target.dataDir }),
  });
  const restored = target.open();
  try {
    const rows = await restored.db.selectFrom('documents').select(['id', 'sha256']).execute();
    expect(rows.map((r) => r.id).sort()).toEqual(Object.keys(documents).sort());
    for (const row of rows)
      expect((await store.load(row.id, row.sha256)).equals(documents[row.id]!)).toBe(true);
  } finally {
    await restored.close();
  }
}

describe.skipIf(skipped !== undefined)(
  `haven backup and haven restore${skipped ? ` (skipped: ${skipped})` : ''}`,
  () => {
    const haven = useHaven();

    it('a backup taken during a burst of writes restores to a database whose audit chains verify and whose counts match its manifest', async () => {
      const h = haven();
      const s = await school(h);
      const before = await countOf(h.database, 'students');
      // Recent changes stay in the WAL, as on a busy server between checkpoints: a copy of
      // haven.sqlite alone would miss them all.
      if (engine === 'sqlite') await sql`pragma wal_autocheckpoint = 0`.execute(h.database.db);
      const uploaded: Record<string, Buffer> = {};
      const children: string[] = [];
      let writes = 0;
      let stop = false;
      // Concurrent changes through the HTTP app: a child, a concern about them, every third a document.
      const burst = (async () => {
        while (!stop) {
          const child = await createStudent(h, s.t, { schoolId: s.org.schoolId, yearGroup: 9 });
          children.push(child);
          await logConcern(h, s, s.t, { studentIds: [child] });
          if (writes % 3 === 0) {
            const bytes = pdfFor(child);
            uploaded[await upload(h, s, child, bytes)] = bytes;
          }
          writes += 1;
        }
      })();
      while (writes < 3) await new Promise((resolve) => setTimeout(resolve, 5));
      const writesAtStart = writes;
      // Committed before the backup starts: the backup must hold every one of them.
      const committedBefore = [...children];
      const archive = archivePath();
      // Its own process, as an operator runs it beside a serving Haven.
      const made = await spawnHaven(h, ['backup', '--out', archive]);
      const writesDuring = writes - writesAtStart;
      stop = true;
      await burst;
      expect(made.code, made.err).toBe(0);
      expect(made.out).toMatch(/^Backup written to /);
      expect(writesDuring).toBeGreaterThan(0);
      expect(statSync(archive).mode & 0o777).toBe(0o600);

      const manifest = readManifest(archive);
      const listed = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' })
        .trim()
        .split('\n');
      expect(listed).toEqual([...manifest.members.map((m) => m.path), MANIFEST_MEMBER]);
      expect(listed).not.toContain('secret.key');
      expect(manifest.key).toMatchObject({ included: false, check: expect.any(String) });
      // The snapshot fell inside the burst: children written before it are in, later ones not.
      expect(manifest.counts.students).toBeGreaterThan(before);
      expect(await countOf(h.database, 'students')).toBeGreaterThan(manifest.counts.students);
      // The backup's heads are rows of the live chains, and the rows up to them are its count.
      const live = await verifyAuditChains(h.database.db, manifest.auditHeads);
      expect(live.problems).toEqual([]);
      let upToHeads = 0;
      for (const head of manifest.auditHeads) {
        const row = await h.database.db
          .selectFrom('audit_events')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('chain_id', '=', head.chainId)
          .where('seq', '<=', head.seq)
          .executeTakeFirstOrThrow();
        upToHeads += Number(row.n);
      }
      expect(upToHeads).toBe(manifest.counts.auditEvents);

      const target = await newTarget(h);
      bringKey(h, target);
      const keyBefore = readFileSync(path.join(target.dataDir, 'secret.key'));
      const restored = await runHaven(
        h,
        ['restore', '--from', archive, '--data-dir', target.dataDir],
        target.env,
      );
      expect(restored.err).toBe('');
      expect(restored.code).toBe(0);
      expect(restored.out).toMatch(/The installation key was kept/);
      expect(readFileSync(path.join(target.dataDir, 'secret.key')).equals(keyBefore)).toBe(true);

      const db = target.open();
      try {
        const report = await verifyAuditChains(db.db);
        expect(report.problems).toEqual([]);
        expect(report.heads.map(formatHead)).toEqual(manifest.auditHeads.map(formatHead));
        expect(await countOf(db, 'students')).toBe(manifest.counts.students);
        expect(await countOf(db, 'incidents')).toBe(manifest.counts.incidents);
        expect(await countOf(db, 'audit_events')).toBe(manifest.counts.auditEvents);
        // One snapshot: every child and concern came with the audit row written in its change.
        const created = async (action: string) =>
          Number(
            (
              await db.db
                .selectFrom('audit_events')
                .select((eb) => eb.fn.countAll().as('n'))
                .where('action', '=', action)
                .executeTakeFirstOrThrow()
            ).n,
          );
        expect(await created('student.create')).toBe(manifest.counts.students);
        expect(await created('incident.create')).toBe(manifest.counts.incidents);
        const found = await db.db
          .selectFrom('students')
          .select('id')
          .where('id', 'in', committedBefore)
          .execute();
        expect(found.length).toBe(committedBefore.length);
      } finally {
        await db.close();
      }
      // The documents the snapshot lists came back and open with the key that stayed.
      const inSnapshot = Object.fromEntries(
        Object.entries(uploaded).filter(([id]) =>
          manifest.members.some((m) => m.path.endsWith(`/${id}`)),
        ),
      );
      expect(Object.keys(inSnapshot).length).toBe(manifest.counts.documents);
      expect(manifest.counts.documents).toBeGreaterThan(0);
      await expectDocumentsOpen(target, inSnapshot);
    });

    it('a damaged archive is refused and the installation it would replace is left as it was', async () => {
      const h = haven();
      const { archive } = await backedUp(h);
      const target = await newTarget(h);
      bringKey(h, target);
      const first = await runHaven(
        h,
        ['restore', '--from', archive, '--data-dir', target.dataDir],
        target.env,
      );
      expect(first.code, first.err).toBe(0);
      const untouched = tree(target.dataDir);
      const countsBefore = await (async () => {
        const db = target.open();
        try {
          return [await countOf(db, 'students'), await countOf(db, 'audit_events')];
        } finally {
          await db.close();
        }
      })();
      const attempt = (file: string) =>
        runHaven(
          h,
          ['restore', '--from', file, '--data-dir', target.dataDir, '--force'],
          target.env,
        );
      const copy = (bytes: Buffer) => {
        const file = `${archivePath()}.damaged`;
        writeFileSync(file, bytes);
        return file;
      };
      const original = readFileSync(archive);

      const flipped = Buffer.from(original);
      flipped[Math.floor(flipped.length / 2)]! ^= 0x40;
      const truncated = original.subarray(0, Math.floor(original.length * 0.6));
      // A byte changed inside the database member, the gzip layer made whole again.
      const tar = gunzipSync(original);
      tar[512 + 4096]! ^= 0x01;
      const memberEdited = gzipSync(tar);

      for (const [bytes, reason] of [
        [flipped, /damaged/],
        [truncated, /damaged|cut short/],
        [memberEdited, /database\/haven\.(sqlite|pgdump) fails its SHA-256 check/],
      ] as const) {
        const refused = await attempt(copy(bytes));
        expect(refused.code).toBe(1);
        expect(refused.err).toMatch(/^Restore refused: /);
        expect(refused.err).toMatch(reason);
        expect(tree(target.dataDir)).toEqual(untouched);
      }

      // Hashes recomputed, but the facts the manifest states are false: the checks after the hashes.
      const badHead = await rewritten(archive, (_dir, m) => {
        m.auditHeads[0]!.hash = 'f'.repeat(64);
      });
      const badCount = await rewritten(archive, (_dir, m) => {
        m.counts.students += 1;
      });
      const badShape = await rewritten(archive, (_dir, m) => {
        delete (m as Partial<Manifest>).auditHeads;
      });
      for (const [file, reason] of [
        [badHead, /audit log does not verify/],
        [badCount, /holds 3 students; the manifest says 4/],
        [badShape, /not a Haven backup manifest.*auditHeads/],
      ] as const) {
        const refused = await attempt(file);
        expect(refused.code).toBe(1);
        expect(refused.err).toMatch(reason);
        expect(tree(target.dataDir)).toEqual(untouched);
      }
      const db = target.open();
      try {
        expect([await countOf(db, 'students'), await countOf(db, 'audit_events')]).toEqual(
          countsBefore,
        );
      } finally {
        await db.close();
      }
    });

    it.skipIf(engine !== 'sqlite')(
      'an audit row edited inside the archived database is refused, though every hash was recomputed',
      async () => {
        const h = haven();
        const { archive } = await backedUp(h);
        const edited = await rewritten(archive, (dir) => {
          const copy = new BetterSqlite3(path.join(dir, 'database', 'haven.sqlite'));
          copy.prepare("update audit_events set action = 'student.view' where seq = 2").run();
          copy.close();
        });
        const target = await newTarget(h);
        bringKey(h, target);
        const refused = await runHaven(
          h,
          ['restore', '--from', edited, '--data-dir', target.dataDir],
          target.env,
        );
        expect(refused.code).toBe(1);
        expect(refused.err).toMatch(/audit log does not verify: chain \S+: row 2 .* was edited/);
        expect(existsSync(path.join(target.dataDir, 'haven.sqlite'))).toBe(false);
      },
    );

    it.skipIf(engine !== 'postgres')(
      'on PostgreSQL without pg_dump on PATH, the archive holds the documents and says the database is not in it',
      async () => {
        const h = haven();
        const s = await school(h);
        const bytes = pdfFor('a');
        const id = await upload(h, s, s.students.a, bytes);
        const archive = archivePath();
        const bin = path.resolve(import.meta.dirname, '../../bin/haven.mjs');
        const made = await new Promise<{ code: number | null; out: string; err: string }>(
          (resolve) => {
            execFile(
              process.execPath,
              [bin, 'backup', '--out', archive],
              { env: { ...h.db.env, PATH: '/nonexistent', HAVEN_LOG_LEVEL: 'silent' } },
              (error, out, err) => resolve({ code: error ? (error.code as number) : 0, out, err }),
            );
          },
        );
        expect(made.code, made.err).toBe(0);
        expect(made.err).toMatch(/pg_dump is not on PATH/);
        expect(made.out).toMatch(/database not included/);
        const manifest = readManifest(archive);
        expect(manifest.database).toBeNull();
        expect(manifest.members.map((m) => m.path)).toEqual([`documents/${id.slice(-2)}/${id}`]);
        const target = await newTarget(h);
        bringKey(h, target);
        const refused = await runHaven(
          h,
          ['restore', '--from', archive, '--data-dir', target.dataDir],
          target.env,
        );
        expect(refused.code).toBe(1);
        expect(refused.err).toMatch(/holds no database/);
      },
    );

    it('without the key in the archive, the existing key stays and must be the right one', async () => {
      const h = haven();
      const { archive, documents, manifest } = await backedUp(h);
      expect(manifest.key.included).toBe(false);

      // No key anywhere: refused, and nothing is left behind, not even the directory.
      const keyless = await newTarget(h);
      const none = await runHaven(
        h,
        ['restore', '--from', archive, '--data-dir', keyless.dataDir],
        keyless.env,
      );
      expect(none.code).toBe(1);
      expect(none.err).toMatch(/This archive holds no key, and this installation has none/);
      expect(existsSync(keyless.dataDir)).toBe(false);

      // Another installation's key: refused before anything is replaced.
      const other = await newTarget(h);
      execFileSync('mkdir', ['-p', '-m', '700', other.dataDir]);
      writeFileSync(path.join(other.dataDir, 'secret.key'), `${newSecretKeyText()}\n`, {
        mode: 0o600,
      });
      const otherKey = tree(other.dataDir);
      const wrong = await runHaven(
        h,
        ['restore', '--from', archive, '--data-dir', other.dataDir],
        other.env,
      );
      expect(wrong.code).toBe(1);
      expect(wrong.err).toMatch(/is not the key this backup was made under/);
      expect(tree(other.dataDir)).toEqual(otherKey);

      // The right key, kept apart: it stays as it was, and every document opens with it.
      const target = await newTarget(h);
      bringKey(h, target);
      const key = readFileSync(path.join(target.dataDir, 'secret.key'));
      const restored = await runHaven(
        h,
        ['restore', '--from', archive, '--data-dir', target.dataDir],
        target.env,
      );
      expect(restored.code, restored.err).toBe(0);
      expect(readFileSync(path.join(target.dataDir, 'secret.key')).equals(key)).toBe(true);
      await expectDocumentsOpen(target, documents);
    });

    it('with --include-key the key comes back, and replaces a different one only when forced', async () => {
      const h = haven();
      const { archive, documents, manifest } = await backedUp(h, ['--include-key']);
      expect(manifest.key.included).toBe(true);
      const liveKey = loadSecretKey({ dataDir: h.config.dataDir });

      const target = await newTarget(h);
      const restored = await runHaven(
        h,
        ['restore', '--from', archive, '--data-dir', target.dataDir],
        target.env,
      );
      expect(restored.code, restored.err).toBe(0);
      expect(restored.out).toMatch(/key came from the archive/);
      expect(loadSecretKey({ dataDir: target.dataDir }).equals(liveKey)).toBe(true);
      expect(statSync(path.join(target.dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
      await expectDocumentsOpen(target, documents);

      // Over an installation with another key: refused, then done with --force, the old key kept.
      const other = await newTarget(h);
      execFileSync('mkdir', ['-p', '-m', '700', other.dataDir]);
      const otherKey = `${newSecretKeyText()}\n`;
      writeFileSync(path.join(other.dataDir, 'secret.key'), otherKey, { mode: 0o600 });
      const args = ['restore', '--from', archive, '--data-dir', other.dataDir];
      const refused = await runHaven(h, args, other.env);
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/holds a different key from the archive/);
      expect(readFileSync(path.join(other.dataDir, 'secret.key'), 'utf8')).toBe(otherKey);
      const forced = await runHaven(h, [...args, '--force'], other.env);
      expect(forced.code, forced.err).toBe(0);
      expect(loadSecretKey({ dataDir: other.dataDir }).equals(liveKey)).toBe(true);
      const aside = /The data it replaced is in (\S+);/.exec(forced.out)![1]!;
      expect(readFileSync(path.join(aside, 'secret.key'), 'utf8')).toBe(otherKey);
    });

    it('refuses to replace a running or existing installation unless forced, and keeps what it replaced', async () => {
      const h = haven();
      const { s, archive, manifest } = await backedUp(h);
      await createStudent(h, s.t, { schoolId: s.org.schoolId });
      const liveStudents = await countOf(h.database, 'students');
      expect(liveStudents).toBeGreaterThan(manifest.counts.students);

      // The installation this test's Haven is serving from.
      const running = await runHaven(h, ['restore', '--from', archive]);
      expect(running.code).toBe(1);
      expect(running.err).toMatch(
        engine === 'sqlite' ? /Haven looks to be running/ : /other session\(s\) are connected/,
      );
      expect(await countOf(h.database, 'students')).toBe(liveStudents);

      // A stopped installation: only with --force, and its data is moved aside, not deleted.
      const target = await newTarget(h);
      bringKey(h, target);
      const args = ['restore', '--from', archive, '--data-dir', target.dataDir];
      expect((await runHaven(h, args, target.env)).code).toBe(0);
      const again = await runHaven(h, args, target.env);
      expect(again.code).toBe(1);
      expect(again.err).toMatch(/already holds an installation/);
      const forced = await runHaven(h, [...args, '--force'], target.env);
      expect(forced.code, forced.err).toBe(0);
      if (engine === 'sqlite') {
        const aside = /The data it replaced is in (\S+);/.exec(forced.out)![1]!;
        expect(readdirSync(aside).sort()).toEqual(['documents', 'haven.sqlite']);
      } else {
        expect(forced.out).toMatch(/The database schema it replaced is now "[^"]+_pre_restore_/);
      }
      const db = target.open();
      try {
        expect(await countOf(db, 'students')).toBe(manifest.counts.students);
      } finally {
        await db.close();
      }
    });
  },
);
