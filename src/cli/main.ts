import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import closeWithGrace from 'close-with-grace';
import pino from 'pino';
import { type Config, loadConfig } from '../config.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { HavenError } from '../lib/errors.ts';
import { Invitations } from '../modules/accounts/invitations.ts';
import {
  type ChainHeadMark,
  formatHead,
  parseHead,
  verifyAuditChains,
} from '../modules/audit/verify.ts';
import { deriveKey, loadSecretKey } from '../modules/documents/keys.ts';
import { buildApp, createServices, createWorker } from '../server/app.ts';
import { backupCommand, restoreCommand } from './backup.ts';
import {
  addGroupMembersFromFile,
  createUserGroupFromConsole,
  importRosterFromPath,
  importStudentsFromFile,
  importUsers,
  resolveOrganisation,
  rosterSummary,
} from './bulk.ts';
import { transferDecrypt } from './transfer.ts';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

const USAGE = `Usage: haven <command> [options]

Commands:
  serve                      migrate the database, then serve the web app and API
                             (and send notifications, unless HAVEN_WORKER=off)
  worker                     send notifications only (several may share one
                             PostgreSQL database)
  migrate                    bring the database schema up to date
  org create                 add an organisation with its first school and Owner
      --name <name>            organisation name
      --school <name>          first school's name
      --owner-email <email>    first Owner's email
      --owner-name <name>      first Owner's name
      --owner-password-file <path>
                               file holding the Owner's password
                               (or set HAVEN_OWNER_PASSWORD)
  transfer decrypt <archive> <directory>
                             open an external transfer's archive with the
                             passphrase in HAVEN_TRANSFER_PASSPHRASE
  users import --file <csv> [--org <id>] [--invite]
                             add users (columns: email, name); they hold only Member;
                             --invite emails each a link to set their password
                             (needs HAVEN_SMTP_URL; sent by the notification worker)
  students import --file <csv> [--org <id>] [--school <id>] [--dry-run]
                             add and update students (by UPN) from an MIS export
                             or Haven's columns, all rows or none; --school: the
                             school of rows without a School column
  roster import --file <zip or directory> [--org <id>] [--dry-run]
                             a OneRoster 1.2 CSV bundle: pupils by UPN, staff by
                             email (Member only), all rows or none
  user-groups create --name <name> [--home <scope>] [--org <id>]
                             create a user group (prints its id), administered
                             from its home: organisation (the default),
                             school:<id> or school_group:<id>
  user-groups add-members --group <id> --file <csv> [--org <id>]
                             add members (column: id or email), up to 1,000,000
  audit verify [--expect <chain>:<seq>:<hash> ...] [--expect-file <path>]
                             recompute the audit log's hash chains, name the first
                             row that was edited, deleted or reordered, and print
                             each chain's head; keep those lines elsewhere and pass
                             them back to catch a chain cut short and rewritten
  backup --out <file> [--include-key]
                             write a consistent archive (.tar.gz) of the running
                             installation: database (SQLite; PostgreSQL through
                             pg_dump when it is on PATH), documents and a manifest;
                             the installation key only with --include-key
  restore --from <file> [--data-dir <dir>] [--force]
                             check an archive (hashes, audit chains, documents
                             decrypt), then put it in place of the current data
                             (moved aside); --force replaces an existing or running
                             installation
  help                       show this text

Settings come from the environment: see the README's configuration table.`;

/** Invitations as the server sends them, sealed under this installation's key. */
function accountInvitations(config: Config): Invitations {
  const master = loadSecretKey({ secretKey: config.secretKey, dataDir: config.dataDir });
  return new Invitations(deriveKey(master, 'account_tokens'), config.mail);
}

/** The console's own handle: bulk work and migrations run without the server's time limits. */
function openFor(config: Config): Database {
  return openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
}

async function withDatabase<T>(
  config: Config,
  work: (database: Database) => Promise<T>,
): Promise<T> {
  const database = openFor(config);
  try {
    await migrateToLatest(database.db);
    return await work(database);
  } finally {
    await database.close();
  }
}

async function serve(config: Config): Promise<number> {
  await withDatabase(config, async () => {});
  const database = openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    timeouts: config.databaseTimeouts,
  });
  const services = createServices(database, config);
  const app = await buildApp({ config, database, services });
  await app.listen({ port: config.port, host: config.host });
  // Stopped by app.close(); off when a separate `haven worker` sends instead.
  if (config.worker.enabled) services.worker.start();
  // A JSON log line like every other line the server writes (tests wait for its words).
  app.log.info(
    { engine: database.engine, worker: config.worker.enabled },
    `Haven is serving http://${config.host}:${config.port} (${database.engine})`,
  );
  await new Promise<void>((resolve) => {
    closeWithGrace({ delay: 10_000, logger: app.log }, async ({ signal, err }) => {
      if (err) app.log.error({ err }, 'shutting down after an error');
      else app.log.info({ signal }, 'shutting down');
      await app.close();
      await database.close();
      resolve();
    });
  });
  return 0;
}

