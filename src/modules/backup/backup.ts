import { existsSync } from 'node:fs';
import { link, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { Config } from '../../config.ts';
import { openDatabase } from '../../db/database.ts';
import type { DB } from '../../db/tables.ts';
import { loadSecretKey, SECRET_KEY_FILE } from '../documents/keys.ts';
import { FileDocumentStore } from '../documents/storage.ts';
import {
  documentMember,
  KEY_MEMBER,
  keyCheck,
  MANIFEST_MEMBER,
  type Manifest,
  PG_DUMP_MEMBER,
  readSnapshotFacts,
  type SnapshotFacts,
  SQLITE_MEMBER,
} from './manifest.ts';
import { hasPgTool, libpqEnvironment, runPgTool } from './postgres.ts';
import { type ArchiveMember, TarWriter } from './tar.ts';

/** A backup that cannot be made; the message says why, in an operator's words. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

export interface BackupOptions {
  config: Pick<Config, 'dataDir' | 'databaseUrl' | 'secretKey' | 'databaseTimeouts'>;
  /** The archive to write; it must not exist yet. */
  out: string;
  /** Put the installation key in the archive (then the archive alone reads every document). */
  includeKey: boolean;
  now?: Date;
}

export interface BackupResult {
  out: string;
  manifest: Manifest;
  /** Things the operator should know that did not stop the backup. */
  warnings: string[];
}

/** The installation's master key if it has one; never creates one (loadSecretKey would). */
export function existingInstallationKey(
  config: Pick<Config, 'dataDir' | 'secretKey'>,
): Buffer | undefined {
  if (config.secretKey === undefined && !existsSync(path.join(config.dataDir, SECRET_KEY_FILE)))
    return undefined;
  return loadSecretKey({ secretKey: config.secretKey, dataDir: config.dataDir });
}

interface Snapshot {
  facts: SnapshotFacts;
  database: Manifest['database'];
  /** The file holding the database's copy, if the archive gets one. */
  file: string | undefined;
}

/**
 * Writes a consistent backup while Haven serves: the database as one snapshot, the documents
 * that snapshot lists (files are write-once, so each is as the snapshot knew it) and, only when
 * asked, the installation key; then `manifest.json` with every member's SHA-256, the schema
 * version, the audit chains' heads and the snapshot's counts. The archive appears under its
 * name only once complete and flushed to disk.
 */
