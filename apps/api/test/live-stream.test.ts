/**
 * The live stream's two pure-ish parts: the bounded per-client writer (sse-writer.ts) against a fake
 * socket, and the replay window (live-log.ts).
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { LiveEvent } from '@its/contracts';
import { createLiveLog, formatSse } from '../src/events/live-log.js';
import { createSseWriter, type SseSink } from '../src/events/sse-writer.js';
import { fitReplay } from '../src/routes/stream-routes.js';
import { crossing } from './fixtures.js';

/** A socket that takes `capacity` bytes into its buffer, reports it in writableLength, and drains on request. */
class FakeSocket extends EventEmitter implements SseSink {
  writableLength = 0;
  written: string[] = [];
  destroyed = false;
  peak = 0;
  constructor(
    private readonly highWaterMark: number,
    readonly reads: boolean,
  ) {
    super();
  }
  write(chunk: string): boolean {
    this.written.push(chunk);
    this.writableLength += Buffer.byteLength(chunk);
    this.peak = Math.max(this.peak, this.writableLength);
    return this.writableLength < this.highWaterMark;
  }
  /** The peer read everything: the buffer empties and 'drain' fires. */
  drain() {
    if (!this.reads || this.writableLength === 0) return;
    this.writableLength = 0;
    this.emit('drain');
  }
  destroy() {
    this.destroyed = true;
  }
}

/** Runs scheduled pumps and drains until nothing moves (a fast reader) or only pumps (a slow one). */
function runner() {
  const tasks: Array<() => void> = [];
  return {
    schedule: (fn: () => void) => void tasks.push(fn),
    settle(socket: FakeSocket) {
      for (;;) {
        const task = tasks.shift();
        if (task) task();
        else if (socket.reads && socket.writableLength > 0 && !socket.destroyed) socket.drain();
        else return;
      }
    },
  };
}

const event = (i: number): LiveEvent => ({
  type: 'crossing',
  data: crossing('00000000-0000-4000-8000-000000000001', { trackId: `t-${i}`.padEnd(64, 'x') }),
});

describe('createSseWriter', () => {
  it('a reader gets a batch far over a piece in order, in writes of at most one piece, never dropped', () => {
    const socket = new FakeSocket(16 * 1024, true);
    const r = runner();
    let drops = 0;
    const writer = createSseWriter({
      sink: socket,
      maxBufferedBytes: 4 * 1024 * 1024,
      pieceBytes: 64 * 1024,
      onDrop: () => drops++,
      schedule: r.schedule,
    });
    const texts = Array.from({ length: 5000 }, (_, i) => formatSse(event(i), `e-${i}`));
    const total = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
    expect(total).toBeGreaterThan(1024 * 1024); // the batch size that used to drop every client
    for (const t of texts) expect(writer.send(t)).toBe(true);
    r.settle(socket);
    expect(drops).toBe(0);
    expect(socket.written.join('')).toBe(texts.join(''));
    expect(Math.max(...socket.written.map((w) => Buffer.byteLength(w)))).toBeLessThanOrEqual(64 * 1024);
    expect(writer.bufferedBytes).toBe(0);
  });

  it('a client that never reads: what waits for it never exceeds the bound; dropped once, then nothing is queued', () => {
    const socket = new FakeSocket(16 * 1024, false);
    const r = runner();
    const drops: number[] = [];
    const bound = 256 * 1024;
    const writer = createSseWriter({
      sink: socket,
      maxBufferedBytes: bound,
      pieceBytes: 16 * 1024,
      onDrop: (b) => drops.push(b),
      schedule: r.schedule,
    });
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      if (writer.send(formatSse(event(i), `e-${i}`))) accepted++;
      expect(writer.bufferedBytes).toBeLessThanOrEqual(bound);
      if (i % 50 === 0) r.settle(socket); // let it write what the socket takes
    }
    expect(drops).toHaveLength(1);
    expect(drops[0]).toBeLessThanOrEqual(bound);
    expect(socket.destroyed).toBe(true);
    expect(writer.dropped).toBe(true);
    expect(writer.bufferedBytes).toBe(0);
    expect(accepted).toBeLessThan(20_000);
    // The socket's own buffer stayed within its high-water mark and one piece.
    expect(socket.peak).toBeLessThanOrEqual(16 * 1024 + 16 * 1024 + 1024);
    const writes = socket.written.length;
    expect(writer.send('late')).toBe(false);
    r.settle(socket);
    expect(socket.written.length).toBe(writes);
  });

  it('heartbeats only when nothing waits; close lets go of the queue', () => {
    const socket = new FakeSocket(1024, false);
    const r = runner();
    const writer = createSseWriter({
      sink: socket,
      maxBufferedBytes: 1 << 20,
      onDrop: () => {},
      schedule: r.schedule,
    });
    writer.comment('heartbeat 1');
    r.settle(socket);
    expect(socket.written).toEqual([': heartbeat 1\n\n']);
    writer.send('x'.repeat(2000));
    r.settle(socket); // written, but the socket keeps it: waiting for 'drain'
    writer.send('queued');
    writer.comment('heartbeat 2');
    r.settle(socket);
    expect(socket.written.join('')).not.toContain('heartbeat 2');
    writer.close();
    expect(writer.bufferedBytes).toBe(0);
    expect(writer.send('after close')).toBe(false);
  });
});

