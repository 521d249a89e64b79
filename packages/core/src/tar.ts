/**
 * The one tar reader of the delivery system, on tar-stream: the layers of an image in a registry (SBOM
 * inventory) and the first entry of `docker cp CONTAINER:PATH -` (structure tests). It is its own entry,
 * '@its/core/tar', so that '@its/core' itself stays free of dependencies.
 *
 * Gzip is inflated on the way in (recognised by its magic bytes, as registries label layers loosely);
 * zstd is refused with a StepFailedError, because reading such a layer as tar would find no entries and
 * an empty inventory would pass for a true one.
 */
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract, type Extract, type Header } from 'tar-stream';
import { isKnownError, StepFailedError } from './errors.js';

/** tar-stream's names for the POSIX typeflags; 'other' for flags it does not know (GNU sparse, volume). */
export type TarEntryType =
  | 'file'
  | 'contiguous-file'
  | 'link'
  | 'symlink'
  | 'directory'
  | 'character-device'
  | 'block-device'
  | 'fifo'
  | 'other';

export interface TarHeader {
  /** As stored, GNU long names and PAX paths applied; not normalised ('./etc/x' and 'dir/' stay so). */
  name: string;
  type: TarEntryType;
  /** Permission and special bits (mode & 0o7777); the file type is `type`. */
  mode: number;
  /** Content bytes (a PAX size applied); 0 for links and directories. */
  size: number;
  /** What a symlink points at, or the entry a hard link names; absent for other entries. */
  linkname?: string;
  uid: number;
  gid: number;
  mtime: Date;
}

export interface TarEntry extends TarHeader {
  /** The content of a regular file, when asked for (`want`, `maxContentBytes`) and complete. */
  data?: Buffer;
}

/** Bytes of an archive: a whole buffer, or chunks as they arrive (a registry blob, a child's stdout). */
export type TarSource = Uint8Array | AsyncIterable<Uint8Array>;

export interface TarSourceOptions {
  /** Names the archive in error messages, e.g. 'layer sha256:ab… of app@sha256:cd…'. Default 'tar stream'. */
  label?: string;
  /**
   * The layer's media type when known. A zstd one is refused before a byte is read; gzip versus plain
   * tar is told from the bytes, not from here, because Docker and OCI name the same layers differently.
   */
  mediaType?: string;
}

export interface ReadTarEntriesOptions extends TarSourceOptions {
  /**
   * Which regular files' contents to keep, asked once per regular file. Default: none, so a layer of
   * any size costs one chunk of memory plus the files kept.
   */
  want?: (header: TarHeader) => boolean;
}

export interface ReadFirstTarEntryOptions extends TarSourceOptions {
  /**
   * Read the content of a regular file of at most this many bytes; a larger one comes back as its
   * header only, without reading it; 0 reads headers only (bar empty files). Default: no limit.
   */
  maxContentBytes?: number;
}

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
const ZSTD_FIX =
  'push the image with gzip layers, e.g. docker buildx build --output type=image,compression=gzip,force-compression=true,push=true';

/**
 * Yields every entry of a tar archive in order, with the contents `want` asks for. Stopping early is
 * fine (the source is released). Throws StepFailedError for a zstd layer, a truncated archive ("ended
 * inside an entry"), a corrupt header or corrupt gzip; errors of the source itself (a registry's
 * digest check, a network failure) come through as they are.
 */
export async function* readTarEntries(
  source: TarSource,
  options: ReadTarEntriesOptions = {},
): AsyncGenerator<TarEntry> {
  const want = options.want ?? (() => false);
  const archive = await openArchive(source, options);
  try {
    for (;;) {
      const entry = await archive.next();
      if (!entry) return;
      const header = toHeader(entry.header);
      if (isRegularFile(header) && want(header)) yield { ...header, data: await archive.collect(entry) };
      else {
        entry.resume(); // an unread entry would hold the parser back
        yield header;
      }
    }
  } finally {
    archive.close();
  }
}

