import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { z } from 'zod';
import type { Config } from '../../config.ts';
import { type Database, openDatabase } from '../../db/database.ts';
import { migrationNames } from '../../db/migrate.ts';
import { formatHead, verifyAuditChains } from '../audit/verify.ts';
import { deriveKey, loadSecretKey, parseSecretKey, SECRET_KEY_FILE } from '../documents/keys.ts';
import { EncryptedDocumentStore, FileDocumentStore } from '../documents/storage.ts';
import {
  DOCUMENTS_PREFIX,
  documentMember,
  KEY_MEMBER,
  keyCheck,
  MANIFEST_MEMBER,
  type Manifest,
  manifestSchema,
  readSnapshotFacts,
} from './manifest.ts';
import { dropScratchDatabase, libpqEnvironment, runPgTool, urlForDatabase } from './postgres.ts';
import { ArchiveDamagedError, type ArchiveMember, extractArchive } from './tar.ts';

/** A restore that was refused before anything was replaced; the message says why. */
export class RestoreRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreRefusedError';
  }
}

export interface RestoreOptions {
  config: Pick<Config, 'dataDir' | 'databaseUrl' | 'secretKey'>;
  /** The archive `haven backup` wrote. */
  from: string;
  /** Replace an existing installation, even one that looks in use. */
  force: boolean;
  now?: Date;
}

export interface RestoreResult {
  manifest: Manifest;
  /** Where the data it replaced was moved (SQLite database, documents, a replaced key file). */
  replacedInto: string | undefined;
  /** PostgreSQL: the schema the replaced database was renamed to. */
  replacedSchema: string | undefined;
  /** Which key the restored documents open with. */
  key: 'archive' | 'existing';
  notes: string[];
}

const DATABASE_FILES = ['haven.sqlite', 'haven.sqlite-wal', 'haven.sqlite-shm'];

