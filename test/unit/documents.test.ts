import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HavenError } from '../../src/lib/errors.ts';
import { newId } from '../../src/lib/ids.ts';
import {
  ALLOWED_CONTENT_TYPES,
  checkUpload,
  type DocumentContentType,
  detectContentType,
  isAllowed,
} from '../../src/modules/documents/content-type.ts';
import {
  DocumentIntegrityError,
  decryptDocument,
  encryptDocument,
} from '../../src/modules/documents/crypto.ts';
import {
  deriveKey,
  loadSecretKey,
  SECRET_KEY_FILE,
  SecretKeyError,
} from '../../src/modules/documents/keys.ts';
import {
  DocumentExistsError,
  DocumentMissingError,
  EncryptedDocumentStore,
  FileDocumentStore,
  openDocumentStorage,
  sha256Hex,
} from '../../src/modules/documents/storage.ts';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'haven-documents-'));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

const masterKey = () => randomBytes(32);
const documentsKey = () => deriveKey(masterKey(), 'documents');
const text = (s: string) => Buffer.from(s, 'utf8');

function integrityReason(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DocumentIntegrityError);
    return (error as DocumentIntegrityError).reason;
  }
  throw new Error('expected a DocumentIntegrityError');
}

async function rejection(promise: Promise<unknown>): Promise<HavenError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HavenError);
  return error as HavenError;
}

describe('the secret key', () => {
  it('is generated on first start as a 0600 file and reused on the next', () => {
    const first = loadSecretKey({ dataDir });
    const file = path.join(dataDir, SECRET_KEY_FILE);
    expect(first).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadSecretKey({ dataDir })).toEqual(first);
    // Nothing but the key file is left behind.
    expect(readdirSync(dataDir)).toEqual([SECRET_KEY_FILE]);
  });

  it('creates the data directory when it does not exist yet', () => {
    const nested = path.join(dataDir, 'not', 'yet');
    expect(loadSecretKey({ dataDir: nested })).toHaveLength(32);
    expect(existsSync(path.join(nested, SECRET_KEY_FILE))).toBe(true);
  });

  it('gives every process starting at once the same key', async () => {
    const keysModule = fileURLToPath(
      new URL('../../src/modules/documents/keys.ts', import.meta.url),
    );
    const script = `const { loadSecretKey } = await import(${JSON.stringify(keysModule)});
      process.stdout.write(loadSecretKey({ dataDir: ${JSON.stringify(dataDir)} }).toString('hex'));`;
    const run = promisify(execFile);
    const outputs = await Promise.all(
      Array.from({ length: 6 }, () =>
        run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]),
      ),
    );
    const keys = new Set(outputs.map((o) => o.stdout));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toBe(loadSecretKey({ dataDir }).toString('hex'));
  });

  it('refuses a key file other users can read', () => {
    loadSecretKey({ dataDir });
    const file = path.join(dataDir, SECRET_KEY_FILE);
    chmodSync(file, 0o644);
    expect(() => loadSecretKey({ dataDir })).toThrow(SecretKeyError);
    expect(() => loadSecretKey({ dataDir })).toThrow(/chmod 600/);
  });

  it('refuses a malformed key file', () => {
    writeFileSync(path.join(dataDir, SECRET_KEY_FILE), 'hello\n', { mode: 0o600 });
    expect(() => loadSecretKey({ dataDir })).toThrow(/secret\.key is malformed/);
  });

  it('takes HAVEN_SECRET_KEY as base64, base64url or hex, and then writes no file', () => {
    const key = randomBytes(32);
    expect(loadSecretKey({ dataDir, secretKey: key.toString('base64') })).toEqual(key);
    expect(loadSecretKey({ dataDir, secretKey: key.toString('base64url') })).toEqual(key);
    expect(loadSecretKey({ dataDir, secretKey: ` ${key.toString('hex')}\n` })).toEqual(key);
    expect(existsSync(path.join(dataDir, SECRET_KEY_FILE))).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['a password', 'correct horse battery staple'],
    ['31 bytes of base64', randomBytes(31).toString('base64')],
    ['33 bytes of base64', randomBytes(33).toString('base64')],
    ['63 hex digits', randomBytes(32).toString('hex').slice(1)],
    ['base64 with a stray character', `${randomBytes(32).toString('base64').slice(0, 42)}!=`],
  ])('refuses a malformed HAVEN_SECRET_KEY (%s), naming the variable', (_, secretKey) => {
    expect(() => loadSecretKey({ dataDir, secretKey })).toThrow(SecretKeyError);
    expect(() => loadSecretKey({ dataDir, secretKey })).toThrow(/HAVEN_SECRET_KEY/);
  });

  it('derives independent subkeys per purpose, the same every time', () => {
    const master = masterKey();
    const documents = deriveKey(master, 'documents');
    expect(documents).toHaveLength(32);
    expect(deriveKey(master, 'documents')).toEqual(documents);
    expect(deriveKey(master, 'totp')).not.toEqual(documents);
    expect(documents).not.toEqual(master);
  });
});

