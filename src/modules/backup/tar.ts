import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { createGunzip, createGzip, type Gzip } from 'node:zlib';

/**
 * The container of a Haven backup: a POSIX ustar archive compressed with gzip (`.tar.gz`), so
 * `tar -tzf` lists it and `tar -xzf` unpacks it anywhere. Only what Haven itself writes is
 * read back: regular files with plain relative names, no links, directories or extended headers
 * (a size past 8 GiB is written in GNU's base-256 form, which GNU tar and bsdtar read). Written by
 * hand with node:zlib because no tar package is among Haven's dependencies.
 */

const BLOCK = 512;
const END = Buffer.alloc(BLOCK * 2);
// Names Haven writes: `manifest.json`, `database/haven.sqlite`, `documents/xy/<id>`, `secret.key`.
const MEMBER_NAME = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const OCTAL_SIZE_LIMIT = 8 ** 11;

/** The archive cannot be read as a Haven backup: damaged, cut short, or not one at all. */
export class ArchiveDamagedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ArchiveDamagedError';
  }
}

export interface ArchiveMember {
  path: string;
  size: number;
  /** SHA-256 of the member's bytes, lower-case hex. */
  sha256: string;
}

export function isMemberName(name: string): boolean {
  return (
    MEMBER_NAME.test(name) &&
    name.length <= 255 &&
    !name.split('/').some((part) => part === '.' || part === '..')
  );
}

/** Writes members one after another to a new `.tar.gz` file. */
export class TarWriter {
  readonly #gzip: Gzip;
  readonly #file: WriteStream;
  readonly #mtime: number;
  readonly #names = new Set<string>();
  readonly #done: Promise<void>;

  constructor(file: string, options: { mtime: Date; mode?: number }) {
    this.#file = createWriteStream(file, { flags: 'wx', mode: options.mode ?? 0o600 });
    this.#gzip = createGzip();
    // pipeline(): a failed write to the file fails the gzip stream too, so no wait hangs on it.
    this.#done = pipeline(this.#gzip, this.#file);
    this.#done.catch(() => {});
    this.#mtime = Math.floor(options.mtime.getTime() / 1000);
  }

  /** Adds `source`'s current contents as `name`, hashing exactly the bytes written. */
  async addFile(name: string, source: string): Promise<ArchiveMember> {
    this.#claim(name);
    const handle = await open(source, 'r');
    try {
      const { size } = await handle.stat();
      await this.#write(header(name, size, this.#mtime));
      const hash = createHash('sha256');
      let written = 0;
      const chunks = size === 0 ? [] : handle.createReadStream({ autoClose: false, end: size - 1 });
      for await (const chunk of chunks) {
        const bytes = chunk as Buffer;
        // A file that grows while it is read is cut at the size its header announced.
        const part = bytes.subarray(0, Math.max(0, size - written));
        hash.update(part);
        written += part.length;
        await this.#write(part);
        if (written >= size) break;
      }
      if (written !== size) throw new Error(`${source} shrank while it was being archived`);
      await this.#pad(size);
      return { path: name, size, sha256: hash.digest('hex') };
    } finally {
      await handle.close();
    }
  }