/**
 * Restores a backup into this installation: unpacks it into a private directory beside the data,
 * checks every member's SHA-256 against the manifest, opens the database copy (SQLite) or
 * restores the dump into a scratch database (PostgreSQL), verifies its audit chains up to the
 * manifest's heads, its counts and schema version, and decrypts every document with the key it
 * will use. Only then is the current data moved aside (kept, never deleted) and the backup's put
 * in its place. An installation that exists, or looks in use, is replaced only with `force`.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const { config } = options;
  const from = path.resolve(options.from);
  if (!existsSync(from)) throw new RestoreRefusedError(`No such archive: ${from}`);
  const engine = config.databaseUrl === undefined ? 'sqlite' : 'postgres';
  const dataDir = path.resolve(config.dataDir);
  const now = options.now ?? new Date();
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const notes: string[] = [];

  if (engine === 'sqlite') await refuseToReplaceSqlite(dataDir, options.force);
  const createdDataDir = !existsSync(dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // Inside the data directory: the checked files are renamed into place on the same filesystem.
  const staging = await mkdtemp(path.join(dataDir, '.restore-'));
  let restored = false;
  try {
    const manifest = await unpackAndCheck(from, staging);
    if (manifest.engine !== engine)
      throw new RestoreRefusedError(
        `This backup is of a ${manifest.engine === 'sqlite' ? 'SQLite' : 'PostgreSQL'} installation; this Haven is configured for ${engine === 'sqlite' ? 'SQLite' : 'PostgreSQL (DATABASE_URL)'}. Restore it into the same kind of installation.`,
      );
    const key = chooseKey(manifest, staging, config, options.force);
    const documents = new EncryptedDocumentStore(
      new FileDocumentStore(path.join(staging, 'documents')),
      deriveKey(key.key, 'documents'),
    );

    if (engine === 'sqlite') {
      const staged = openDatabase({ sqliteFile: path.join(staging, ...SQLITE_PATH) });
      try {
        await checkDatabase(staged, manifest, documents, notes);
      } finally {
        await staged.close();
      }
      // Again, just before: Haven may have been started while the archive was checked.
      await refuseToReplaceSqlite(dataDir, options.force);
      const replacedInto = await swapIntoDataDir(dataDir, staging, stamp, key, {
        database: true,
      });
      restored = true;
      return { manifest, replacedInto, replacedSchema: undefined, key: key.source, notes };
    }

    const databaseUrl = config.databaseUrl!;
    if (manifest.database?.kind !== 'pg_dump_custom') {
      throw new RestoreRefusedError(
        'This archive holds no database (pg_dump was not on PATH when it was made). Restore the database from its own dump with pg_restore first (see the README, "Backups"); this command restores archives that carry their dump.',
      );
    }
    const schema = manifest.database.schema;
    await checkPostgresTarget(databaseUrl, schema, options.force, dataDir);
    await withScratchDatabase(databaseUrl, schema, async (scratch) => {
      await runPgTool(
        'pg_restore',
        [...PG_RESTORE_FLAGS, `--dbname=${scratch.name}`, path.join(staging, ...PG_DUMP_PATH)],
        libpqEnvironment(scratch.url),
      );
      const restored = openDatabase({ databaseUrl: scratch.url, searchPath: schema, poolSize: 2 });
      try {
        await checkDatabase(restored, manifest, documents, notes);
      } finally {
        await restored.close();
      }
    });
    await checkPostgresTarget(databaseUrl, schema, options.force, dataDir);
    const replacedSchema = await restorePostgres(
      databaseUrl,
      schema,
      path.join(staging, ...PG_DUMP_PATH),
      stamp,
    );
    const replacedInto = await swapIntoDataDir(dataDir, staging, stamp, key, { database: false });
    restored = true;
    return { manifest, replacedInto, replacedSchema, key: key.source, notes };
  } finally {
    await rm(staging, { recursive: true, force: true });
    // A refused restore leaves no trace, not even the directory it made (rmdir: only if empty).
    if (!restored && createdDataDir) await rmdir(dataDir).catch(() => {});
  }
}

const SQLITE_PATH = ['database', 'haven.sqlite'];
const PG_DUMP_PATH = ['database', 'haven.pgdump'];
const PG_RESTORE_FLAGS = [
  '--no-owner',
  '--no-privileges',
  '--exit-on-error',
  '--single-transaction',
];

/** Unpacks the archive and holds it to its manifest: every member listed, every hash equal. */
async function unpackAndCheck(from: string, staging: string): Promise<Manifest> {
  let members: ArchiveMember[];
  try {
    members = await extractArchive(from, staging);
  } catch (error) {
    if (error instanceof ArchiveDamagedError)
      throw new RestoreRefusedError(
        `The archive is damaged: ${error.message}. Nothing was replaced.`,
      );
    throw error;
  }
  const last = members[members.length - 1];
  if (last?.path !== MANIFEST_MEMBER)
    throw new RestoreRefusedError(
      `The archive has no ${MANIFEST_MEMBER} at its end: it is cut short or is not a Haven backup. Nothing was replaced.`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path.join(staging, MANIFEST_MEMBER), 'utf8'));
  } catch {
    throw new RestoreRefusedError(`The archive's ${MANIFEST_MEMBER} is not JSON: it is damaged.`);
  }
  const result = manifestSchema.safeParse(parsed);
  if (!result.success)
    throw new RestoreRefusedError(
      `The archive's ${MANIFEST_MEMBER} is not a Haven backup manifest: ${z.prettifyError(result.error).replace(/\n/g, '; ')}`,
    );
  const manifest = result.data;
  if (!migrationNames.includes(manifest.schemaVersion))
    throw new RestoreRefusedError(
      `This backup was made by a newer Haven (schema ${manifest.schemaVersion}); upgrade Haven, then restore it.`,
    );

  const listed = new Map(manifest.members.map((m) => [m.path, m]));
  if (listed.size !== manifest.members.length)
    throw new RestoreRefusedError(`The manifest lists a member twice: it is damaged.`);
  const present = members.slice(0, -1);
  for (const member of present) {
    const expected = listed.get(member.path);
    if (!expected)
      throw new RestoreRefusedError(`${member.path} is in the archive but not in its manifest.`);
    if (expected.size !== member.size || expected.sha256 !== member.sha256)
      throw new RestoreRefusedError(
        `${member.path} fails its SHA-256 check (the manifest says ${expected.sha256}, the archive holds ${member.sha256}): the archive is damaged. Nothing was replaced.`,
      );
    listed.delete(member.path);
  }
  if (listed.size > 0)
    throw new RestoreRefusedError(
      `The archive lacks ${[...listed.keys()].slice(0, 5).join(', ')}, which its manifest lists: it is incomplete.`,
    );
  const has = (name: string) => manifest.members.some((m) => m.path === name);
  if (manifest.database && !has(manifest.database.member))
    throw new RestoreRefusedError(`The archive lacks its database (${manifest.database.member}).`);
  if (manifest.key.included !== has(KEY_MEMBER))
    throw new RestoreRefusedError(`The manifest and the archive disagree about the key.`);
  const known = new Set([KEY_MEMBER, manifest.database?.member]);
  const stray = manifest.members.find(
    (m) => !known.has(m.path) && !m.path.startsWith(DOCUMENTS_PREFIX),
  );
  if (stray) throw new RestoreRefusedError(`Unexpected member ${stray.path} in the archive.`);
  return manifest;
}