export async function createBackup(options: BackupOptions): Promise<BackupResult> {
  const { config } = options;
  const out = path.resolve(options.out);
  if (existsSync(out)) throw new BackupError(`${out} already exists: choose a new file name`);
  const key = existingInstallationKey(config);
  if (options.includeKey && !key)
    throw new BackupError(
      `--include-key: this installation has no key (no HAVEN_SECRET_KEY, no ${path.join(config.dataDir, SECRET_KEY_FILE)})`,
    );
  const createdAt = options.now ?? new Date();
  // Next to the archive, so the finished file is linked into place on the same filesystem.
  const work = await mkdtemp(path.join(path.dirname(out), '.haven-backup-'));
  const partial = path.join(work, 'archive.tar.gz');
  const warnings: string[] = [];
  try {
    const snapshot =
      config.databaseUrl === undefined
        ? await sqliteSnapshot(config, work)
        : await postgresSnapshot(config.databaseUrl, work, warnings);
    const writer = new TarWriter(partial, { mtime: createdAt });
    const members: ArchiveMember[] = [];
    const missingDocuments: string[] = [];
    try {
      if (snapshot.file && snapshot.database)
        members.push(await writer.addFile(snapshot.database.member, snapshot.file));
      const store = FileDocumentStore.inDataDir(config.dataDir);
      for (const document of snapshot.facts.documents) {
        try {
          members.push(
            await writer.addFile(documentMember(document.id), store.fileOf(document.id)),
          );
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
          // Destroyed by retention after the snapshot, or lost before it: the archive says which.
          missingDocuments.push(document.id);
        }
      }
      if (options.includeKey && key)
        members.push(await writer.addBytes(KEY_MEMBER, Buffer.from(`${key.toString('base64')}\n`)));
      const manifest: Manifest = {
        format: 'haven-backup',
        formatVersion: 1,
        createdAt: createdAt.toISOString(),
        engine: config.databaseUrl === undefined ? 'sqlite' : 'postgres',
        schemaVersion: snapshot.facts.schemaVersion,
        database: snapshot.database,
        auditHeads: snapshot.facts.auditHeads,
        counts: snapshot.facts.counts,
        missingDocuments,
        key: { included: options.includeKey, check: key ? keyCheck(key) : null },
        members,
      };
      await writer.addBytes(MANIFEST_MEMBER, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
      await writer.finish();
      if (missingDocuments.length > 0)
        warnings.push(
          `${missingDocuments.length} document(s) listed by the database had no file (destroyed since, or lost): ${missingDocuments.slice(0, 10).join(', ')}`,
        );
      // link(2), not rename(2): fails rather than replace a file that appeared meanwhile.
      await link(partial, out).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST')
          throw new BackupError(`${out} appeared meanwhile: not replaced`);
        throw error;
      });
      return { out, manifest, warnings };
    } catch (error) {
      await writer.abort();
      throw error;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * SQLite: `VACUUM INTO` a private copy. It reads one snapshot inside a read transaction, which
 * in WAL mode neither waits for Haven's writers nor holds them up, and sees the committed pages
 * still in the WAL (copying `haven.sqlite` alone would miss them).
 */
async function sqliteSnapshot(config: BackupOptions['config'], work: string): Promise<Snapshot> {
  const source = path.join(config.dataDir, 'haven.sqlite');
  if (!existsSync(source)) throw new BackupError(`There is no Haven database at ${source}`);
  const file = path.join(work, 'haven.sqlite');
  const live = new BetterSqlite3(source, {
    fileMustExist: true,
    timeout: config.databaseTimeouts.busyMs,
  });
  try {
    live.prepare('vacuum into ?').run(file);
  } finally {
    live.close();
  }
  const copy = openDatabase({ sqliteFile: file });
  try {
    const facts = await readSnapshotFacts(copy.db);
    return { facts, database: { kind: 'sqlite', member: SQLITE_MEMBER }, file };
  } finally {
    await copy.close();
  }
}

/**
 * PostgreSQL: one repeatable-read transaction exports its snapshot; the manifest's facts are
 * read in it and pg_dump dumps exactly that snapshot (`--snapshot`), so heads, counts, the
 * document list and the dump agree however busy Haven is. Without pg_dump on PATH the archive
 * holds the documents and the manifest, and the database must be dumped apart.
 */
async function postgresSnapshot(
  databaseUrl: string,
  work: string,
  warnings: string[],
): Promise<Snapshot> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    const { rows } = await client.query<{ snapshot: string; schema: string | null }>(
      'select pg_export_snapshot() as snapshot, current_schema() as schema',
    );
    const { snapshot, schema } = rows[0]!;
    if (!schema) throw new BackupError('PostgreSQL has no current schema: check the search_path');
    const db = new Kysely<DB>({
      dialect: new PostgresDialect({
        pool: {
          // Every query on the one client, inside the exported snapshot's transaction.
          connect: async () =>
            Object.assign(client, { release: () => {} }) as unknown as PostgresPoolClient,
          end: async () => {},
        },
      }),
    });
    const facts = await readSnapshotFacts(db);
    if (!(await hasPgTool('pg_dump'))) {
      warnings.push(
        'pg_dump is not on PATH: this archive holds the documents and the manifest only. Dump the database apart (see the README, "Backups"), before this backup.',
      );
      return { facts, database: null, file: undefined };
    }
    const file = path.join(work, 'haven.pgdump');
    await runPgTool(
      'pg_dump',
      [
        '--format=custom',
        `--schema="${schema.replaceAll('"', '""')}"`,
        '--no-owner',
        '--no-privileges',
        `--snapshot=${snapshot}`,
        `--file=${file}`,
      ],
      libpqEnvironment(databaseUrl),
    );
    return { facts, database: { kind: 'pg_dump_custom', member: PG_DUMP_MEMBER, schema }, file };
  } finally {
    await client.query('rollback').catch(() => {});
    await client.end();
  }
}