describe('document encryption', () => {
  it('round-trips, with a fresh IV every time', () => {
    const key = documentsKey();
    const id = newId();
    const plaintext = text('Disclosure noted at 10:40 by the DSL.');
    const a = encryptDocument(key, id, plaintext);
    const b = encryptDocument(key, id, plaintext);
    expect(a.equals(b)).toBe(false);
    expect(a.includes(plaintext)).toBe(false);
    expect(decryptDocument(key, id, a)).toEqual(plaintext);
    expect(decryptDocument(key, id, encryptDocument(key, id, new Uint8Array()))).toHaveLength(0);
  });

  it('refuses a stored document with any single byte flipped', () => {
    const key = documentsKey();
    const id = newId();
    const stored = encryptDocument(key, id, text('A body long enough to flip bytes in.'));
    const reasons = new Set<string>();
    for (let i = 0; i < stored.length; i++) {
      const damaged = Buffer.from(stored);
      damaged[i]! ^= 0x01;
      reasons.add(integrityReason(() => decryptDocument(key, id, damaged)));
    }
    // Magic, version, key id, then IV, ciphertext and tag (the last three by GCM's tag).
    expect([...reasons].sort()).toEqual([
      'authentication_failed',
      'not_a_document',
      'unknown_key',
      'unsupported_version',
    ]);
  });

  it('refuses a truncated document', () => {
    const key = documentsKey();
    const id = newId();
    const stored = encryptDocument(key, id, text('short'));
    expect(integrityReason(() => decryptDocument(key, id, stored.subarray(0, 20)))).toBe(
      'truncated',
    );
    expect(
      integrityReason(() => decryptDocument(key, id, stored.subarray(0, stored.length - 1))),
    ).toBe('authentication_failed');
  });

  it('decrypts with an earlier key listed for rotation', () => {
    const [oldKey, newKey] = [documentsKey(), documentsKey()];
    const id = newId();
    const stored = encryptDocument(oldKey, id, text('before rotation'));
    expect(decryptDocument([newKey, oldKey], id, stored).toString()).toBe('before rotation');
    expect(integrityReason(() => decryptDocument([newKey], id, stored))).toBe('unknown_key');
  });
});

