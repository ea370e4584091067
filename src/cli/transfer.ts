import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ArchiveError, decryptArchive } from '../modules/transfers/archive.ts';
import type { CliIo } from './main.ts';

/**
 * `haven transfer decrypt <archive> <directory>`: opens an external transfer's archive with its
 * passphrase (HAVEN_TRANSFER_PASSPHRASE) and writes the file (JSON), the PDF and every document
 * into the directory. For a receiving school, or the sender checking what they send; it needs no
 * database.
 */
export async function transferDecrypt(args: string[], io: CliIo): Promise<number> {
  const [archivePath, directory] = args;
  const passphrase = io.env.HAVEN_TRANSFER_PASSPHRASE;
  if (!archivePath || !directory || !passphrase) {
    io.err(
      'Usage: HAVEN_TRANSFER_PASSPHRASE=<passphrase> haven transfer decrypt <archive> <directory>',
    );
    return 2;
  }
  try {
    const content = decryptArchive(passphrase, await readFile(archivePath));
    await mkdir(join(directory, 'documents'), { recursive: true });
    await writeFile(
      join(directory, 'safeguarding-file.json'),
      JSON.stringify(content.file, null, 2),
    );
    await writeFile(join(directory, 'safeguarding-file.pdf'), Buffer.from(content.pdf, 'base64'));
    for (const d of content.documents) {
      // Named by id first, so two documents of the same name never overwrite each other.
      const name = `${d.id}-${basename(d.name).replace(/[^\w.\- ]+/g, '_')}`;
      await writeFile(join(directory, 'documents', name), Buffer.from(d.content, 'base64'));
    }
    io.out(`Opened: the file, its PDF and ${content.documents.length} document(s) in ${directory}`);
    return 0;
  } catch (err) {
    if (err instanceof ArchiveError) {
      io.err(err.message);
      return 1;
    }
    throw err;
  }
}
