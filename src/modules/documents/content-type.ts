import { HavenError } from '../../lib/errors.ts';

/*
 * Signatures are written by hand rather than taken from the `file-type` package. Its current
 * major (22) needs Node 22; 21.x runs on Node 20 but answers asynchronously, knows no plain text,
 * reports every OLE2 file (DOC, XLS, but also MSI installers) as one `x-cfb` type, and brings
 * four dependencies to recognise ~150 formats of which Haven accepts fourteen. The short list
 * below is all Haven needs, reads only what it must, and is easy to review.
 */

/** The kinds of file a record may carry: label for people, extension for downloads. */
export const DOCUMENT_TYPES = {
  'application/pdf': { label: 'PDF', extension: 'pdf' },
  'image/png': { label: 'PNG image', extension: 'png' },
  'image/jpeg': { label: 'JPEG image', extension: 'jpg' },
  'image/gif': { label: 'GIF image', extension: 'gif' },
  'image/webp': { label: 'WebP image', extension: 'webp' },
  'image/heic': { label: 'HEIC photo', extension: 'heic' },
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': {
    label: 'Word document',
    extension: 'docx',
  },
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
    label: 'Excel workbook',
    extension: 'xlsx',
  },
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': {
    label: 'PowerPoint presentation',
    extension: 'pptx',
  },
  'application/msword': { label: 'Word 97-2003 document', extension: 'doc' },
  'application/vnd.ms-excel': { label: 'Excel 97-2003 workbook', extension: 'xls' },
  'application/vnd.ms-powerpoint': { label: 'PowerPoint 97-2003 presentation', extension: 'ppt' },
  'application/rtf': { label: 'Rich Text document', extension: 'rtf' },
  'text/plain': { label: 'Plain text', extension: 'txt' },
} as const satisfies Record<string, { label: string; extension: string }>;

export type DocumentContentType = keyof typeof DOCUMENT_TYPES;

/** The allowlist: every content type Haven stores. */
export const ALLOWED_CONTENT_TYPES = Object.keys(DOCUMENT_TYPES) as readonly DocumentContentType[];

export function isAllowed(type: string): type is DocumentContentType {
  return Object.hasOwn(DOCUMENT_TYPES, type);
}

/**
 * What the bytes are, if they are one of the allowed types; undefined for anything else
 * (executables, archives, HTML with a binary prefix, empty files, unknown formats).
 */
export function detectContentType(bytes: Uint8Array): DocumentContentType | undefined {
  if (bytes.length === 0) return undefined;
  if (startsWith(bytes, PDF)) return 'application/pdf';
  if (startsWith(bytes, PNG) && ascii(bytes, 12, 4) === 'IHDR') return 'image/png';
  if (startsWith(bytes, JPEG)) return 'image/jpeg';
  if (startsWith(bytes, GIF87A) || startsWith(bytes, GIF89A)) return 'image/gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 7) === 'WEBPVP8') return 'image/webp';
  if (isHeic(bytes)) return 'image/heic';
  if (startsWith(bytes, ZIP_LOCAL_FILE)) return officeOpenXmlType(bytes);
  if (startsWith(bytes, OLE2)) return legacyOfficeType(bytes);
  if (startsWith(bytes, RTF)) return 'application/rtf';
  if (isPlainText(bytes)) return 'text/plain';
  return undefined;
}

export interface CheckedUpload {
  /** The detected type: store and serve this one, never the declared one. */
  contentType: DocumentContentType;
  size: number;
  /** The client's type, normalised; undefined when it made no real claim (octet-stream, none). */
  declaredType: string | undefined;
  /** The client declared a specific type and the bytes are something else (worth auditing). */
  mismatch: boolean;
}

/**
 * Accepts an upload by its bytes. 413 `payload_too_large` above `maxBytes`; 415
 * `unsupported_media_type` unless the bytes are an allowed type. A declared type that disagrees
 * with allowed bytes is reported, not refused: browsers often guess (HEIC as '', CSV as
 * text/csv), and the detected type is the one stored and served.
 */
export function checkUpload(upload: {
  declaredType: string | undefined;
  bytes: Uint8Array;
  maxBytes: number;
}): CheckedUpload {
  const { bytes, maxBytes } = upload;
  const declaredType = normaliseDeclaredType(upload.declaredType);
  if (bytes.length > maxBytes) throw payloadTooLarge(bytes.length, maxBytes);
  if (bytes.length === 0) {
    throw unsupportedMediaType('The file is empty', declaredType);
  }
  const contentType = detectContentType(bytes);
  if (!contentType) {
    const kinds = ALLOWED_CONTENT_TYPES.map((t) => DOCUMENT_TYPES[t].label).join(', ');
    throw unsupportedMediaType(
      `The file's contents are not a kind Haven accepts${declaredType ? ` (it was sent as ${declaredType})` : ''}. Accepted: ${kinds}`,
      declaredType,
    );
  }
  return {
    contentType,
    size: bytes.length,
    declaredType,
    mismatch: declaredType !== undefined && declaredType !== contentType,
  };
}

