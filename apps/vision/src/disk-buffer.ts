/**
 * The worker's outbox on disk: one JSON file per batch, named by a sequence number so delivery order
 * survives a restart. Bounded in bytes: when full, the oldest batches are deleted and counted — under
 * a long API outage fresh data matters more than the oldest.
 */
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type BatchKind = 'events' | 'aggregates';

export interface BufferedBatch<T = unknown> {
  seq: number;
  kind: BatchKind;
  body: T;
}

export interface DiskBufferOptions {
  dir: string;
  maxBytes: number;
}

export interface DiskBuffer {
  append(kind: BatchKind, body: unknown): Promise<void>;
  /** The oldest batch still waiting, or null. */
  oldest(): Promise<BufferedBatch | null>;
  remove(seq: number): Promise<void>;
  /**
   * Moves another directory's batches (a stopped or dead worker's) into this buffer, oldest first, each
   * with a rename: a batch that another worker moved first is skipped, so each is adopted exactly once.
   * Resolves with the number adopted.
   */
  adopt(fromDir: string): Promise<number>;
  readonly depth: number;
  readonly bytes: number;
  /** Batches deleted unsent because the buffer was full. */
  readonly dropped: number;
}

interface Entry {
  seq: number;
  kind: BatchKind;
  file: string;
  bytes: number;
}

const FILE_RE = /^(\d{12})\.(events|aggregates)\.json$/;

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

export async function openDiskBuffer(options: DiskBufferOptions): Promise<DiskBuffer> {
  await mkdir(options.dir, { recursive: true });
  const entries: Entry[] = [];
  for (const name of (await readdir(options.dir)).sort()) {
    const m = FILE_RE.exec(name);
    const path = join(options.dir, name);
    // A .tmp file is a write interrupted by a crash; its batch was never acknowledged as buffered.
    if (name.endsWith('.tmp')) await unlink(path).catch(() => undefined);
    if (!m) continue;
    entries.push({ seq: Number(m[1]), kind: m[2] as BatchKind, file: path, bytes: (await stat(path)).size });
  }
  let nextSeq = entries.length ? entries[entries.length - 1]!.seq + 1 : 1;
  let bytes = entries.reduce((s, e) => s + e.bytes, 0);
  let dropped = 0;

  const removeEntry = async (index: number) => {
    const [e] = entries.splice(index, 1);
    if (!e) return;
    bytes -= e.bytes;
    await unlink(e.file).catch(() => undefined);
  };

  // Keep the newest batch even if it alone exceeds the bound: dropping what was just produced would lose the freshest data.
  const enforceBound = async () => {
    while (bytes > options.maxBytes && entries.length > 1) {
      await removeEntry(0);
      dropped++;
    }
  };

  const buffer: DiskBuffer = {
    async append(kind, body) {
      const seq = nextSeq++;
      const data = JSON.stringify(body);
      const size = Buffer.byteLength(data);
      const file = join(options.dir, `${String(seq).padStart(12, '0')}.${kind}.json`);
      await writeFile(`${file}.tmp`, data);
      await rename(`${file}.tmp`, file);
      entries.push({ seq, kind, file, bytes: size });
      bytes += size;
      await enforceBound();
    },
    async adopt(fromDir) {
      const names = (await readdir(fromDir).catch(() => [] as string[]))
        .filter((n) => FILE_RE.test(n))
        .sort();
      let adopted = 0;
      for (const name of names) {
        const kind = FILE_RE.exec(name)![2] as BatchKind;
        const seq = nextSeq++;
        const file = join(options.dir, `${String(seq).padStart(12, '0')}.${kind}.json`);
        try {
          await rename(join(fromDir, name), file);
        } catch (err) {
          if (isMissing(err)) continue; // another worker adopted it first
          throw err;
        }
        const size = (await stat(file)).size;
        entries.push({ seq, kind, file, bytes: size });
        bytes += size;
        adopted++;
      }
      await enforceBound();
      return adopted;
    },
    async oldest() {
      const e = entries[0];
      if (!e) return null;
      try {
        return { seq: e.seq, kind: e.kind, body: JSON.parse(await readFile(e.file, 'utf8')) as unknown };
      } catch (err) {
        // Gone: a worker that took this one for dead adopted it and delivers it; nothing is lost.
        // Unreadable (truncated by a crash or a full disk): it can never be delivered, so skip it.
        await removeEntry(0);
        if (!isMissing(err)) dropped++;
        return buffer.oldest();
      }
    },
    async remove(seq) {
      const i = entries.findIndex((e) => e.seq === seq);
      if (i >= 0) await removeEntry(i);
    },
    get depth() {
      return entries.length;
    },
    get bytes() {
      return bytes;
    },
    get dropped() {
      return dropped;
    },
  };
  return buffer;
}
