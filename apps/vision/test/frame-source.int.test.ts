import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFrameSource, type Frame, type SourceStatus } from '../src/frame-source.js';
import { captureSnapshot, SnapshotError } from '../src/snapshot.js';
import { closedPort, makeCorruptVideo, makeTempDir, makeTestVideo } from './fixtures.js';

let dir: string;
let clip: string;
beforeAll(() => {
  dir = makeTempDir();
  clip = makeTestVideo(dir, 'clip.mp4', { seconds: 2, fps: 10 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FAST_BACKOFF = { initialMs: 50, maxMs: 200, factor: 2 };

/** Runs a source until `until(status)` holds; collects frames and every status. */
function runSource(
  url: string,
  until: (s: SourceStatus, all: SourceStatus[]) => boolean,
  over: { fps?: number; loop?: boolean } = {},
) {
  const frames: Frame[] = [];
  const statuses: SourceStatus[] = [];
  const frameWaiters: Array<{ n: number; resolve: () => void }> = [];
  const framesAtLeast = (n: number) => new Promise<void>((resolve) => frameWaiters.push({ n, resolve }));
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const source = createFrameSource({
    url,
    width: 64,
    height: 32,
    fps: over.fps ?? 10,
    realtime: false,
    loop: over.loop ?? false,
    backoff: FAST_BACKOFF,
    ioTimeoutMs: 2000,
    now: () => 1_700_000_000_000,
    onFrame: (f) => {
      frames.push(f);
      for (const w of frameWaiters) if (frames.length >= w.n) w.resolve();
    },
    onStatus: (s) => {
      statuses.push(s);
      if (until(s, statuses)) resolveDone();
    },
  });
  source.start();
  return { source, frames, statuses, done, framesAtLeast };
}

describe('frame source (real ffmpeg)', () => {
  it('decodes a file to rgb24 frames at the input size and the target rate, then ends', async () => {
    const run = runSource(`file://${clip}`, (s) => s.state === 'ended');
    await run.done;
    expect(run.frames.length).toBeGreaterThanOrEqual(19);
    expect(run.frames.length).toBeLessThanOrEqual(21);
    expect(run.frames.every((f) => f.data.length === 64 * 32 * 3 && f.width === 64 && f.height === 32)).toBe(
      true,
    );
    // Media time: 100 ms apart at 10 fps, from the connect time.
    expect(run.frames.slice(0, 3).map((f) => f.tsMs - 1_700_000_000_000)).toEqual([0, 100, 200]);
    expect(run.statuses.map((s) => s.state)).toEqual(['starting', 'online', 'ended']);
    expect(run.source.status().framesIn).toBe(run.frames.length);
  });

  it('resamples to the target fps', async () => {
    const run = runSource(`file://${clip}`, (s) => s.state === 'ended', { fps: 2 });
    await run.done;
    expect(run.frames.length).toBeGreaterThanOrEqual(4);
    expect(run.frames.length).toBeLessThanOrEqual(5);
  });

  it('marks a corrupt file offline with ffmpeg’s reason and keeps retrying with back-off', async () => {
    const corrupt = makeCorruptVideo(dir);
    const run = runSource(
      `file://${corrupt}`,
      (_s, all) => all.filter((x) => x.state === 'offline').length >= 1 && _s.failures >= 3,
    );
    await run.done;
    await run.source.stop();
    const offline = run.statuses.find((s) => s.state === 'offline')!;
    expect(offline.reason).toMatch(/corrupt|Invalid data|moov atom/i);
    expect(run.frames).toHaveLength(0);
    expect(run.source.status().state).toBe('stopped');
  });

  it('marks an unreachable URL offline with the reason while another source keeps running', async () => {
    const port = await closedPort();
    const bad = runSource(`http://127.0.0.1:${port}/stream.mjpeg`, (s) => s.state === 'offline');
    const good = runSource(`file://${clip}`, (s) => s.state === 'ended');
    await Promise.all([bad.done, good.done]);
    expect(bad.source.status().reason).toMatch(/Connection refused|refused/i);
    expect(good.frames.length).toBeGreaterThanOrEqual(19);
    await bad.source.stop();
  });

  it('masks the stream URL’s credentials in the offline reason', async () => {
    const port = await closedPort();
    const bad = runSource(`rtsp://user:secret@127.0.0.1:${port}/x`, (s) => s.state === 'offline');
    await bad.done;
    await bad.source.stop();
    const reasons = bad.statuses.map((s) => s.reason ?? '');
    expect(reasons.join('\n')).not.toContain('secret');
    expect(bad.statuses.find((s) => s.state === 'offline')!.reason).toBeTruthy();
  });

  it('kills and reconnects a stream that connects but sends no frames', async () => {
    // An HTTP server that answers with headers and then goes silent, like a frozen camera.
    const { createServer } = await import('node:http');
    let connections = 0;
    const server = createServer((_req, res) => {
      connections++;
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      res.flushHeaders();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const statuses: SourceStatus[] = [];
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const source = createFrameSource({
      url: `http://127.0.0.1:${port}/live.ts`,
      width: 64,
      height: 32,
      fps: 10,
      realtime: false,
      loop: false,
      backoff: FAST_BACKOFF,
      ioTimeoutMs: 30_000,
      stallTimeoutMs: 1000,
      onFrame: () => undefined,
      onStatus: (s) => {
        statuses.push(s);
        if (s.failures >= 2) resolve();
      },
    });
    source.start();
    await done;
    await source.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    expect(statuses.find((s) => s.state === 'offline')!.reason).toBe('no frames for 1 s');
    expect(connections).toBeGreaterThanOrEqual(2);
  });

  it('reports a missing ffmpeg binary as offline, not as a crash', async () => {
    const statuses: SourceStatus[] = [];
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const source = createFrameSource({
      url: `file://${clip}`,
      width: 64,
      height: 32,
      fps: 10,
      realtime: false,
      loop: false,
      backoff: FAST_BACKOFF,
      ffmpegPath: '/nonexistent/ffmpeg',
      onFrame: () => undefined,
      onStatus: (s) => {
        statuses.push(s);
        if (s.state === 'offline') resolve();
      },
    });
    source.start();
    await done;
    await source.stop();
    expect(statuses.find((s) => s.state === 'offline')!.reason).toMatch(/cannot start ffmpeg: .*ENOENT/);
  });

  it('loops a file when asked and stops cleanly mid-stream', async () => {
    const run = runSource(`file://${clip}`, (s) => s.framesIn >= 0 && s.state === 'online', { loop: true });
    await run.done;
    // More frames than one 20-frame pass holds proves the loop.
    await run.framesAtLeast(30);
    await run.source.stop();
    const n = run.frames.length;
    expect(run.source.status().state).toBe('stopped');
    expect(run.frames.length).toBe(n);
  });
});

describe('captureSnapshot (real ffmpeg)', () => {
  it('returns one JPEG frame of a file', async () => {
    const jpeg = await captureSnapshot(`file://${clip}`, { maxWidth: 160 });
    expect(jpeg.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(jpeg.length).toBeGreaterThan(500);
  });
  it('fails with ffmpeg’s reason for an unreachable stream', async () => {
    const port = await closedPort();
    await expect(captureSnapshot(`http://127.0.0.1:${port}/x.jpg`, { timeoutMs: 2000 })).rejects.toThrow(
      SnapshotError,
    );
  });
  it('masks the stream URL’s credentials in the error', async () => {
    const port = await closedPort();
    const err = await captureSnapshot(`rtsp://user:secret@127.0.0.1:${port}/x`, { timeoutMs: 2000 }).catch(
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(SnapshotError);
    expect((err as Error).message).not.toContain('secret');
  });
  it('fails with a typed error when ffmpeg is missing', async () => {
    await expect(captureSnapshot(`file://${clip}`, { ffmpegPath: '/nonexistent/ffmpeg' })).rejects.toThrow(
      /cannot start ffmpeg/,
    );
  });
});
