/**
 * A streaming reader for the tar archives image layers are made of (ustar, GNU long names, pax
 * headers). It buffers only the entries the caller wants, so a large layer costs one chunk of memory
 * plus those files. Gzip layers are inflated on the way in.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export interface TarEntry {
  path: string;
  /** '0' file, '5' directory, '2' symlink, … (POSIX typeflag). */
  type: string;
  size: number;
  /** Present when `want(path)` said so and the entry is a regular file. */
  data?: Buffer;
}

const BLOCK = 512;

/** Inflates when the stream starts with gzip's magic bytes; passes a plain tar through. */
export async function* maybeGunzip(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const iterator = chunks[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const head = first.value;
  const rest = (async function* () {
    yield head;
    for (;;) {
      const n = await iterator.next();
      if (n.done) return;
      yield n.value;
    }
  })();
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    yield* Readable.from(rest).pipe(createGunzip()) as AsyncIterable<Uint8Array>;
  } else {
    yield* rest;
  }
}

function readString(block: Buffer, offset: number, length: number): string {
  const slice = block.subarray(offset, offset + length);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul < 0 ? length : nul).toString('utf8');
}

function readOctal(block: Buffer, offset: number, length: number): number {
  // GNU base-256 for sizes over 8 GiB: high bit of the first byte set.
  if ((block[offset]! & 0x80) !== 0) {
    let value = 0;
    for (let i = offset + 1; i < offset + length; i++) value = value * 256 + block[i]!;
    return value;
  }
  const text = readString(block, offset, length).trim();
  return text ? parseInt(text, 8) : 0;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space < 0) break;
    const len = parseInt(data.subarray(i, space).toString('utf8'), 10);
    if (!len) break;
    const record = data.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

/** Yields every entry of a tar stream; `want` decides which regular files' contents to keep. */
export async function* readTarEntries(
  chunks: AsyncIterable<Uint8Array>,
  want: (path: string) => boolean,
): AsyncGenerator<TarEntry> {
  let buffer = Buffer.alloc(0);
  const source = chunks[Symbol.asyncIterator]();
  let ended = false;
  async function fill(n: number): Promise<boolean> {
    while (buffer.length < n && !ended) {
      const next = await source.next();
      if (next.done) ended = true;
      else buffer = buffer.length ? Buffer.concat([buffer, next.value]) : Buffer.from(next.value);
    }
    return buffer.length >= n;
  }
  /** Consumes `n` bytes, keeping them only when asked (skipping a big layer file costs no memory). */
  async function take(n: number, keep: boolean): Promise<Buffer | undefined> {
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      if (!(await fill(1))) throw new Error('tar stream ended inside an entry');
      const piece = buffer.subarray(0, Math.min(left, buffer.length));
      if (keep) parts.push(Buffer.from(piece));
      buffer = buffer.subarray(piece.length);
      left -= piece.length;
    }
    return keep ? Buffer.concat(parts) : undefined;
  }

  let longName: string | undefined;
  let pax: Record<string, string> = {};
  for (;;) {
    if (!(await fill(BLOCK))) return;
    const header = buffer.subarray(0, BLOCK);
    if (header.every((b) => b === 0)) return;
    buffer = buffer.subarray(BLOCK);
    const type = String.fromCharCode(header[156] || 0x30);
    const size = type !== 'x' && type !== 'g' && pax.size ? Number(pax.size) : readOctal(header, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L' || type === 'x' || type === 'g') {
      const data = (await take(padded, true))!.subarray(0, size);
      if (type === 'L') longName = readString(data, 0, data.length);
      else if (type === 'x') pax = parsePax(data);
      continue;
    }
    const magic = readString(header, 257, 6);
    const prefix = magic.startsWith('ustar') ? readString(header, 345, 155) : '';
    const name = readString(header, 0, 100);
    let path = pax.path ?? longName ?? (prefix ? `${prefix}/${name}` : name);
    path = path.replace(/^\.\//, '').replace(/^\/+/, '');
    const realSize = size;
    longName = undefined;
    pax = {};
    const isFile = type === '0' || type === '\0' || type === '7';
    const keep = isFile && want(path);
    const data = await take(padded, keep);
    const entry: TarEntry = { path, type, size: realSize };
    if (keep && data) entry.data = data.subarray(0, realSize);
    yield entry;
  }
}