export function payloadTooLarge(size: number, limit: number): HavenError {
  return new HavenError(
    413,
    'payload_too_large',
    'Payload too large',
    `A document may be at most ${formatBytes(limit)}; this one is ${formatBytes(size)}`,
    { limit },
  ).withAudit({ size, limit });
}

function unsupportedMediaType(detail: string, declaredType: string | undefined): HavenError {
  return new HavenError(415, 'unsupported_media_type', 'Unsupported media type', detail, {
    allowed: ALLOWED_CONTENT_TYPES,
  }).withAudit({ declaredType: declaredType ?? null });
}

/** Names clients use for the same types. */
const DECLARED_ALIASES: Record<string, DocumentContentType> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/heif': 'image/heic',
  'application/x-pdf': 'application/pdf',
  'text/rtf': 'application/rtf',
};
/** Declared types that say "I don't know". */
const NO_CLAIM = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

function normaliseDeclaredType(declared: string | undefined): string | undefined {
  const type = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  if (NO_CLAIM.has(type)) return undefined;
  return DECLARED_ALIASES[type] ?? type;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
  if (n >= 1024) return `${Math.ceil(n / 1024)} KB`;
  return `${n} bytes`;
}

// --- signatures ---

const PDF = bytesOf('%PDF-');
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];
const GIF87A = bytesOf('GIF87a');
const GIF89A = bytesOf('GIF89a');
const RTF = bytesOf('{\\rtf');
const ZIP_LOCAL_FILE = [0x50, 0x4b, 0x03, 0x04];
const OLE2 = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

function bytesOf(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0));
}

function startsWith(bytes: Uint8Array, signature: readonly number[]): boolean {
  return bytes.length >= signature.length && signature.every((b, i) => bytes[i] === b);
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  if (offset + length > bytes.length) return '';
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// HEIF brands that mean HEVC-coded images (what iPhones save); AVIF and other HEIF are not listed.
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);

/** ISO base media file: an `ftyp` box first, whose major or compatible brand is HEVC HEIF. */
function isHeic(bytes: Uint8Array): boolean {
  if (bytes.length < 16 || ascii(bytes, 4, 4) !== 'ftyp') return false;
  const boxSize = Math.min(view(bytes).getUint32(0), bytes.length);
  const major = ascii(bytes, 8, 4);
  if (HEIC_BRANDS.has(major)) return true;
  if (major !== 'mif1' && major !== 'msf1') return false;
  for (let offset = 16; offset + 4 <= boxSize; offset += 4) {
    if (HEIC_BRANDS.has(ascii(bytes, offset, 4))) return true;
  }
  return false;
}