  async addBytes(name: string, bytes: Buffer): Promise<ArchiveMember> {
    this.#claim(name);
    await this.#write(header(name, bytes.length, this.#mtime));
    await this.#write(bytes);
    await this.#pad(bytes.length);
    return {
      path: name,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
  }

  /** Ends the archive and waits until every byte is in the file, flushed to disk. */
  async finish(): Promise<void> {
    await this.#write(END);
    this.#gzip.end();
    await this.#done;
    const handle = await open(this.#file.path as string, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Stops writing after a failure (the caller removes the file). */
  async abort(): Promise<void> {
    this.#gzip.destroy();
    await this.#done.catch(() => {});
  }

  #claim(name: string): void {
    if (this.#names.has(name)) throw new Error(`${name} is already in the archive`);
    this.#names.add(name);
  }

  async #write(bytes: Buffer): Promise<void> {
    if (bytes.length === 0) return;
    // once() rejects if the stream fails while it waits (a full disk, say).
    if (!this.#gzip.write(bytes)) await once(this.#gzip, 'drain');
  }

  async #pad(size: number): Promise<void> {
    const rest = size % BLOCK;
    if (rest !== 0) await this.#write(Buffer.alloc(BLOCK - rest));
  }
}

function header(name: string, size: number, mtime: number): Buffer {
  if (!isMemberName(name)) throw new Error(`Not an archive member name: ${name}`);
  const block = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    // ustar splits a long name at a slash: up to 155 bytes of prefix, up to 100 of name.
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || name.length - cut - 1 > 100) throw new Error(`Name too long: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  block.write(base, 0, 100, 'utf8');
  block.write('0000600\0', 100, 'ascii');
  block.write('0000000\0', 108, 'ascii');
  block.write('0000000\0', 116, 'ascii');
  if (size < OCTAL_SIZE_LIMIT) {
    block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  } else {
    // GNU base-256: the high bit of the first byte set, the size big-endian in the rest.
    block[124] = 0x80;
    let rest = BigInt(size);
    for (let i = 135; i > 124; i -= 1) {
      block[i] = Number(rest & 0xffn);
      rest >>= 8n;
    }
  }
  block.write(`${mtime.toString(8).padStart(11, '0')}\0`, 136, 'ascii');
  block.write('        ', 148, 'ascii');
  block.write('0', 156, 'ascii');
  block.write('ustar\u000000', 257, 'ascii');
  block.write('haven', 265, 'ascii');
  block.write('haven', 297, 'ascii');
  block.write(prefix, 345, 155, 'utf8');
  block.write(`${checksum(block).toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

function checksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul === -1 ? length : nul).toString('utf8');
}

function octal(block: Buffer, start: number, length: number, what: string): number {
  if (block[start]! & 0x80) {
    let value = 0n;
    for (let i = start + 1; i < start + length; i += 1) value = (value << 8n) | BigInt(block[i]!);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ArchiveDamagedError(`${what} too large`);
    return Number(value);
  }
  const digits = text(block, start, length).trim();
  if (!/^[0-7]+$/.test(digits)) throw new ArchiveDamagedError(`Unreadable ${what} in a header`);
  return Number.parseInt(digits, 8);
}

/** Exactly-n-bytes reads over a stream of chunks. */
class ChunkReader {
  readonly #chunks: AsyncIterator<Buffer>;
  #pending: Buffer = Buffer.alloc(0);

  constructor(chunks: AsyncIterable<Buffer>) {
    this.#chunks = chunks[Symbol.asyncIterator]();
  }

  /** Up to `n` bytes (fewer only at the end of the stream). */
  async #next(n: number): Promise<Buffer | null> {
    if (this.#pending.length === 0) {
      const { value, done } = await this.#chunks.next();
      if (done) return null;
      this.#pending = value;
    }
    const part = this.#pending.subarray(0, n);
    this.#pending = this.#pending.subarray(part.length);
    return part;
  }

  async read(n: number): Promise<Buffer | null> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const part = await this.#next(n - got);
      if (!part) break;
      parts.push(part);
      got += part.length;
    }
    if (got === 0) return null;
    if (got < n) throw new ArchiveDamagedError('The archive is cut short');
    return Buffer.concat(parts, n);
  }

  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      const part = await this.#next(left);
      if (!part) throw new ArchiveDamagedError('The archive is cut short');
      left -= part.length;
      yield part;
    }
  }
}

/**
 * Unpacks a `.tar.gz` Haven wrote into `directory` (which must be empty), hashing every member as
 * it is written. Anything but a plain file with a plain name is refused, as are duplicate names,
 * a bad header checksum, a member or archive cut short, and gzip's own CRC failing.
 */
export async function extractArchive(file: string, directory: string): Promise<ArchiveMember[]> {
  const gunzip = createGunzip();
  const input = createReadStream(file);
  input.on('error', (error) => gunzip.destroy(error));
  input.pipe(gunzip);
  const reader = new ChunkReader(gunzip);
  const members: ArchiveMember[] = [];
  const seen = new Set<string>();
  try {
    for (;;) {
      const block = await reader.read(BLOCK);
      if (!block) throw new ArchiveDamagedError('The archive ends without its end marker');
      if (block.every((b) => b === 0)) {
        const second = await reader.read(BLOCK);
        if (!second?.every((b) => b === 0))
          throw new ArchiveDamagedError('The archive ends without its end marker');
        // Nothing but padding may follow the end marker.
        for (;;) {
          const rest = await reader.read(BLOCK);
          if (!rest) break;
          if (!rest.every((b) => b === 0))
            throw new ArchiveDamagedError('Data follows the end of the archive');
        }
        return members;
      }
      if (octal(block, 148, 8, 'checksum') !== checksum(block))
        throw new ArchiveDamagedError('A header fails its checksum: the archive is damaged');
      const type = String.fromCharCode(block[156]!);
      const prefix = text(block, 345, 155);
      const name = prefix ? `${prefix}/${text(block, 0, 100)}` : text(block, 0, 100);
      if (type !== '0' && type !== '\0')
        throw new ArchiveDamagedError(`Member ${name} is not a plain file (type ${type})`);
      if (!isMemberName(name)) throw new ArchiveDamagedError(`Refused member name ${name}`);
      if (seen.has(name)) throw new ArchiveDamagedError(`Member ${name} appears twice`);
      seen.add(name);
      const size = octal(block, 124, 12, 'size');
      const target = path.join(directory, ...name.split('/'));
      await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      const out = createWriteStream(target, { flags: 'wx', mode: 0o600 });
      const hash = createHash('sha256');
      try {
        for await (const chunk of reader.chunks(size)) {
          hash.update(chunk);
          if (!out.write(chunk)) await once(out, 'drain');
        }
      } finally {
        out.end();
        await finished(out);
      }
      const rest = size % BLOCK;
      if (rest !== 0) await reader.read(BLOCK - rest);
      members.push({ path: name, size, sha256: hash.digest('hex') });
    }
  } catch (error) {
    if (error instanceof ArchiveDamagedError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code?.startsWith('Z_') || code === 'ERR_STREAM_PREMATURE_CLOSE')
      throw new ArchiveDamagedError(
        `The archive is damaged or cut short (gzip: ${(error as Error).message})`,
        { cause: error },
      );
    throw error;
  } finally {
    input.destroy();
    gunzip.destroy();
  }
}