interface ChosenKey {
  key: Buffer;
  source: 'archive' | 'existing';
  /** Write the archive's key to `<dataDir>/secret.key` (moving a different one aside). */
  writeFile: boolean;
}

/**
 * The key the restored documents will be read with. The archive's, when it carries one; else the
 * installation's own (HAVEN_SECRET_KEY or `secret.key`), which stays where it is. Either way it
 * must be the key the backup was made under: the manifest's check value says so.
 */
function chooseKey(
  manifest: Manifest,
  staging: string,
  config: RestoreOptions['config'],
  force: boolean,
): ChosenKey {
  const keyFile = path.join(config.dataDir, SECRET_KEY_FILE);
  let archived: Buffer | undefined;
  if (manifest.key.included) {
    archived = parseSecretKey(readFileSync(path.join(staging, KEY_MEMBER), 'utf8'));
    if (!archived) throw new RestoreRefusedError('The key in the archive is malformed.');
    if (manifest.key.check && keyCheck(archived) !== manifest.key.check)
      throw new RestoreRefusedError(`The key in the archive does not match its manifest.`);
  }
  const fromEnv =
    config.secretKey === undefined
      ? undefined
      : loadSecretKey({ secretKey: config.secretKey, dataDir: config.dataDir });
  const fromFile = existsSync(keyFile)
    ? loadSecretKey({ secretKey: undefined, dataDir: config.dataDir })
    : undefined;
  const current = fromEnv ?? fromFile;
  const where = fromEnv ? 'HAVEN_SECRET_KEY' : keyFile;

  if (archived) {
    if (fromEnv && !fromEnv.equals(archived))
      throw new RestoreRefusedError(
        'HAVEN_SECRET_KEY holds a different key from the archive: Haven would go on using it and could not read the restored documents. Set HAVEN_SECRET_KEY to the key of the backup, or unset it, then restore again.',
      );
    const replacing = !fromEnv && fromFile !== undefined && !fromFile.equals(archived);
    if (replacing && !force)
      throw new RestoreRefusedError(
        `${keyFile} holds a different key from the archive. Restoring would put the archive's key in its place (the current one is moved aside, not deleted); pass --force to do so.`,
      );
    return { key: archived, source: 'archive', writeFile: !fromEnv && !fromFile?.equals(archived) };
  }
  if (!current)
    throw new RestoreRefusedError(
      `This archive holds no key, and this installation has none (no HAVEN_SECRET_KEY, no ${keyFile}). Its documents and sealed secrets can only be read with the key it was made under: put that secret.key in ${config.dataDir} (mode 600) or set HAVEN_SECRET_KEY, or restore a backup made with --include-key.`,
    );
  if (manifest.key.check && keyCheck(current) !== manifest.key.check)
    throw new RestoreRefusedError(
      `The key in ${where} is not the key this backup was made under: its documents and sealed secrets could not be read. Nothing was replaced; restore with that installation's secret.key.`,
    );
  return { key: current, source: 'existing', writeFile: false };
}