const OOXML_FAMILIES = [
  ['word/', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ['xl/', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  ['ppt/', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
] as const;

/**
 * DOCX, XLSX or PPTX: a ZIP whose entries include `[Content_Types].xml` and parts under exactly
 * one of `word/`, `xl/`, `ppt/`. Names come from the central directory, which (unlike local
 * headers written in streaming mode) always records sizes, so it can be walked reliably. It
 * must end the file and the archive must start it: a ZIP glued to an executable is refused.
 */
function officeOpenXmlType(bytes: Uint8Array): DocumentContentType | undefined {
  const names = zipEntryNames(bytes);
  if (!names?.has('[Content_Types].xml')) return undefined;
  const families = OOXML_FAMILIES.filter(([prefix]) =>
    [...names].some((name) => name.startsWith(prefix)),
  );
  return families.length === 1 ? families[0]![1] : undefined;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const EOCD_BYTES = 22;

function zipEntryNames(bytes: Uint8Array): Set<string> | undefined {
  const data = view(bytes);
  // The end-of-central-directory record is the last 22 bytes plus a comment of up to 64 KiB.
  const lowest = Math.max(0, bytes.length - EOCD_BYTES - 0xffff);
  let eocd = -1;
  for (let at = bytes.length - EOCD_BYTES; at >= lowest; at--) {
    if (data.getUint32(at, true) === EOCD_SIGNATURE) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) return undefined;
  const count = data.getUint16(eocd + 10, true);
  const size = data.getUint32(eocd + 12, true);
  const start = data.getUint32(eocd + 16, true);
  // ZIP64 (0xFFFF.. markers) is not expected for documents under the upload limit.
  if (start + size !== eocd) return undefined;
  const names = new Set<string>();
  const decoder = new TextDecoder();
  let at = start;
  for (let i = 0; i < count; i++) {
    if (at + 46 > eocd || data.getUint32(at, true) !== CENTRAL_SIGNATURE) return undefined;
    const nameLength = data.getUint16(at + 28, true);
    const extraLength = data.getUint16(at + 30, true);
    const commentLength = data.getUint16(at + 32, true);
    if (at + 46 + nameLength > eocd) return undefined;
    names.add(decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength)));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

/** Streams at the root of an OLE2 compound file that name the application which wrote it. */
const OLE2_MAIN_STREAMS: Record<string, DocumentContentType> = {
  WordDocument: 'application/msword',
  Workbook: 'application/vnd.ms-excel',
  Book: 'application/vnd.ms-excel', // Excel 5/95
  'PowerPoint Document': 'application/vnd.ms-powerpoint',
};

/**
 * DOC, XLS or PPT. The OLE2 header alone is not enough: MSI installers and Outlook messages
 * are OLE2 too. So the root storage's streams are read (MS-CFB: FAT, directory chain, and the
 * red-black tree of the root's children) and the main stream decides.
 */
function legacyOfficeType(bytes: Uint8Array): DocumentContentType | undefined {
  const streams = ole2RootStreams(bytes);
  if (!streams) return undefined;
  const found = new Set(
    [...streams].flatMap((name) => (OLE2_MAIN_STREAMS[name] ? [OLE2_MAIN_STREAMS[name]] : [])),
  );
  return found.size === 1 ? [...found][0] : undefined;
}

const utf16 = new TextDecoder('utf-16le');
const END_OF_CHAIN_MIN = 0xfffffffa; // values from here up are markers, not sector numbers
const NO_STREAM = 0xffffffff;
const DIRECTORY_ENTRY_BYTES = 128;

function ole2RootStreams(bytes: Uint8Array): Set<string> | undefined {
  if (bytes.length < 512) return undefined;
  const data = view(bytes);
  if (data.getUint16(28, true) !== 0xfffe) return undefined;
  const shift = data.getUint16(30, true);
  if (shift !== 9 && shift !== 12) return undefined;
  const sectorSize = 1 << shift;
  const sectorCount = Math.floor((bytes.length - 512) / sectorSize) + 1;
  const sectorOffset = (sector: number) =>
    sector < END_OF_CHAIN_MIN && (sector + 1) * sectorSize + sectorSize <= bytes.length
      ? (sector + 1) * sectorSize
      : undefined;

  // The FAT's own sectors: 109 listed in the header, the rest in a chain of DIFAT sectors.
  const fatSectorCount = data.getUint32(44, true);
  if (fatSectorCount > sectorCount) return undefined;
  const fatSectors: number[] = [];
  for (let i = 0; i < 109 && fatSectors.length < fatSectorCount; i++) {
    fatSectors.push(data.getUint32(76 + i * 4, true));
  }
  let difat = data.getUint32(68, true);
  for (let hops = 0; fatSectors.length < fatSectorCount; hops++) {
    const offset = sectorOffset(difat);
    if (offset === undefined || hops > sectorCount) return undefined;
    const perSector = sectorSize / 4 - 1;
    for (let i = 0; i < perSector && fatSectors.length < fatSectorCount; i++) {
      fatSectors.push(data.getUint32(offset + i * 4, true));
    }
    difat = data.getUint32(offset + perSector * 4, true);
  }
  const entriesPerFatSector = sectorSize / 4;
  const nextSector = (sector: number): number | undefined => {
    const fatSector = fatSectors[Math.floor(sector / entriesPerFatSector)];
    const offset = fatSector === undefined ? undefined : sectorOffset(fatSector);
    if (offset === undefined) return undefined;
    return data.getUint32(offset + (sector % entriesPerFatSector) * 4, true);
  };

  // The directory: a chain of sectors of 128-byte entries; entry 0 is the root storage.
  const entries: number[] = [];
  let sector: number | undefined = data.getUint32(48, true);
  for (let hops = 0; sector !== undefined && sector < END_OF_CHAIN_MIN; hops++) {
    const offset = sectorOffset(sector);
    if (offset === undefined || hops > sectorCount) return undefined;
    for (let i = 0; i < sectorSize / DIRECTORY_ENTRY_BYTES; i++) {
      entries.push(offset + i * DIRECTORY_ENTRY_BYTES);
    }
    sector = nextSector(sector);
  }
  const root = entries[0];
  if (root === undefined || bytes[root + 66] !== 5) return undefined;

  // The root's children form a tree through left (68) and right (72) sibling ids.
  const streams = new Set<string>();
  const pending = [data.getUint32(root + 76, true)];
  const seen = new Set<number>();
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (id === NO_STREAM) continue;
    const entry = entries[id];
    if (entry === undefined || seen.has(id)) return undefined;
    seen.add(id);
    const nameBytes = Math.min(data.getUint16(entry + 64, true), 64);
    const name = utf16.decode(bytes.subarray(entry, entry + nameBytes)).replace(/\0+$/, '');
    if (bytes[entry + 66] === 2) streams.add(name);
    pending.push(data.getUint32(entry + 68, true), data.getUint32(entry + 72, true));
  }
  return streams;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const TEXT_CONTROLS = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1a, 0x1b]);

/**
 * Valid UTF-8 with no NUL and no C0 control characters other than tab, line feed, vertical
 * tab, form feed, carriage return, SUB (old DOS end of file) and ESC (terminal colours):
 * what a binary file almost never is. UTF-16 text is refused; it is rare and full of NULs.
 */
function isPlainText(bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    if (byte < 0x20 && !TEXT_CONTROLS.has(byte)) return false;
  }
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