describe('encrypted document storage', () => {
  it('round-trips and records the SHA-256 and size of the plaintext', async () => {
    const documents = openDocumentStorage({ dataDir, masterKey: masterKey() });
    const id = newId();
    const plaintext = text('Chronology of concerns, term 2.');
    const stored = await documents.save(id, plaintext);
    expect(stored).toEqual({ sha256: sha256Hex(plaintext), size: plaintext.length });
    expect(await documents.load(id, stored.sha256)).toEqual(plaintext);

    // On disk: <dataDir>/documents/<last two characters>/<id>, private, and not the plaintext.
    const file = path.join(dataDir, 'documents', id.slice(-2), id);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file).includes(plaintext)).toBe(false);
  });

  it('fails with the integrity error when a byte of the stored file is flipped', async () => {
    const documents = openDocumentStorage({ dataDir, masterKey: masterKey() });
    const id = newId();
    const { sha256 } = await documents.save(id, text('Original statement.'));
    const file = path.join(dataDir, 'documents', id.slice(-2), id);
    const bytes = readFileSync(file);
    bytes[bytes.length - 20]! ^= 0x80;
    writeFileSync(file, bytes);

    const error = await rejection(documents.load(id, sha256));
    expect(error).toBeInstanceOf(DocumentIntegrityError);
    expect(error).toMatchObject({ status: 500, code: 'document_corrupt' });
    expect(error.auditMeta).toEqual({ documentId: id, reason: 'authentication_failed' });
    // What the client sees says nothing about why.
    expect(error.detail).not.toMatch(/authentication|key/);
  });

  it('fails when two stored blobs are swapped between ids', async () => {
    const documents = openDocumentStorage({ dataDir, masterKey: masterKey() });
    const [a, b] = [newId(), newId()];
    const savedA = await documents.save(a, text('Document A'));
    const savedB = await documents.save(b, text('Document B'));
    const fileA = path.join(dataDir, 'documents', a.slice(-2), a);
    const fileB = path.join(dataDir, 'documents', b.slice(-2), b);
    const swap = path.join(dataDir, 'swap');
    renameSync(fileA, swap);
    renameSync(fileB, fileA);
    renameSync(swap, fileB);

    for (const [id, saved] of [
      [a, savedA],
      [b, savedB],
    ] as const) {
      const error = await rejection(documents.load(id, saved.sha256));
      expect(error).toBeInstanceOf(DocumentIntegrityError);
      expect((error as DocumentIntegrityError).reason).toBe('authentication_failed');
    }
  });

  it('fails under another installation key', async () => {
    const id = newId();
    const { sha256 } = await openDocumentStorage({ dataDir, masterKey: masterKey() }).save(
      id,
      text('Secret'),
    );
    const other = openDocumentStorage({ dataDir, masterKey: masterKey() });
    const error = await rejection(other.load(id, sha256));
    expect(error).toBeInstanceOf(DocumentIntegrityError);
    expect((error as DocumentIntegrityError).reason).toBe('unknown_key');
  });

  it('fails when the content does not match the hash the record holds', async () => {
    const documents = openDocumentStorage({ dataDir, masterKey: masterKey() });
    const id = newId();
    await documents.save(id, text('What was uploaded'));
    const error = await rejection(documents.load(id, sha256Hex(text('Something else'))));
    expect((error as DocumentIntegrityError).reason).toBe('hash_mismatch');
  });

  it('answers document_missing for a record whose file is gone', async () => {
    const documents = openDocumentStorage({ dataDir, masterKey: masterKey() });
    const error = await rejection(documents.load(newId(), sha256Hex(text(''))));
    expect(error).toBeInstanceOf(DocumentMissingError);
    expect(error).toMatchObject({ status: 500, code: 'document_missing' });
  });

  it('reads documents written under a previous key', async () => {
    const store = FileDocumentStore.inDataDir(dataDir);
    const [oldKey, newKey] = [documentsKey(), documentsKey()];
    const id = newId();
    const { sha256 } = await new EncryptedDocumentStore(store, oldKey).save(id, text('Old'));
    const rotated = new EncryptedDocumentStore(store, newKey, [oldKey]);
    expect((await rotated.load(id, sha256)).toString()).toBe('Old');
  });
});

describe('the file store', () => {
  it('never overwrites an id, and leaves no temporary files', async () => {
    const store = FileDocumentStore.inDataDir(dataDir);
    const id = newId();
    await store.put(id, text('first'));
    const error = await rejection(store.put(id, text('second')));
    expect(error).toBeInstanceOf(DocumentExistsError);
    expect(error).toMatchObject({ status: 409, code: 'document_exists' });
    expect((await store.get(id)).toString()).toBe('first');
    expect(readdirSync(path.dirname(store.fileOf(id)))).toEqual([id]);
  });

  it('lets exactly one of several simultaneous puts of an id win', async () => {
    const store = FileDocumentStore.inDataDir(dataDir);
    const id = newId();
    const contents = Array.from({ length: 8 }, (_, i) => text(`version ${i}`));
    const results = await Promise.allSettled(contents.map((c) => store.put(id, c)));
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DocumentExistsError);
    }
    expect(await store.get(id)).toEqual(contents[winners[0]!]);
    expect(readdirSync(path.dirname(store.fileOf(id)))).toEqual([id]);
  });

  it('deletes idempotently', async () => {
    const store = FileDocumentStore.inDataDir(dataDir);
    const id = newId();
    await store.put(id, text('to be deleted by retention'));
    expect(await store.delete(id)).toBe(true);
    expect(await store.delete(id)).toBe(false);
    expect(await rejection(store.get(id))).toBeInstanceOf(DocumentMissingError);
  });

  it('accepts only document ids, so no id can name a path outside the store', async () => {
    const store = FileDocumentStore.inDataDir(dataDir);
    for (const id of ['../../secret.key', 'ABCDEFGHJKMNPQRSTVWXYZ0123', '', 'short']) {
      await expect(store.put(id, text('x'))).rejects.toThrow(/Not a document id/);
      await expect(store.get(id)).rejects.toThrow(/Not a document id/);
    }
  });
});

// --- minimal real files for content detection ---