/** The notification worker alone, for installations that run it apart from the web servers. */
async function worker(config: Config): Promise<number> {
  await withDatabase(config, async () => {});
  const database = openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    timeouts: config.databaseTimeouts,
  });
  const log = pino({ level: config.logLevel, name: 'worker' });
  const running = createWorker(database, config, log);
  running.start();
  log.info(
    { engine: database.engine },
    `Haven's notification worker is running (${database.engine})`,
  );
  await new Promise<void>((resolve) => {
    closeWithGrace({ delay: 10_000, logger: log }, async ({ signal, err }) => {
      if (err) log.error({ err }, 'shutting down after an error');
      else log.info({ signal }, 'shutting down');
      await running.stop();
      await database.close();
      resolve();
    });
  });
  return 0;
}

async function orgCreate(config: Config, args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string' },
      school: { type: 'string' },
      'owner-email': { type: 'string' },
      'owner-name': { type: 'string' },
      'owner-password-file': { type: 'string' },
    },
    strict: true,
  });
  const password = values['owner-password-file']
    ? readFileSync(values['owner-password-file'], 'utf8').trim()
    : io.env.HAVEN_OWNER_PASSWORD;
  const missing = [
    ['--name', values.name],
    ['--school', values.school],
    ['--owner-email', values['owner-email']],
    ['--owner-name', values['owner-name']],
    ['--owner-password-file or HAVEN_OWNER_PASSWORD', password],
  ].filter(([, v]) => !v);
  if (missing.length > 0) {
    io.err(`Missing: ${missing.map(([k]) => k).join(', ')}`);
    return 2;
  }
  return withDatabase(config, async (database) => {
    const { organisations } = createServices(database, config);
    const created = await organisations.createOrganisation(
      {
        organisationName: values.name!,
        schoolName: values.school!,
        owner: { email: values['owner-email']!, name: values['owner-name']!, password: password! },
      },
      { organisationId: null, userId: null, via: 'cli' },
    );
    io.out(JSON.stringify(created));
    return 0;
  });
}

/** Heads from `--expect` and from `--expect-file` (the lines an earlier run printed). */
function expectedHeads(
  values: { expect?: string[] | undefined; 'expect-file'?: string | undefined },
  io: CliIo,
): ChainHeadMark[] | null {
  const texts = [...(values.expect ?? [])];
  if (values['expect-file']) {
    // An earlier run's output: its `head` lines are the heads (a garbled one is refused below),
    // the summary lines around them are skipped; a file with no head at all is refused.
    const before = texts.length;
    for (const line of readFileSync(values['expect-file'], 'utf8').split('\n')) {
      const match = /^\s*head\s+(.*)$/.exec(line);
      if (match) texts.push(match[1]!.trim());
    }
    if (texts.length === before) {
      io.err(
        `No chain heads in ${values['expect-file']} (expected lines "head <chain>:<seq>:<hash>")`,
      );
      return null;
    }
  }
  const heads: ChainHeadMark[] = [];
  for (const text of texts) {
    const head = parseHead(text);
    if (!head) {
      io.err(`Not a chain head: ${text} (expected <chain>:<seq>:<hash>, as verify prints it)`);
      return null;
    }
    heads.push(head);
  }
  return heads;
}

async function auditVerify(config: Config, args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      expect: { type: 'string', multiple: true },
      'expect-file': { type: 'string' },
    },
    strict: true,
  });
  const expected = expectedHeads(values, io);
  if (!expected) return 2;
  return withDatabase(config, async (database) => {
    const report = await verifyAuditChains(database.db, expected);
    for (const problem of report.problems) {
      io.out(`BROKEN chain ${problem.chainId}: ${problem.message}`);
    }
    if (report.problems.length > 0) {
      io.out(
        `${report.problems.length} of ${report.chains} chains are broken (${report.rows} rows read)`,
      );
    } else {
      const against = expected.length > 0 ? `, and ${expected.length} expected heads hold` : '';
      io.out(`OK: ${report.chains} chains, ${report.rows} rows, every hash verified${against}`);
    }
    // Keep these lines elsewhere: a later `--expect` against them shows a cut end.
    for (const head of report.heads) io.out(`head ${formatHead(head)}`);
    return report.problems.length > 0 ? 1 : 0;
  });
}

