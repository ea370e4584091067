import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import { formatHead } from '../modules/audit/verify.ts';
import { BackupError, createBackup } from '../modules/backup/backup.ts';
import { RestoreRefusedError, restoreBackup } from '../modules/backup/restore.ts';
import type { CliIo } from './main.ts';

/** `haven backup --out FILE [--include-key]`: a consistent archive of a running installation. */
export async function backupCommand(config: Config, args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { out: { type: 'string' }, 'include-key': { type: 'boolean' } },
    strict: true,
  });
  if (!values.out) {
    io.err('Missing: --out <file>');
    return 2;
  }
  try {
    const started = Date.now();
    const { out, manifest, warnings } = await createBackup({
      config,
      out: values.out,
      includeKey: values['include-key'] ?? false,
    });
    for (const warning of warnings) io.err(`Warning: ${warning}`);
    const c = manifest.counts;
    io.out(
      `Backup written to ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s: schema ${manifest.schemaVersion}, ${c.students} students, ${c.incidents} concerns, ${c.documents} documents, ${c.auditEvents} audit rows (${manifest.engine}${manifest.database ? '' : ', database not included'})`,
    );
    io.out(
      manifest.key.included
        ? 'The installation key is IN this archive: anyone holding the archive can read every document. Store it as you would the key itself.'
        : `The installation key is not in this archive: keep ${path.join(config.dataDir, 'secret.key')} (or HAVEN_SECRET_KEY) safe, apart from the backups; without it the documents cannot be read.`,
    );
    // The heads, as `haven audit verify` prints them: kept elsewhere, they show a cut chain.
    for (const head of manifest.auditHeads) io.out(`head ${formatHead(head)}`);
    return 0;
  } catch (error) {
    if (error instanceof BackupError) {
      io.err(error.message);
      return 1;
    }
    throw error;
  }
}

/** `haven restore --from FILE [--data-dir DIR] [--force]`: checks the archive, then replaces. */
export async function restoreCommand(config: Config, args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      from: { type: 'string' },
      'data-dir': { type: 'string' },
      force: { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.from) {
    io.err('Missing: --from <file>');
    return 2;
  }
  const dataDir = values['data-dir'] ? path.resolve(values['data-dir']) : config.dataDir;
  try {
    const result = await restoreBackup({
      config: { ...config, dataDir },
      from: values.from,
      force: values.force ?? false,
    });
    const m = result.manifest;
    io.out(
      `Restored the backup of ${m.createdAt} (schema ${m.schemaVersion}): ${m.counts.students} students, ${m.counts.incidents} concerns, ${m.counts.documents} documents; ${m.auditHeads.length} audit chains verified.`,
    );
    io.out(
      result.key === 'archive'
        ? 'The installation key came from the archive.'
        : 'The installation key was kept; every restored document opens with it.',
    );
    if (result.replacedInto)
      io.out(
        `The data it replaced is in ${result.replacedInto}; remove it once you are satisfied.`,
      );
    if (result.replacedSchema)
      io.out(
        `The database schema it replaced is now "${result.replacedSchema}"; drop it once you are satisfied.`,
      );
    for (const note of result.notes) io.out(`Note: ${note}`);
    return 0;
  } catch (error) {
    if (error instanceof RestoreRefusedError) {
      io.err(`Restore refused: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
