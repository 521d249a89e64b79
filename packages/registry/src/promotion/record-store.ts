/**
 * Gate and deploy results per image digest, the evidence promotion asks for. A JSON document
 * replaced by atomic rename (write a temporary file, then rename over the old one), so a reader never
 * sees half a file and a crash never loses the previous records. A lock file serializes writers.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { ConfigError, StepFailedError } from '@its/core';
import { ENVIRONMENTS } from './environments.js';

export const gateRecordSchema = z.object({
  digest: z.string().regex(/^sha256:[a-f0-9]{64}$/, 'should be sha256: and 64 lowercase hex digits'),
  environment: z.enum(ENVIRONMENTS),
  /** gate: a quality gate ran against the image there; deploy: it was deployed (and healthy, if pass);
   * promotion: it was copied into that environment (evidence of nothing, history only). */
  kind: z.enum(['gate', 'deploy', 'promotion']),
  /** Which gate or deployment, e.g. `e2e`, `smoke`, `rolling`. */
  name: z.string().min(1),
  result: z.enum(['pass', 'fail']),
  /** ISO-8601 time the result was recorded. */
  at: z.string().min(1),
  detail: z.string().optional(),
});
export type GateRecord = z.infer<typeof gateRecordSchema>;

const fileSchema = z.object({ version: z.literal(1), records: z.array(gateRecordSchema) });

export interface RecordStore {
  readonly path: string;
  list(filter?: { digest?: string; environment?: string }): Promise<GateRecord[]>;
  append(record: GateRecord): Promise<void>;
}

/** `$ITS_STATE_DIR/delivery/records.json`, ITS_STATE_DIR defaulting to `.state` in the working directory. */
export function defaultRecordStorePath(env: Record<string, string | undefined>, cwd: string): string {
  return join(env.ITS_STATE_DIR ?? join(cwd, '.state'), 'delivery', 'records.json');
}

export function openRecordStore(path: string): RecordStore {
  async function load(): Promise<GateRecord[]> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ConfigError(`${path}: not valid JSON`, {
        fix: 'restore it from a backup or remove it (records are lost)',
      });
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ConfigError(`${path}: ${issue.path.join('.')}: ${issue.message}`, {
        fix: 'repair the record file',
      });
    }
    return parsed.data.records;
  }

  return {
    path,
    async list(filter = {}) {
      return (await load()).filter(
        (r) =>
          (filter.digest === undefined || r.digest === filter.digest) &&
          (filter.environment === undefined || r.environment === filter.environment),
      );
    },
    async append(record) {
      const valid = gateRecordSchema.parse(record);
      await mkdir(dirname(path), { recursive: true });
      await withLock(`${path}.lock`, async () => {
        const records = await load();
        records.push(valid);
        const tmp = `${path}.${randomUUID()}.tmp`;
        await writeFile(tmp, `${JSON.stringify({ version: 1, records }, null, 2)}\n`, { mode: 0o644 });
        await rename(tmp, path);
      });
    },
  };
}

const LOCK_STALE_MS = 30_000;

async function withLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A writer that crashed leaves its lock behind; after LOCK_STALE_MS it is not holding it.
      const age = Date.now() - (await stat(lockPath).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > LOCK_STALE_MS) await rm(lockPath, { force: true });
      else if (Date.now() > deadline) {
        throw new StepFailedError(`record store is locked by another writer (${lockPath})`, {
          fix: `wait for the other itsctl to finish, or remove ${lockPath} if none runs`,
        });
      } else await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}