/** The restored database must verify and say exactly what the manifest says it does. */
async function checkDatabase(
  database: Database,
  manifest: Manifest,
  documents: EncryptedDocumentStore,
  notes: string[],
): Promise<void> {
  const facts = await readSnapshotFacts(database.db);
  if (facts.schemaVersion !== manifest.schemaVersion)
    throw new RestoreRefusedError(
      `The restored database is at schema ${facts.schemaVersion}, the manifest says ${manifest.schemaVersion}.`,
    );
  const report = await verifyAuditChains(database.db, manifest.auditHeads);
  if (report.problems.length > 0)
    throw new RestoreRefusedError(
      `The restored database's audit log does not verify: ${report.problems
        .slice(0, 3)
        .map((p) => `chain ${p.chainId}: ${p.message}`)
        .join('; ')}. Nothing was replaced.`,
    );
  const heads = report.heads.map(formatHead).join('\n');
  if (heads !== manifest.auditHeads.map(formatHead).join('\n'))
    throw new RestoreRefusedError(
      "The restored database's audit chains end elsewhere than the manifest's heads.",
    );
  for (const [name, expected] of Object.entries(manifest.counts)) {
    const found = facts.counts[name as keyof typeof facts.counts];
    if (found !== expected)
      throw new RestoreRefusedError(
        `The restored database holds ${found} ${name}; the manifest says ${expected}.`,
      );
  }
  const missing = new Set(manifest.missingDocuments);
  const archived = new Set(
    manifest.members.filter((m) => m.path.startsWith(DOCUMENTS_PREFIX)).map((m) => m.path),
  );
  for (const document of facts.documents) {
    if (missing.has(document.id)) continue;
    if (!archived.delete(documentMember(document.id)))
      throw new RestoreRefusedError(`Document ${document.id} is not in the archive.`);
    try {
      await documents.load(document.id, document.sha256);
    } catch {
      throw new RestoreRefusedError(
        `Document ${document.id} does not decrypt to what the database records with the key chosen: it is damaged, or the key is not this installation's.`,
      );
    }
  }
  if (archived.size > 0)
    throw new RestoreRefusedError(
      `The archive holds documents its database does not list: ${[...archived].slice(0, 3).join(', ')}.`,
    );
  if (missing.size > 0)
    notes.push(
      `${missing.size} document(s) had no file when the backup was made (listed in its manifest); they stay missing.`,
    );
}

/** An existing installation is replaced only when asked; so is one that looks in use. */
async function refuseToReplaceSqlite(dataDir: string, force: boolean): Promise<void> {
  const file = path.join(dataDir, 'haven.sqlite');
  if (force) return;
  if (sqliteInUse(file))
    throw new RestoreRefusedError(
      `${file} is open in another process: Haven looks to be running. Stop it first (or pass --force to replace it anyway). Nothing was replaced.`,
    );
  if (existsSync(file) || existsSync(path.join(dataDir, 'documents')))
    throw new RestoreRefusedError(
      `${dataDir} already holds an installation. Pass --force to replace it (its data is moved aside into ${dataDir}/replaced-<time>, not deleted), or restore into another --data-dir.`,
    );
}

/**
 * Whether another connection holds the database open. Every connection to a WAL database holds
 * a shared lock on it for as long as it is open, so an exclusive lock, asked for without
 * waiting, is refused exactly when Haven (or anything else) has it open.
 */
export function sqliteInUse(file: string): boolean {
  if (!existsSync(file)) return false;
  const probe = new BetterSqlite3(file, { fileMustExist: true, timeout: 0 });
  try {
    probe.pragma('locking_mode = EXCLUSIVE');
    probe.exec('begin exclusive');
    probe.exec('rollback');
    return false;
  } catch (error) {
    return (error as { code?: string }).code?.startsWith('SQLITE_BUSY') ?? false;
  } finally {
    probe.close();
  }
}

/**
 * Moves the current database (SQLite), documents and a key file the archive replaces into
 * `<dataDir>/replaced-<time>`, then the checked ones into place. A failure part-way puts back
 * what was moved.
 */
