/**
 * Reads the first real entry of a tar stream (what `docker cp CONTAINER:PATH -` writes): its header for
 * file tests and, when complete, its content. PAX ('x', 'g') and GNU long-name ('L', 'K') records are
 * skipped, their long names applied. Pure: bytes in, entry out.
 */
import type { FileStat, FileType } from './evaluate.js';

const BLOCK = 512;

export interface TarEntry extends FileStat {
  name: string;
  size: number;
  /** The entry's bytes when the buffer held all of them. */
  content?: Buffer;
}

function field(buf: Buffer, offset: number, length: number): string {
  const raw = buf.subarray(offset, offset + length);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? raw.length : nul).toString('utf8');
}

function octal(buf: Buffer, offset: number, length: number): number {
  const text = field(buf, offset, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

const TYPES: Record<string, FileType> = {
  '0': 'file',
  '': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

/** undefined: the buffer does not yet hold a complete header (read more bytes). */
export function readFirstTarEntry(buf: Buffer): TarEntry | undefined {
  let offset = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  while (offset + BLOCK <= buf.length) {
    const header = buf.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) throw new Error('empty tar stream');
    const typeflag = field(header, 156, 1);
    const size = octal(header, 124, 12);
    const dataStart = offset + BLOCK;
    const dataEnd = dataStart + size;
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (dataEnd > buf.length) return undefined;
      const data = buf.subarray(dataStart, dataEnd).toString('utf8');
      if (typeflag === 'L') longName = data.replace(/\0+$/, '');
      else if (typeflag === 'K') longLink = data.replace(/\0+$/, '');
      else if (typeflag === 'x') {
        for (const m of data.matchAll(/\d+ (path|linkpath)=([^\n]*)\n/g)) {
          if (m[1] === 'path') longName = m[2];
          else longLink = m[2];
        }
      }
      offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
      continue;
    }
    const prefix = field(header, 345, 155);
    const baseName = field(header, 0, 100);
    const entry: TarEntry = {
      name: longName ?? (prefix ? `${prefix}/${baseName}` : baseName),
      type: TYPES[typeflag] ?? 'other',
      mode: octal(header, 100, 8) & 0o7777,
      uid: octal(header, 108, 8),
      gid: octal(header, 116, 8),
      size,
    };
    const link = longLink ?? field(header, 157, 100);
    if (link) entry.linkTarget = link;
    if (dataEnd <= buf.length) entry.content = Buffer.from(buf.subarray(dataStart, dataEnd));
    return entry;
  }
  return undefined;
}