describe('createLiveLog', () => {
  const make = (maxEvents: number, maxAgeMs = 60_000) => {
    let now = 1_000_000;
    const log = createLiveLog({ maxEvents, maxAgeMs, now: () => now, epoch: 'ep1' });
    return { log, advance: (ms: number) => (now += ms) };
  };

  it('gives each event an id and its SSE text once', () => {
    const { log } = make(10);
    const ev = event(1);
    const e = log.append(ev);
    expect(e.id).toBe('ep1-1');
    expect(e.text).toBe(formatSse(ev, 'ep1-1'));
    expect(e.text.startsWith('id: ep1-1\nevent: crossing\ndata: {')).toBe(true);
    expect(e.bytes).toBe(Buffer.byteLength(e.text));
    expect(log.append(event(2)).id).toBe('ep1-2');
  });

  it('replays what came after Last-Event-ID, and says when the window no longer has all of it', () => {
    const { log, advance } = make(3, 60_000);
    for (let i = 1; i <= 5; i++) log.append(event(i));
    const ids = (a: ReturnType<typeof log.since>) =>
      a.kind === 'replay' ? a.entries.map((e) => e.id) : a.kind;
    expect(ids(log.since('ep1-4'))).toEqual(['ep1-5']);
    expect(log.since('ep1-4')).toMatchObject({ complete: true });
    expect(ids(log.since('ep1-5'))).toEqual([]);
    expect(ids(log.since('ep1-2'))).toEqual(['ep1-3', 'ep1-4', 'ep1-5']);
    expect(log.since('ep1-2')).toMatchObject({ complete: true });
    expect(ids(log.since('ep1-1'))).toEqual(['ep1-3', 'ep1-4', 'ep1-5']);
    expect(log.since('ep1-1')).toMatchObject({ complete: false });
    // Unknown: another instance or run, a future id, garbage.
    expect(ids(log.since('ep2-4'))).toBe('unknown');
    expect(ids(log.since('ep1-99'))).toBe('unknown');
    expect(ids(log.since('nonsense'))).toBe('unknown');
    // Age bound: after 61 s nothing is kept.
    advance(61_000);
    expect(log.since('ep1-4')).toEqual({ kind: 'replay', entries: [], complete: false });
    expect(log.size).toBe(0);
  });

  it('keeps at most maxEvents however many pass (bounded memory)', () => {
    const { log } = make(1000);
    for (let i = 0; i < 50_000; i++) log.append(event(i));
    expect(log.size).toBe(1000);
  });

  it('fitReplay keeps the newest events for the camera within the byte budget', () => {
    const { log } = make(10);
    const other = log.append({
      ...event(0),
      data: { ...event(0).data, cameraId: '00000000-0000-4000-8000-000000000002' },
    } as LiveEvent);
    const mine = [1, 2, 3].map((i) => log.append(event(i)));
    expect(fitReplay([other, ...mine], '00000000-0000-4000-8000-000000000001', 1 << 20)).toEqual({
      entries: mine,
      trimmed: false,
    });
    expect(fitReplay(mine, undefined, mine[2]!.bytes + mine[1]!.bytes)).toEqual({
      entries: mine.slice(1),
      trimmed: true,
    });
  });
});