async function swapIntoDataDir(
  dataDir: string,
  staging: string,
  stamp: string,
  key: ChosenKey,
  what: { database: boolean },
): Promise<string | undefined> {
  const current = [
    ...(what.database ? DATABASE_FILES : []),
    'documents',
    ...(key.writeFile ? [SECRET_KEY_FILE] : []),
  ].filter((name) => existsSync(path.join(dataDir, name)));
  const aside = path.join(dataDir, `replaced-${stamp}`);
  const moved: string[] = [];
  const placed: string[] = [];
  try {
    if (current.length > 0) await mkdir(aside, { mode: 0o700 });
    for (const name of current) {
      await rename(path.join(dataDir, name), path.join(aside, name));
      moved.push(name);
    }
    if (what.database) {
      await rename(path.join(staging, ...SQLITE_PATH), path.join(dataDir, 'haven.sqlite'));
      placed.push('haven.sqlite');
    }
    const stagedDocuments = path.join(staging, 'documents');
    if (!existsSync(stagedDocuments)) await mkdir(stagedDocuments, { mode: 0o700 });
    await rename(stagedDocuments, path.join(dataDir, 'documents'));
    placed.push('documents');
    if (key.writeFile) {
      await writeFile(path.join(dataDir, SECRET_KEY_FILE), `${key.key.toString('base64')}\n`, {
        mode: 0o600,
        flag: 'wx',
      });
      placed.push(SECRET_KEY_FILE);
    }
    await syncDirectory(dataDir);
  } catch (error) {
    for (const name of placed) await rm(path.join(dataDir, name), { recursive: true, force: true });
    for (const name of moved) await rename(path.join(aside, name), path.join(dataDir, name));
    throw error;
  }
  return current.length > 0 ? aside : undefined;
}

async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the renames themselves are atomic.
  }
}

/** PostgreSQL: the target must be Haven's schema, and an installation there is replaced only when asked. */
async function checkPostgresTarget(
  databaseUrl: string,
  schema: string,
  force: boolean,
  dataDir: string,
): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ current: string | null; database: string }>(
      'select current_schema() as current, current_database() as database',
    );
    const { current, database } = rows[0]!;
    if (current !== null && current !== schema)
      throw new RestoreRefusedError(
        `This backup is of schema "${schema}", but DATABASE_URL works in "${current}". Point DATABASE_URL's search_path at "${schema}" (or restore by hand with pg_restore).`,
      );
    if (force) return;
    const others = await client.query<{ n: string }>(
      `select count(*) as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`,
    );
    if (Number(others.rows[0]!.n) > 0)
      throw new RestoreRefusedError(
        `${others.rows[0]!.n} other session(s) are connected to database ${database}: Haven looks to be running. Stop it first (or pass --force). Nothing was replaced.`,
      );
    const tables = await client.query<{ n: string }>(
      'select count(*) as n from pg_tables where schemaname = $1',
      [schema],
    );
    if (Number(tables.rows[0]!.n) > 0 || existsSync(path.join(dataDir, 'documents')))
      throw new RestoreRefusedError(
        `Schema "${schema}" of database ${database} already holds an installation. Pass --force to replace it (the schema is renamed aside, not dropped).`,
      );
  } finally {
    await client.end();
  }
}

/** A new database on the same server for `work`, dropped afterwards whatever happens. */
async function withScratchDatabase(
  databaseUrl: string,
  schema: string,
  work: (scratch: { name: string; url: string }) => Promise<void>,
): Promise<void> {
  const name = `haven_restore_check_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    try {
      await admin.query(`create database "${name}"`);
    } catch (error) {
      throw new RestoreRefusedError(
        `Checking a PostgreSQL backup restores it into a scratch database first, which this role may not create (${(error as Error).message}). Grant it CREATEDB, or restore by hand (README, "Backups").`,
      );
    }
    try {
      await work({ name, url: urlForDatabase(databaseUrl, name, schema) });
    } finally {
      await dropScratchDatabase(admin, name);
    }
  } finally {
    await admin.end();
  }
}

/**
 * Renames the current schema aside and restores the dump in one transaction; if pg_restore
 * fails, the schema gets its name back and nothing has changed.
 */
async function restorePostgres(
  databaseUrl: string,
  schema: string,
  dump: string,
  stamp: string,
): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query('select 1 from pg_namespace where nspname = $1', [schema]);
    const aside =
      rows.length > 0 ? `${schema.slice(0, 40)}_pre_restore_${stamp.replace('-', '')}` : undefined;
    const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
    if (aside) await client.query(`alter schema ${quote(schema)} rename to ${quote(aside)}`);
    try {
      const { PGDATABASE } = libpqEnvironment(databaseUrl);
      const database =
        PGDATABASE ?? (await client.query('select current_database() as d')).rows[0].d;
      await runPgTool(
        'pg_restore',
        [...PG_RESTORE_FLAGS, `--dbname=${database}`, dump],
        libpqEnvironment(databaseUrl),
      );
    } catch (error) {
      if (aside) await client.query(`alter schema ${quote(aside)} rename to ${quote(schema)}`);
      throw error;
    }
    return aside;
  } finally {
    await client.end();
  }
}
