import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import type { SafeguardingFile } from '../safeguarding-file/document.ts';

/**
 * The encrypted archive of an external transfer (issue 16, item 2): the child's file (JSON), its
 * printable PDF and every document's bytes, in one JSON body encrypted under a key derived from
 * a generated passphrase, which is shown once to the sender and sent separately.
 *
 * Format (version 1), all lengths in bytes:
 *   "HAVENTX1" (8) | scrypt salt (16) | AES-256-GCM nonce (12) | GCM tag (16) | ciphertext
 * The key is scrypt(passphrase, salt, N = 2^15, r = 8, p = 1, 32 bytes); the header (magic, salt,
 * nonce) is the GCM additional data, so no byte of the archive can change unnoticed. The
 * plaintext is UTF-8 JSON: `ArchiveContent`. `haven transfer decrypt` opens it.
 */

const MAGIC = Buffer.from('HAVENTX1', 'ascii');
const SALT = 16;
const NONCE = 12;
const TAG = 16;
const HEADER = MAGIC.length + SALT + NONCE;
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

export interface ArchiveDocument {
  id: string;
  name: string;
  contentType: string;
  sha256: string;
  /** The document's bytes, base64. */
  content: string;
}

export interface ArchiveContent {
  format: 'haven-transfer-archive/1';
  file: SafeguardingFile;
  /** The printable chronology, base64. */
  pdf: string;
  documents: ArchiveDocument[];
}

/** A passphrase of about 118 random bits: 6 groups of 4 letters and digits, none easily confused. */
export function newPassphrase(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(24);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]);
  return Array.from({ length: 6 }, (_, i) => chars.slice(i * 4, i * 4 + 4).join('')).join('-');
}

function keyOf(passphrase: string, salt: Buffer): Buffer {
  return scryptSync(passphrase.normalize('NFC'), salt, 32, SCRYPT);
}

export function encryptArchive(passphrase: string, content: ArchiveContent): Buffer {
  const salt = randomBytes(SALT);
  const nonce = randomBytes(NONCE);
  const header = Buffer.concat([MAGIC, salt, nonce]);
  const cipher = createCipheriv('aes-256-gcm', keyOf(passphrase, salt), nonce);
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(JSON.stringify(content), 'utf8'), cipher.final()]);
  return Buffer.concat([header, cipher.getAuthTag(), body]);
}

export class ArchiveError extends Error {}

/** The archive's content; ArchiveError for another format, a wrong passphrase or a changed byte. */
export function decryptArchive(passphrase: string, archive: Buffer): ArchiveContent {
  if (archive.length < HEADER + TAG || !archive.subarray(0, MAGIC.length).equals(MAGIC))
    throw new ArchiveError('not a Haven transfer archive');
  const header = archive.subarray(0, HEADER);
  const salt = archive.subarray(MAGIC.length, MAGIC.length + SALT);
  const nonce = archive.subarray(MAGIC.length + SALT, HEADER);
  const tag = archive.subarray(HEADER, HEADER + TAG);
  const decipher = createDecipheriv('aes-256-gcm', keyOf(passphrase, salt), nonce);
  decipher.setAAD(header);
  decipher.setAuthTag(tag);
  try {
    const plain = Buffer.concat([
      decipher.update(archive.subarray(HEADER + TAG)),
      decipher.final(),
    ]);
    return JSON.parse(plain.toString('utf8')) as ArchiveContent;
  } catch {
    throw new ArchiveError('the passphrase is wrong or the archive was changed');
  }
}