function ascii(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** A ZIP of stored (uncompressed) entries, with local headers, central directory and end record. */
function zip(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(entries)) {
    const nameBytes = Buffer.from(name, 'utf8');
    const data = Buffer.from(content, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const CONTENT_TYPES_XML = '<?xml version="1.0"?><Types/>';

/**
 * An OLE2 compound file (MS-CFB v3, 512-byte sectors): header, one FAT sector, one directory
 * sector holding the root and the given streams, chained through right siblings.
 */
function ole2(streams: string[]): Buffer {
  const file = Buffer.alloc(512 * 3);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(file, 0);
  file.writeUInt16LE(0x3e, 24);
  file.writeUInt16LE(3, 26);
  file.writeUInt16LE(0xfffe, 28);
  file.writeUInt16LE(9, 30);
  file.writeUInt16LE(6, 32);
  file.writeUInt32LE(1, 44); // one FAT sector
  file.writeUInt32LE(1, 48); // directory starts in sector 1
  file.writeUInt32LE(4096, 56);
  file.writeUInt32LE(0xfffffffe, 60);
  file.writeUInt32LE(0xfffffffe, 68);
  file.fill(0xff, 76, 512);
  file.writeUInt32LE(0, 76); // the FAT is sector 0
  const fat = 512;
  file.fill(0xff, fat, fat + 512);
  file.writeUInt32LE(0xfffffffd, fat); // sector 0: FAT
  file.writeUInt32LE(0xfffffffe, fat + 4); // sector 1: end of the directory chain
  const directory = 1024;
  const names = ['Root Entry', ...streams];
  expect(names.length).toBeLessThanOrEqual(4);
  names.forEach((name, i) => {
    const entry = directory + i * 128;
    const encoded = Buffer.from(`${name}\0`, 'utf16le');
    encoded.copy(file, entry);
    file.writeUInt16LE(encoded.length, entry + 64);
    file.writeUInt8(i === 0 ? 5 : 2, entry + 66);
    file.writeUInt32LE(0xffffffff, entry + 68);
    file.writeUInt32LE(i > 0 && i + 1 < names.length ? i + 1 : 0xffffffff, entry + 72);
    file.writeUInt32LE(i === 0 && names.length > 1 ? 1 : 0xffffffff, entry + 76);
  });
  return file;
}

const SAMPLES: Record<DocumentContentType, Buffer> = {
  'application/pdf': ascii('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n'),
  'image/png': Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
    ascii('IHDR'),
    Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89]),
  ]),
  'image/jpeg': Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]), ascii('JFIF\0')]),
  'image/gif': ascii('GIF89a\x01\x00\x01\x00\x00\x00\x00;'),
  'image/webp': Buffer.concat([ascii('RIFF'), Buffer.from([26, 0, 0, 0]), ascii('WEBPVP8L')]),
  'image/heic': Buffer.concat([Buffer.from([0, 0, 0, 24]), ascii('ftypheic\0\0\0\0mif1heic')]),
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': zip({
    '[Content_Types].xml': CONTENT_TYPES_XML,
    '_rels/.rels': '<Relationships/>',
    'word/document.xml': '<w:document/>',
  }),
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': zip({
    '[Content_Types].xml': CONTENT_TYPES_XML,
    'xl/workbook.xml': '<workbook/>',
  }),
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': zip({
    '[Content_Types].xml': CONTENT_TYPES_XML,
    'ppt/presentation.xml': '<p:presentation/>',
  }),
  'application/msword': ole2(['1Table', 'WordDocument']),
  'application/vnd.ms-excel': ole2(['Workbook']),
  'application/vnd.ms-powerpoint': ole2(['Current User', 'PowerPoint Document']),
  'application/rtf': ascii('{\\rtf1\\ansi Meeting notes\\par}'),
  'text/plain': text('Spoke with Sam\u2019s mother, 09:15.\r\n\tFollow-up booked.\n'),
};

const MZ = Buffer.concat([ascii('MZ\x90\x00\x03\x00\x00\x00'), Buffer.alloc(56), ascii('PE\0\0')]);

