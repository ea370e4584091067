import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { HavenError } from '../../lib/errors.ts';
import { DocumentIntegrityError, decryptDocument, encryptDocument } from './crypto.ts';
import { deriveKey } from './keys.ts';

/**
 * Where the (already encrypted) bytes of documents live. Write-once: an id is stored once and
 * never replaced, so a record's file cannot change under it. There is deliberately no `exists`:
 * the database row says whether a document exists, and check-then-put would be a race anyway.
 * An S3-compatible store can implement the same three calls (put with `If-None-Match: *`).
 */
export interface DocumentStore {
  /** Stores `bytes` under a new `id`; DocumentExistsError if the id is already stored. */
  put(id: string, bytes: Uint8Array): Promise<void>;
  /** The bytes stored under `id`; DocumentMissingError when there are none. */
  get(id: string): Promise<Buffer>;
  /** Removes `id`'s bytes, answering whether there were any. Only retention deletes. */
  delete(id: string): Promise<boolean>;
}

/** A put for an id already stored: a bug or a replay, never a reason to overwrite. */
export class DocumentExistsError extends HavenError {
  constructor(readonly documentId: string) {
    super(409, 'document_exists', 'Conflict', 'A document with this id is already stored');
    this.name = 'DocumentExistsError';
    this.withAudit({ documentId });
  }
}

/** A record whose file is gone: the server lost data, so 500, and an operator must look. */
export class DocumentMissingError extends HavenError {
  constructor(readonly documentId: string) {
    super(
      500,
      'document_missing',
      'Document missing',
      'The stored copy of this document could not be found',
    );
    this.name = 'DocumentMissingError';
    this.withAudit({ documentId });
  }
}

// Ids are lib/ids.ts `newId()`s; anything else could name a path outside the store.
const DOCUMENT_ID = /^[0-9a-hjkmnp-tv-z]{26}$/;

function assertDocumentId(id: string): void {
  if (!DOCUMENT_ID.test(id)) throw new Error(`Not a document id: ${JSON.stringify(id)}`);
}

/**
 * Documents as files: `<directory>/<xy>/<id>`, where `xy` is the id's last two characters.
 * Not the first two: those are the high bits of a timestamp, the same for decades, which
 * would put every file in one directory; the last ones are random (1,024 directories).
 */
export class FileDocumentStore implements DocumentStore {
  constructor(readonly directory: string) {}

  /** The store Haven uses: `<HAVEN_DATA_DIR>/documents`. */
  static inDataDir(dataDir: string): FileDocumentStore {
    return new FileDocumentStore(path.join(dataDir, 'documents'));
  }

  fileOf(id: string): string {
    assertDocumentId(id);
    return path.join(this.directory, id.slice(-2), id);
  }

  async put(id: string, bytes: Uint8Array): Promise<void> {
    const file = this.fileOf(id);
    const folder = path.dirname(file);
    const created = await mkdir(folder, { recursive: true, mode: 0o700 });
    if (created) await syncDirectory(path.dirname(created));
    // Written whole and flushed under a private name, then linked into place. Not rename(2):
    // it silently replaces an existing file, while link(2) fails with EEXIST, atomically.
    const temporary = path.join(folder, `.${id}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const handle = await open(temporary, 'wx', 0o600);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await link(temporary, file);
      } catch (error) {
        if (isCode(error, 'EEXIST')) throw new DocumentExistsError(id);
        throw error;
      }
    } finally {
      await rm(temporary, { force: true });
    }
    await syncDirectory(folder);
  }

  async get(id: string): Promise<Buffer> {
    try {
      return await readFile(this.fileOf(id));
    } catch (error) {
      if (isCode(error, 'ENOENT')) throw new DocumentMissingError(id);
      throw error;
    }
  }

  async delete(id: string): Promise<boolean> {
    const file = this.fileOf(id);
    try {
      await unlink(file);
    } catch (error) {
      // Idempotent, so retention can simply run again after a crash between row and file.
      if (isCode(error, 'ENOENT')) return false;
      throw error;
    }
    await syncDirectory(path.dirname(file));
    return true;
  }
}

/** What the database records about a stored document's content (of the plaintext). */
export interface StoredDocument {
  /** SHA-256 of the plaintext, lower-case hex. */
  sha256: string;
  /** Size of the plaintext in bytes. */
  size: number;
}

/**
 * Documents encrypted at rest: every byte that reaches the DocumentStore is AES-256-GCM
 * ciphertext bound to its id, and every read is checked twice, by the GCM tag (the file is the
 * one written for this id under our key) and by the SHA-256 the database holds (it is the
 * document the record refers to).
 */
export class EncryptedDocumentStore {
  readonly #store: DocumentStore;
  readonly #key: Buffer;
  readonly #readableKeys: readonly Buffer[];

  /** `key` is the `documents` subkey; `previousKeys` only decrypt, for a future key rotation. */
  constructor(store: DocumentStore, key: Buffer, previousKeys: readonly Buffer[] = []) {
    this.#store = store;
    this.#key = key;
    this.#readableKeys = [key, ...previousKeys];
  }

  async save(id: string, plaintext: Uint8Array): Promise<StoredDocument> {
    const stored = { sha256: sha256Hex(plaintext), size: plaintext.byteLength };
    await this.#store.put(id, encryptDocument(this.#key, id, plaintext));
    return stored;
  }

  /** The plaintext of `id`; DocumentIntegrityError unless it decrypts and hashes to `expectedSha256`. */
  async load(id: string, expectedSha256: string): Promise<Buffer> {
    const plaintext = decryptDocument(this.#readableKeys, id, await this.#store.get(id));
    if (sha256Hex(plaintext) !== expectedSha256.toLowerCase()) {
      throw new DocumentIntegrityError(id, 'hash_mismatch');
    }
    return plaintext;
  }

  delete(id: string): Promise<boolean> {
    return this.#store.delete(id);
  }
}

/** Haven's document storage: files under `<dataDir>/documents`, under the master key's `documents` subkey. */
export function openDocumentStorage(options: {
  dataDir: string;
  masterKey: Buffer;
}): EncryptedDocumentStore {
  return new EncryptedDocumentStore(
    FileDocumentStore.inDataDir(options.dataDir),
    deriveKey(options.masterKey, 'documents'),
  );
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Makes a new or removed directory entry durable; skipped where directories cannot be synced. */
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows and some network filesystems refuse; link/unlink themselves are still atomic.
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}
