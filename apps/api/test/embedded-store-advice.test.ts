import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createRuntime } from '../src/runtime.js';
import { createStore } from '../src/store/create-store.js';
import { newCamera } from './fixtures.js';

let dir: string;
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Adds `cameras` cameras to the embedded store in `dir`. */
async function addCameras(cameras: number): Promise<void> {
  const store = await createStore({ dataDir: dir });
  await store.migrate();
  for (let i = 0; i < cameras; i++)
    await store.repo.createCamera(randomUUID(), newCamera({ name: `cam ${i}` }), new Date());
  await store.close();
}

/** Starts and stops the runtime on the embedded store in `dir`; the warnings it logged. */
async function startUp(): Promise<Array<{ msg: string; cameras?: number }>> {
  const lines: Array<{ level: number; msg: string; cameras?: number }> = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    }),
  );
  const runtime = await createRuntime(loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'warn' }), { logger });
  await runtime.close();
  return lines.filter((l) => l.level === 40);
}

describe('start-up advice for the embedded store', () => {
  it('without DATABASE_URL, 20 cameras start quietly; a 21st logs a warning that says PostgreSQL is needed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'its-api-fleet-'));
    await addCameras(20);
    expect(await startUp()).toEqual([]);
    await addCameras(1);
    expect(await startUp()).toContainEqual(
      expect.objectContaining({
        cameras: 21,
        msg: expect.stringMatching(
          /^DATABASE_URL is unset: the embedded store \(PGlite\) runs every query on the API's event loop, and with 21 cameras \(more than 20\).*set DATABASE_URL to a PostgreSQL server/,
        ),
      }),
    );
  }, 120_000);
});
