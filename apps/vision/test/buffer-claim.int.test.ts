/**
 * Replicas sharing one BUFFER_DIR (compose `--scale vision=2` on one volume): each worker buffers in a
 * directory of its own, and what a dead or stopped worker left is adopted exactly once — by a real
 * second process killed with SIGKILL, by two adopters racing, from the layout before per-worker
 * directories — and never from a worker that is alive.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimBufferDir, isOrphaned, OWNER_FILE, type BufferOwner } from '../src/buffer-claim.js';
import { openDiskBuffer, type DiskBuffer } from '../src/disk-buffer.js';
import { makeTempDir } from './fixtures.js';

let root: string;
beforeEach(() => {
  root = makeTempDir('its-buffer-claim-');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function bodies(buffer: DiskBuffer): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let b = await buffer.oldest(); b; b = await buffer.oldest()) {
    out.push(b.body);
    await buffer.remove(b.seq);
  }
  return out;
}

async function worker(name: string, opts: { host?: string; pid?: number; staleMs?: number } = {}) {
  const claim = await claimBufferDir({ root, name, ...opts });
  const buffer = await openDiskBuffer({ dir: claim.dir, maxBytes: 1e6 });
  return { claim, buffer };
}

describe('isOrphaned (pure)', () => {
  const self = { host: 'h1', pid: 7, startedAt: '2026-01-02T00:00:00.000Z' };
  const owner = (o: Partial<BufferOwner>): BufferOwner => ({
    host: 'h2',
    pid: 9,
    name: 'w',
    startedAt: '2026-01-01T00:00:00.000Z',
    ...o,
  });
  const alive = () => true;
  const dead = () => false;
  it.each([
    ['another host, seen recently', owner({}), 1000, alive, false],
    ['another host, not seen for longer than staleMs', owner({}), 60_001, alive, true],
    ['released at shutdown', owner({ released: true }), 0, alive, true],
    ['this host, its pid dead', owner({ host: 'h1' }), 0, dead, true],
    [
      'this host, our pid, another start (a restarted container)',
      owner({ host: 'h1', pid: 7 }),
      0,
      alive,
      true,
    ],
    [
      'this host, our pid and start: ourselves',
      owner({ host: 'h1', pid: 7, startedAt: self.startedAt }),
      0,
      alive,
      false,
    ],
    ['this host, alive', owner({ host: 'h1' }), 1000, alive, false],
    ['no owner file yet, fresh directory', null, 1000, alive, false],
    ['no owner file, stale directory', null, 60_001, alive, true],
  ] as const)('%s → %s', (_name, o, ageMs, isAlive, expected) => {
    expect(isOrphaned(o, 0, self, ageMs, 60_000, isAlive)).toBe(expected);
  });
});

describe('buffer directories shared by several workers', () => {
  it('two live workers on one root write apart and never adopt each other', async () => {
    const a = await worker('vision-a');
    const b = await worker('vision-b');
    expect(a.claim.dir).not.toBe(b.claim.dir);
    for (let i = 0; i < 3; i++) {
      await a.buffer.append('events', { from: 'a', i });
      await b.buffer.append('events', { from: 'b', i });
    }
    expect(await a.claim.adoptOrphans(a.buffer)).toBe(0);
    expect(await b.claim.adoptOrphans(b.buffer)).toBe(0);
    expect(await bodies(a.buffer)).toEqual([0, 1, 2].map((i) => ({ from: 'a', i })));
    expect(await bodies(b.buffer)).toEqual([0, 1, 2].map((i) => ({ from: 'b', i })));
  });

  it('a worker killed with SIGKILL leaves its batches; the next one adopts them in order and removes its directory', async () => {
    const script = fileURLToPath(new URL('../src/buffer-claim.ts', import.meta.url));
    const disk = fileURLToPath(new URL('../src/disk-buffer.ts', import.meta.url));
    const code = `
      const { claimBufferDir } = await import(${JSON.stringify(script)});
      const { openDiskBuffer } = await import(${JSON.stringify(disk)});
      const claim = await claimBufferDir({ root: ${JSON.stringify(root)}, name: 'doomed' });
      const buffer = await openDiskBuffer({ dir: claim.dir, maxBytes: 1e6 });
      for (let i = 0; i < 3; i++) await buffer.append('aggregates', { from: 'doomed', i });
      process.stdout.write(claim.dir + '\\n');
      setInterval(() => undefined, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const dir = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => resolve(d.toString().trim()));
      child.once('exit', (c) => reject(new Error(`child exited with ${c}`)));
    });
    const exited = new Promise((r) => child.once('exit', r));
    // Alive: not adopted.
    const early = await worker('vision-early');
    expect(await early.claim.adoptOrphans(early.buffer)).toBe(0);
    child.kill('SIGKILL');
    await exited;
    // Dead (same host, its pid gone): adopted at once, each batch once, the directory removed.
    const next = await worker('vision-next');
    expect(await next.claim.adoptOrphans(next.buffer)).toBe(3);
    expect(existsSync(dir)).toBe(false);
    expect(await early.claim.adoptOrphans(early.buffer)).toBe(0);
    expect(await bodies(next.buffer)).toEqual([0, 1, 2].map((i) => ({ from: 'doomed', i })));
  });

  it('a worker on another host is adopted only once it has not been seen for staleMs; a touch keeps it', async () => {
    const far = await worker('far', { host: 'other-host', pid: 1 });
    await far.buffer.append('events', { from: 'far' });
    const near = await worker('near', { staleMs: 30_000 });
    expect(await near.claim.adoptOrphans(near.buffer)).toBe(0);
    const ownerFile = join(far.claim.dir, OWNER_FILE);
    const old = new Date(Date.now() - 31_000);
    utimesSync(ownerFile, old, old);
    await far.claim.touch(); // still running: seen again
    expect(await near.claim.adoptOrphans(near.buffer)).toBe(0);
    utimesSync(ownerFile, old, old); // then silent for longer than staleMs
    expect(await near.claim.adoptOrphans(near.buffer)).toBe(1);
    expect(await bodies(near.buffer)).toEqual([{ from: 'far' }]);
  });

  it('release: an empty directory is removed; one with batches left is adopted at once, whatever the host', async () => {
    const empty = await worker('empty', { host: 'other-host' });
    await empty.claim.release(empty.buffer);
    expect(existsSync(empty.claim.dir)).toBe(false);
    const left = await worker('left', { host: 'other-host' });
    await left.buffer.append('aggregates', { from: 'left' });
    await left.claim.release(left.buffer);
    const next = await worker('next');
    expect(await next.claim.adoptOrphans(next.buffer)).toBe(1);
    expect(readdirSync(root)).toEqual([next.claim.dir.slice(root.length + 1)]);
  });

  it('two workers adopting the same orphan at once take each batch exactly once', async () => {
    const dead = await worker('dead', { host: 'other-host' });
    for (let i = 0; i < 40; i++) await dead.buffer.append('events', { i });
    await dead.claim.release(dead.buffer);
    const a = await worker('a');
    const b = await worker('b');
    const [na, nb] = await Promise.all([a.claim.adoptOrphans(a.buffer), b.claim.adoptOrphans(b.buffer)]);
    expect(na + nb).toBe(40);
    const all = [...(await bodies(a.buffer)), ...(await bodies(b.buffer))] as Array<{ i: number }>;
    expect(all.map((x) => x.i).sort((x, y) => x - y)).toEqual([...Array(40).keys()]);
    expect(a.buffer.dropped + b.buffer.dropped).toBe(0);
  });

  it('adopts batches left at the root by a worker from before per-worker directories', async () => {
    writeFileSync(join(root, '000000000001.events.json'), JSON.stringify({ legacy: 1 }));
    writeFileSync(join(root, '000000000002.aggregates.json'), JSON.stringify({ legacy: 2 }));
    const w = await worker('w');
    expect(await w.claim.adoptOrphans(w.buffer)).toBe(2);
    expect(await bodies(w.buffer)).toEqual([{ legacy: 1 }, { legacy: 2 }]);
  });

  it('a batch adopted away from a live worker is skipped by it, not counted as dropped', async () => {
    const w = await worker('w');
    await w.buffer.append('events', { n: 1 });
    await w.buffer.append('events', { n: 2 });
    mkdirSync(join(root, 'elsewhere'));
    // What an adopter that misjudged w as dead would do: move the file out.
    const first = readdirSync(w.claim.dir).find((f) => f.startsWith('000000000001'))!;
    const { renameSync } = await import('node:fs');
    renameSync(join(w.claim.dir, first), join(root, 'elsewhere', first));
    expect(await bodies(w.buffer)).toEqual([{ n: 2 }]);
    expect(w.buffer.dropped).toBe(0);
  });
});