/**
 * The first entry of an archive, as `docker cp CONTAINER:PATH -` writes one: its header, and its content
 * when it is a regular file within `maxContentBytes`. It returns as soon as it has those, without reading
 * the rest, so the caller can stop the writer. Lenient where a writer was cut short, as a caller that
 * stops early sees: undefined when the bytes end before the first header is complete (or there are none);
 * the header without `data` when they end inside the content. Throws StepFailedError for an archive
 * with no entries ("empty tar"), a zstd stream, a corrupt header.
 */
export async function readFirstTarEntry(
  source: TarSource,
  options: ReadFirstTarEntryOptions = {},
): Promise<TarEntry | undefined> {
  const max = options.maxContentBytes ?? Infinity;
  const archive = await openArchive(source, options);
  try {
    let entry: TarEntryStream | undefined;
    try {
      entry = await archive.next();
    } catch (err) {
      if (archive.isTruncation(err)) return undefined;
      throw err;
    }
    if (!entry) {
      if (archive.empty) return undefined;
      throw new StepFailedError(`${archive.label}: empty tar archive, it holds no entries`);
    }
    const header = toHeader(entry.header);
    if (!isRegularFile(header) || header.size > max) return header;
    try {
      return { ...header, data: await archive.collect(entry) };
    } catch (err) {
      if (archive.isTruncation(err)) return header;
      throw err;
    }
  } finally {
    archive.close();
  }
}

/** extract()'s options: tar-stream's bundled types leave out the ones it documents for parsing. */
type ExtractOptions = NonNullable<Parameters<typeof extract>[0]> & {
  allowUnknownFormat?: boolean;
  filenameEncoding?: BufferEncoding;
};

type TarEntryStream = AsyncIterable<unknown> & { header: Header; resume(): unknown };

interface Archive {
  label: string;
  /** The source held no bytes at all (not even an end-of-archive marker). */
  empty: boolean;
  /** The next entry, undefined at the end; errors come out as described below. */
  next(): Promise<TarEntryStream | undefined>;
  collect(entry: TarEntryStream): Promise<Buffer>;
  /** Whether an error from next/collect means the bytes ended early. */
  isTruncation(err: unknown): boolean;
  /** Stops parsing; the source is released at its next chunk or end. */
  close(): void;
}

async function openArchive(source: TarSource, options: TarSourceOptions): Promise<Archive> {
  const label = options.label ?? 'tar stream';
  const { bytes, empty } = await openTarBytes(source, label, options.mediaType);
  // allowUnknownFormat: pre-POSIX (v7) headers, which our readers before tar-stream accepted too;
  // the header checksum still rejects bytes that are not tar at all.
  const parserOptions: ExtractOptions = { allowUnknownFormat: true };
  const parser = extract(parserOptions);
  // Taken before feeding starts so that the parser's errors always have a listener.
  const entries = parser[Symbol.asyncIterator]();
  const failure = feed(bytes, parser);
  const truncations = new WeakSet<object>();

  const describe = (err: unknown): unknown => {
    if (failure.error !== undefined && err === failure.error) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('Z_'))
        return new StepFailedError(`${label}: the gzip data is corrupt or cut short (${code})`, {
          cause: err,
        });
      return err; // the source's own failure (network, digest check) says best what went wrong
    }
    if (isKnownError(err) || !(err instanceof Error)) return err;
    if (err.message === 'Unexpected end of data') {
      const described = new StepFailedError(`${label} ended inside an entry: the archive is truncated`, {
        cause: err,
      });
      truncations.add(described);
      return described;
    }
    // tar-stream's hint to gunzip does not apply: gzip was already inflated above.
    const reason = err.message.replace(/\s*Maybe .*$/, '');
    return new StepFailedError(`${label} is not a readable tar archive: ${reason}`, { cause: err });
  };

  return {
    label,
    empty,
    async next() {
      try {
        const n = await entries.next();
        return n.done ? undefined : (n.value as TarEntryStream);
      } catch (err) {
        throw describe(err);
      }
    },
    async collect(entry) {
      const parts: Buffer[] = [];
      try {
        for await (const chunk of entry) parts.push(chunk as Buffer);
      } catch (err) {
        throw describe(err);
      }
      return Buffer.concat(parts);
    },
    isTruncation: (err) => typeof err === 'object' && err !== null && truncations.has(err),
    close: () => parser.destroy(),
  };
}

