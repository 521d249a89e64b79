/**
 * The driver's file reads against a stand-in docker CLI (a shell script that answers `docker cp
 * CONTAINER:PATH -` with a prepared tar of one large file), with the tar reader wrapped to count how
 * many times the driver calls it and how many bytes it hands it. Reading a file must cost one parse
 * over its bytes, not one parse of everything so far per chunk of output (the old driver: 4/8/16 MiB
 * took 124/500/2567 ms). No clock is read: the bound is on bytes, the unit of the work.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as CoreTar from '@its/core/tar';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDockerDriver } from './docker-driver.js';

const parsed = vi.hoisted(() => ({ calls: 0, bytes: 0 }));

vi.mock('@its/core/tar', async (importOriginal) => {
  const tar = await importOriginal<typeof CoreTar>();
  /** Counts what the parser is given: a whole buffer, or the chunks it pulls from a stream. */
  const counted = (
    source: Uint8Array | AsyncIterable<Uint8Array>,
  ): Uint8Array | AsyncIterable<Uint8Array> => {
    parsed.calls += 1;
    if (source instanceof Uint8Array) {
      parsed.bytes += source.byteLength;
      return source;
    }
    return (async function* () {
      for await (const chunk of source) {
        parsed.bytes += chunk.byteLength;
        yield chunk;
      }
    })();
  };
  return {
    ...tar,
    readFirstTarEntry: (source: Parameters<typeof tar.readFirstTarEntry>[0], options?: object) =>
      tar.readFirstTarEntry(counted(source), options),
  };
});

const MiB = 1024 * 1024;
let dir: string;

/** A ustar archive of one regular file, as `docker cp` writes it. */
function tarOfOneFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, pad, Buffer.alloc(1024)]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'its-driver-'));
  // A stand-in for the docker CLI: `cp` streams the prepared archive named in the environment.
  await writeFile(
    join(dir, 'docker'),
    '#!/bin/sh\n# A stand-in docker CLI written by docker-driver.test.ts.\n[ "$1" = cp ] && exec cat "$STAND_IN_TAR"\nexit 1\n',
  );
  await chmod(join(dir, 'docker'), 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readThrough(sizeMiB: number, read: 'readFile' | 'stat') {
  const content = Buffer.alloc(sizeMiB * MiB, 'x');
  const archive = join(dir, `${sizeMiB}.tar`);
  await writeFile(archive, tarOfOneFile('big.log', content));
  parsed.calls = 0;
  parsed.bytes = 0;
  const driver = createDockerDriver({
    cli: join(dir, 'docker'),
    // Everything but `cp` goes through the runner: `create` gives the container to copy from.
    docker: async (args) => ({
      code: 0,
      stdout: args[0] === 'create' ? 'stand-in-container\n' : '',
      stderr: '',
      timedOut: false,
    }),
    env: { ...process.env, STAND_IN_TAR: archive },
  });
  try {
    const result =
      read === 'readFile' ? await driver.readFile('img', '/big.log') : await driver.stat('img', '/big.log');
    return { result, archiveBytes: content.length + 2048, calls: parsed.calls, bytes: parsed.bytes };
  } finally {
    await driver.close();
  }
}

describe('docker driver: reading files from docker cp', () => {
  it.each([4, 16])('reads a %i MiB file with one parse over its bytes', async (sizeMiB) => {
    const { result, archiveBytes, calls, bytes } = await readThrough(sizeMiB, 'readFile');
    expect((result as string).length).toBe(sizeMiB * MiB);
    expect(calls).toBe(1);
    // Linear: each byte of the archive reaches the parser once (it may stop before the end marker).
    expect(bytes).toBeLessThanOrEqual(archiveBytes);
    expect(bytes).toBeGreaterThanOrEqual(sizeMiB * MiB);
  });

  it('stats a 16 MiB file from its header, without reading the content', async () => {
    const { result, calls, bytes } = await readThrough(16, 'stat');
    expect(result).toMatchObject({ type: 'file', mode: 0o644 });
    expect(calls).toBe(1);
    expect(bytes).toBeLessThan(2 * MiB);
  });
});
