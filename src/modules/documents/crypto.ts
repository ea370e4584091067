import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { HavenError } from '../../lib/errors.ts';

/**
 * A stored document is `header || ciphertext || tag`, AES-256-GCM. The header is
 * `"HVDC" || version (1 byte) || key id (4 bytes) || IV (12 bytes)`, and it is authenticated
 * together with the document id, so editing the header or moving a blob to another id fails.
 */
const MAGIC = Buffer.from('HVDC', 'ascii');
export const FORMAT_VERSION = 1;
const KEY_ID_BYTES = 4;
const IV_BYTES = 12; // 96 bits, the size GCM is specified for; random per document
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + 1 + KEY_ID_BYTES + IV_BYTES;
const KEY_BYTES = 32;

/** Why a stored document was refused; logged and audited, never sent to the client. */
export type IntegrityFailure =
  | 'truncated'
  | 'not_a_document'
  | 'unsupported_version'
  | 'unknown_key'
  | 'authentication_failed'
  | 'hash_mismatch';

/**
 * A stored document that cannot be trusted: tampered with, damaged, moved to another id, or
 * encrypted under a key this installation does not hold. 500, because the caller asked for
 * nothing wrong; the server's own copy is bad, which an operator has to look at.
 */
export class DocumentIntegrityError extends HavenError {
  constructor(
    readonly documentId: string,
    readonly reason: IntegrityFailure,
  ) {
    super(
      500,
      'document_corrupt',
      'Document failed its integrity check',
      'The stored copy of this document failed its integrity check, so it was not returned',
    );
    this.name = 'DocumentIntegrityError';
    this.withAudit({ documentId, reason });
  }
}

/** A short, non-secret name for a key, so a reader can tell which key a document needs. */
export function documentKeyId(key: Buffer): Buffer {
  return createHmac('sha256', key).update('haven:key-id').digest().subarray(0, KEY_ID_BYTES);
}

/** Encrypts one document under `key` (the `documents` subkey), bound to `documentId`. */
export function encryptDocument(key: Buffer, documentId: string, plaintext: Uint8Array): Buffer {
  assertKey(key);
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt8(FORMAT_VERSION, MAGIC.length);
  documentKeyId(key).copy(header, MAGIC.length + 1);
  randomBytes(IV_BYTES).copy(header, MAGIC.length + 1 + KEY_ID_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, ivOf(header), { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(header, documentId));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, body, cipher.getAuthTag()]);
}

/**
 * The plaintext of a stored document. `keys` may list the current key and earlier ones (for a
 * later rotation); the header's key id picks one. Throws DocumentIntegrityError on any doubt.
 */
export function decryptDocument(
  keys: Buffer | readonly Buffer[],
  documentId: string,
  stored: Uint8Array,
): Buffer {
  const blob = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  if (blob.length < HEADER_BYTES + TAG_BYTES) {
    throw new DocumentIntegrityError(documentId, 'truncated');
  }
  if (!blob.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new DocumentIntegrityError(documentId, 'not_a_document');
  }
  if (blob.readUInt8(MAGIC.length) !== FORMAT_VERSION) {
    throw new DocumentIntegrityError(documentId, 'unsupported_version');
  }
  const header = blob.subarray(0, HEADER_BYTES);
  const keyId = header.subarray(MAGIC.length + 1, MAGIC.length + 1 + KEY_ID_BYTES);
  const key = (Buffer.isBuffer(keys) ? [keys] : keys).find((k) => documentKeyId(k).equals(keyId));
  if (!key) throw new DocumentIntegrityError(documentId, 'unknown_key');
  assertKey(key);

  const decipher = createDecipheriv('aes-256-gcm', key, ivOf(header), { authTagLength: TAG_BYTES });
  decipher.setAAD(associatedData(header, documentId));
  decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
  const plaintext = decipher.update(blob.subarray(HEADER_BYTES, blob.length - TAG_BYTES));
  try {
    // final() is where GCM checks the tag; nothing decrypted is returned unless it passes.
    return Buffer.concat([plaintext, decipher.final()]);
  } catch {
    throw new DocumentIntegrityError(documentId, 'authentication_failed');
  }
}

function ivOf(header: Buffer): Buffer {
  return header.subarray(MAGIC.length + 1 + KEY_ID_BYTES, HEADER_BYTES);
}

/** The header is fixed-length, so `header || id` is unambiguous. */
function associatedData(header: Buffer, documentId: string): Buffer {
  return Buffer.concat([header, Buffer.from(documentId, 'utf8')]);
}

function assertKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new Error(`A document key must be ${KEY_BYTES} bytes`);
}