describe('content detection', () => {
  it.each(ALLOWED_CONTENT_TYPES)('recognises %s from its bytes', (type) => {
    expect(detectContentType(SAMPLES[type])).toBe(type);
    expect(isAllowed(type)).toBe(true);
  });

  it.each([
    ['a Windows executable', MZ],
    ['an ELF executable', Buffer.concat([ascii('\x7fELF\x02\x01\x01'), Buffer.alloc(9)])],
    ['an empty file', Buffer.alloc(0)],
    ['a ZIP that is not an Office document', zip({ 'payload.exe': 'MZ' })],
    [
      'a ZIP with both word/ and xl/ parts',
      zip({ '[Content_Types].xml': '', 'word/a': '', 'xl/b': '' }),
    ],
    [
      'a DOCX glued behind an executable',
      Buffer.concat([
        MZ,
        SAMPLES['application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
      ]),
    ],
    ['a DOC glued behind an executable', Buffer.concat([MZ, SAMPLES['application/msword']])],
    [
      'a DOCX with bytes glued in front of its central directory',
      (() => {
        const docx =
          SAMPLES['application/vnd.openxmlformats-officedocument.wordprocessingml.document'];
        return Buffer.concat([docx.subarray(0, 40), Buffer.alloc(7), docx.subarray(40)]);
      })(),
    ],
    ['an OLE2 file that is not Office (an MSI installer)', ole2(['\u4840\u3f3f'])],
    ['an OLE2 header alone', SAMPLES['application/msword'].subarray(0, 512)],
    ['an AVIF image', Buffer.concat([Buffer.from([0, 0, 0, 20]), ascii('ftypavif\0\0\0\0mif1')])],
    ['invalid UTF-8', Buffer.from([0x48, 0x69, 0xc3, 0x28])],
    ['text with a NUL byte', text('Hello\0world')],
    ['UTF-16 text', Buffer.from('\ufeffHello', 'utf16le')],
  ])('refuses %s', (_, bytes) => {
    expect(detectContentType(bytes)).toBeUndefined();
  });

  it('does not allow types outside the list', () => {
    expect(isAllowed('application/x-msdownload')).toBe(false);
    expect(isAllowed('text/html')).toBe(false);
    expect(isAllowed('constructor')).toBe(false);
  });
});

describe('checking an upload', () => {
  const maxBytes = 1024;

  it('accepts allowed bytes and reports what they are', () => {
    expect(
      checkUpload({ declaredType: 'application/pdf', bytes: SAMPLES['application/pdf'], maxBytes }),
    ).toEqual({
      contentType: 'application/pdf',
      size: SAMPLES['application/pdf'].length,
      declaredType: 'application/pdf',
      mismatch: false,
    });
  });

  it('refuses a disguised executable with 415 unsupported_media_type', () => {
    const error = (() => {
      try {
        checkUpload({ declaredType: 'application/pdf', bytes: MZ, maxBytes });
      } catch (e) {
        return e as HavenError;
      }
      throw new Error('expected a refusal');
    })();
    expect(error).toBeInstanceOf(HavenError);
    expect(error).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    expect(error.detail).toMatch(/sent as application\/pdf/);
    expect(error.extra.allowed).toEqual(ALLOWED_CONTENT_TYPES);
  });

  it('refuses an oversize upload with 413 payload_too_large, before looking at it', () => {
    expect(() =>
      checkUpload({
        declaredType: 'text/plain',
        bytes: Buffer.alloc(maxBytes + 1, 0x61),
        maxBytes,
      }),
    ).toThrow(
      expect.objectContaining({ status: 413, code: 'payload_too_large', extra: { limit: 1024 } }),
    );
    expect(
      checkUpload({ declaredType: 'text/plain', bytes: Buffer.alloc(maxBytes, 0x61), maxBytes })
        .size,
    ).toBe(maxBytes);
  });

  it('refuses an empty upload', () => {
    expect(() =>
      checkUpload({ declaredType: 'text/plain', bytes: Buffer.alloc(0), maxBytes }),
    ).toThrow(expect.objectContaining({ status: 415, detail: 'The file is empty' }));
  });

  it('reports a declared type that disagrees with the bytes, and trusts the bytes', () => {
    const result = checkUpload({
      declaredType: 'image/jpeg',
      bytes: SAMPLES['image/png'],
      maxBytes,
    });
    expect(result).toMatchObject({
      contentType: 'image/png',
      declaredType: 'image/jpeg',
      mismatch: true,
    });
  });

  it.each([
    [undefined, undefined],
    ['', undefined],
    ['application/octet-stream', undefined],
    ['IMAGE/JPG', 'image/jpeg'],
  ])('does not count %j as a mismatch for a JPEG', (declaredType, normalised) => {
    const result = checkUpload({ declaredType, bytes: SAMPLES['image/jpeg'], maxBytes });
    expect(result).toMatchObject({
      contentType: 'image/jpeg',
      declaredType: normalised,
      mismatch: false,
    });
  });

  it('ignores parameters of the declared type', () => {
    const result = checkUpload({
      declaredType: 'text/plain; charset=utf-8',
      bytes: SAMPLES['text/plain'],
      maxBytes,
    });
    expect(result.mismatch).toBe(false);
  });
});