async function bulk(config: Config, command: string, args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      file: { type: 'string' },
      org: { type: 'string' },
      group: { type: 'string' },
      'dry-run': { type: 'boolean' },
      name: { type: 'string' },
      home: { type: 'string' },
      invite: { type: 'boolean' },
      school: { type: 'string' },
    },
    strict: true,
  });
  if (command === 'user-groups create') {
    if (!values.name) {
      io.err('Missing: --name');
      return 2;
    }
    const name = values.name;
    return withDatabase(config, async (database) => {
      const organisationId = await resolveOrganisation(database, values.org);
      io.out(await createUserGroupFromConsole(database, organisationId, name, values.home));
      return 0;
    });
  }
  if (!values.file) {
    io.err('Missing: --file');
    return 2;
  }
  const file = values.file;
  return withDatabase(config, async (database) => {
    const organisationId = await resolveOrganisation(database, values.org);
    const started = Date.now();
    switch (command) {
      case 'users import': {
        const invitations = values.invite ? accountInvitations(config) : undefined;
        const ids = await importUsers(database, organisationId, file, invitations);
        await database.analyze();
        io.out(
          `Added ${ids.length} users${invitations ? ', each sent an invitation (valid 7 days),' : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
        return 0;
      }
      case 'students import': {
        const report = await importStudentsFromFile(
          database,
          organisationId,
          file,
          values['dry-run'] ?? false,
          values.school,
        );
        if (!report.dryRun) await database.analyze();
        for (const e of report.errors.slice(0, 200))
          io.out(`line ${e.line}, ${e.column}: ${e.message}`);
        if (report.errors.length > 200)
          io.out(`... and ${report.errors.length - 200} more problems`);
        const verb = report.dryRun ? 'Checked' : 'Added';
        io.out(
          `${verb} ${report.dryRun ? report.rows : report.created} of ${report.rows} students, ${report.errors.length} problems, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
        return report.errors.length > 0 ? 1 : 0;
      }
      case 'roster import': {
        const report = await importRosterFromPath(
          database,
          organisationId,
          file,
          values['dry-run'] ?? false,
        );
        if (!report.dryRun) await database.analyze();
        for (const e of report.errors.slice(0, 200)) io.out(e.text);
        if (report.errors.length > 200)
          io.out(`... and ${report.errors.length - 200} more problems`);
        for (const note of report.notes) io.out(note);
        io.out(`${rosterSummary(report)}, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return report.errors.length > 0 ? 1 : 0;
      }
      case 'user-groups add-members': {
        if (!values.group) {
          io.err('Missing: --group');
          return 2;
        }
        const result = await addGroupMembersFromFile(database, organisationId, values.group, file);
        await database.analyze();
        io.out(
          `Added ${result.added} members (${result.alreadyMembers} already members) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
        return 0;
      }
    }
    io.err(`Unknown command: ${command}\n\n${USAGE}`);
    return 2;
  });
}

export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    // Needs no database or configuration: a receiving school runs it too.
    if (command === 'transfer' && sub === 'decrypt') return await transferDecrypt(rest, io);
    const config = loadConfig(io.env);
    switch (command) {
      case 'serve':
        return await serve(config);
      case 'worker':
        return await worker(config);
      case 'migrate':
        return await withDatabase(config, async (database) => {
          io.out(`Database is up to date (${database.engine})`);
          return 0;
        });
      case 'org':
        if (sub === 'create') return await orgCreate(config, rest, io);
        break;
      // Neither migrates: a backup copies the schema as it is, a restore checks the archive's.
      case 'backup':
        return await backupCommand(config, argv.slice(1), io);
      case 'restore':
        return await restoreCommand(config, argv.slice(1), io);
      case 'audit':
        if (sub === 'verify') return await auditVerify(config, rest, io);
        break;
      case 'users':
      case 'students':
      case 'roster':
      case 'user-groups':
        return await bulk(config, `${command} ${sub ?? ''}`, rest, io);
      case 'help':
      case undefined:
        io.out(USAGE);
        return command ? 0 : 2;
    }
    io.err(`Unknown command: ${argv.join(' ')}\n\n${USAGE}`);
    return 2;
  } catch (error) {
    // The server and the worker write JSON lines only, their failure to start included.
    if (command === 'serve' || command === 'worker') {
      startupLog(io).fatal({ err: error }, `haven ${command} stopped: ${errorText(error)}`);
      return 1;
    }
    if (error instanceof HavenError) {
      io.err(`${error.code}: ${error.detail}`);
      return 1;
    }
    io.err(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

function errorText(error: unknown): string {
  if (error instanceof HavenError) return `${error.code}: ${error.detail}`;
  return error instanceof Error ? error.message : String(error);
}

/** The long-running commands' log before their own exists (a bad setting, an unreachable database). */
function startupLog(io: CliIo) {
  return pino({ name: 'haven' }, { write: (line: string) => io.err(line.trimEnd()) });
}

function defaultIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
  };
}