/** The tar bytes of a source: gzip inflated, zstd refused (by media type, then by magic bytes). */
async function openTarBytes(
  source: TarSource,
  label: string,
  mediaType: string | undefined,
): Promise<{ bytes: AsyncIterable<Uint8Array>; empty: boolean }> {
  if (mediaType !== undefined && /zstd/i.test(mediaType)) throw zstdError(label, `media type ${mediaType}`);
  const chunks: AsyncIterable<Uint8Array> =
    source instanceof Uint8Array
      ? (async function* () {
          yield source;
        })()
      : source;
  const iterator = chunks[Symbol.asyncIterator]();
  const { head, done } = await peek(iterator, ZSTD_MAGIC.length);
  if (startsWith(head, ZSTD_MAGIC)) {
    if (!done) await iterator.return?.();
    throw zstdError(label, `zstd magic bytes${mediaType ? `, media type ${mediaType}` : ''}`);
  }
  const all = prepend(head, iterator, done);
  if (!startsWith(head, GZIP_MAGIC)) return { bytes: all, empty: head.length === 0 };
  // Errors of either side end up on the gunzip stream, and so in the loop that reads it.
  return { bytes: pipeline(Readable.from(all), createGunzip(), () => undefined), empty: false };
}

function zstdError(label: string, evidence: string): StepFailedError {
  return new StepFailedError(`${label} is zstd-compressed (${evidence}); zstd layers are not supported yet`, {
    fix: ZSTD_FIX,
  });
}

/** Reads chunks until `n` bytes are in (fewer when the source ends first). */
async function peek(
  iterator: AsyncIterator<Uint8Array>,
  n: number,
): Promise<{ head: Buffer; done: boolean }> {
  const parts: Buffer[] = [];
  let length = 0;
  while (length < n) {
    const next = await iterator.next();
    if (next.done) return { head: Buffer.concat(parts), done: true };
    parts.push(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength));
    length += next.value.byteLength;
  }
  return { head: Buffer.concat(parts), done: false };
}

async function* prepend(
  head: Buffer,
  rest: AsyncIterator<Uint8Array>,
  restDone: boolean,
): AsyncGenerator<Uint8Array> {
  let finished = restDone;
  try {
    if (head.length) yield head;
    while (!finished) {
      const next = await rest.next();
      if (next.done) finished = true;
      else yield next.value;
    }
  } finally {
    // Stopped early: let the source release what it holds (an HTTP body, a pipe).
    if (!finished) await rest.return?.();
  }
}

/**
 * Writes the bytes into the parser with backpressure. A failure of the source destroys the parser with
 * that error (so its reader sees it) and is remembered, to tell it apart from the parser's own errors.
 */
function feed(bytes: AsyncIterable<Uint8Array>, parser: Extract): { error: unknown } {
  const failure: { error: unknown } = { error: undefined };
  void (async () => {
    try {
      for await (const chunk of bytes) {
        if (parser.destroying || parser.destroyed) return; // closed by the reader: stop pulling
        if (!parser.write(chunk)) await drained(parser);
      }
      if (!parser.destroying && !parser.destroyed) parser.end(undefined);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      failure.error = error;
      parser.destroy(error);
    }
  })();
  return failure;
}

function drained(parser: Extract): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      parser.off('drain', done);
      parser.off('close', done);
      resolve();
    };
    parser.on('drain', done);
    parser.on('close', done);
  });
}

function toHeader(h: Header): TarHeader {
  const header: TarHeader = {
    name: h.name,
    // tar-stream types the field as always known; at run time it is null for a flag it cannot name.
    type: (h.type as TarEntryType | null) ?? 'other',
    mode: h.mode & 0o7777,
    size: h.size,
    uid: h.uid,
    gid: h.gid,
    mtime: h.mtime,
  };
  if (h.linkname) header.linkname = h.linkname;
  return header;
}

function isRegularFile(header: TarHeader): boolean {
  return header.type === 'file' || header.type === 'contiguous-file';
}

function startsWith(bytes: Buffer, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}
