import { describe, expect, it } from 'vitest';
import type { Camera } from '@its/contracts';
import { parseWorkerConfig, redactConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { buildDecodeArgs, buildSnapshotArgs, classifyUrl, inputPath } from '../src/ffmpeg-args.js';
import { backoffDelay } from '../src/backoff.js';
import { BoundedQueue } from '../src/bounded-queue.js';
import { rgbToLuma } from '../src/luma.js';
import { planCameraChanges } from '../src/worker.js';
import { redactUrlsInText as redactUrls } from '@its/core';

const KEY = { API_KEY: 'its_0123456789ab_secretsecretsecretsecretsecret12' };

describe('parseWorkerConfig', () => {
  it('applies the documented defaults', () => {
    const c = parseWorkerConfig(KEY);
    expect(c).toMatchObject({
      API_URL: 'http://127.0.0.1:8000',
      CAMERA_IDS: null,
      DETECTOR_PROVIDER: 'cpu',
      DETECTOR_THREADS: 2,
      INPUT_SIZE: { width: 512, height: 288 },
      TARGET_FPS: 5,
      BUFFER_DIR: './data/vision-buffer',
      METRICS_PORT: 9464,
      METRICS_HOST: '127.0.0.1',
      FILE_REALTIME: true,
      MOTION_THRESHOLD: 0.002,
    });
  });
  it('parses every variable it is given', () => {
    const c = parseWorkerConfig({
      ...KEY,
      API_URL: 'http://api:8000',
      CAMERA_IDS: '6f1c7f5e-8a9b-4c3d-9e2f-1a2b3c4d5e6f, 7f1c7f5e-8a9b-4c3d-9e2f-1a2b3c4d5e6f',
      DETECTOR_PROVIDER: 'webgpu',
      DETECTOR_THREADS: '1',
      INPUT_SIZE: '320x192',
      TARGET_FPS: '2.5',
      FILE_REALTIME: 'false',
    });
    expect(c.CAMERA_IDS).toHaveLength(2);
    expect(c.INPUT_SIZE).toEqual({ width: 320, height: 192 });
    expect(c).toMatchObject({
      DETECTOR_PROVIDER: 'webgpu',
      DETECTOR_THREADS: 1,
      TARGET_FPS: 2.5,
      FILE_REALTIME: false,
    });
  });
  it('treats empty strings as unset', () => {
    expect(parseWorkerConfig({ ...KEY, CAMERA_IDS: '', METRICS_PORT: '' }).METRICS_PORT).toBe(9464);
  });
  it('reports every bad variable together, each by name', () => {
    try {
      parseWorkerConfig({
        API_URL: 'ftp://x',
        INPUT_SIZE: '500x288',
        DETECTOR_PROVIDER: 'cuda',
        CAMERA_IDS: 'abc',
        TARGET_FPS: '0',
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      for (const name of [
        'API_URL',
        'API_KEY',
        'INPUT_SIZE',
        'DETECTOR_PROVIDER',
        'CAMERA_IDS',
        'TARGET_FPS',
      ]) {
        expect(problems).toMatch(new RegExp(`^${name}: `, 'm'));
      }
      expect(problems).toMatch(/INPUT_SIZE: .*multiple of 32/);
    }
  });
  it('redacts the API key', () => {
    expect(JSON.stringify(redactConfig(parseWorkerConfig(KEY)))).not.toContain('secret');
  });
});

describe('ffmpeg arguments', () => {
  const plan = { width: 512, height: 288, fps: 5, realtime: false, loop: false, ioTimeoutMs: 5000 };
  const tail = [
    '-an',
    '-sn',
    '-dn',
    '-vf',
    'fps=5,scale=512:288:flags=bilinear',
    '-pix_fmt',
    'rgb24',
    '-f',
    'rawvideo',
    'pipe:1',
  ];
  const head = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  it.each([
    ['a file, fast', { url: 'file:///v/a%20b.mp4' }, ['-i', '/v/a b.mp4']],
    [
      'a file, live-like',
      { url: 'file:///v/a.mp4', realtime: true, loop: true },
      ['-re', '-stream_loop', '-1', '-i', '/v/a.mp4'],
    ],
    [
      'RTSP over TCP',
      { url: 'rtsp://cam/stream' },
      ['-rtsp_transport', 'tcp', '-timeout', '5000000', '-i', 'rtsp://cam/stream'],
    ],
    [
      'HTTP',
      { url: 'http://cam/mjpeg' },
      ['-rw_timeout', '5000000', '-reconnect', '0', '-i', 'http://cam/mjpeg'],
    ],
  ])('decodes %s', (_n, over, input) => {
    expect(buildDecodeArgs({ ...plan, ...over })).toEqual([...head, ...input, ...tail]);
  });
  it('keeps a hostile URL as one argument (no shell)', () => {
    const args = buildDecodeArgs({ ...plan, url: 'http://x/$(rm -rf /);echo' });
    expect(args).toContain('http://x/$(rm -rf /);echo');
  });
  it('builds a one-frame JPEG snapshot', () => {
    expect(buildSnapshotArgs('rtsp://cam/s', { maxWidth: 1280, ioTimeoutMs: 2000 })).toEqual([
      ...head,
      '-rtsp_transport',
      'tcp',
      '-timeout',
      '2000000',
      '-i',
      'rtsp://cam/s',
      '-frames:v',
      '1',
      '-vf',
      "scale='min(1280,iw)':-2",
      '-q:v',
      '4',
      '-f',
      'image2',
      '-c:v',
      'mjpeg',
      'pipe:1',
    ]);
    expect(buildSnapshotArgs('https://cam/s', { maxWidth: 640, ioTimeoutMs: 1000 })).toContain('-rw_timeout');
    expect(buildSnapshotArgs('file:///a.mp4', { maxWidth: 640, ioTimeoutMs: 1000 }).slice(4, 6)).toEqual([
      '-i',
      '/a.mp4',
    ]);
  });
  it.each([
    ['file:///a', 'file'],
    ['rtsps://a', 'rtsp'],
    ['https://a', 'http'],
  ] as const)('classifies %s as %s', (url, kind) => expect(classifyUrl(url)).toBe(kind));
  it('passes stream URLs through unchanged', () =>
    expect(inputPath('rtsp://u:p@cam/1')).toBe('rtsp://u:p@cam/1'));
});

describe('backoffDelay', () => {
  it.each([
    [0, 1000],
    [1, 2000],
    [4, 16000],
    [5, 30000],
    [50, 30000],
    [-1, 1000],
  ])('attempt %i waits %i ms', (attempt, ms) => expect(backoffDelay(attempt)).toBe(ms));
});

describe('BoundedQueue', () => {
  it('drops the oldest when full and counts it', () => {
    const q = new BoundedQueue<number>(3);
    expect([1, 2, 3].map((n) => q.push(n))).toEqual([undefined, undefined, undefined]);
    expect(q.push(4)).toBe(1);
    expect(q.push(5)).toBe(2);
    expect(q.dropped).toBe(2);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([3, 4, 5, undefined]);
  });
  it('never holds more than its capacity under a flood', () => {
    const q = new BoundedQueue<number>(8);
    for (let i = 0; i < 10_000; i++) q.push(i);
    expect(q.length).toBe(8);
    expect(q.dropped).toBe(10_000 - 8);
    q.clear();
    expect(q.length).toBe(0);
  });
  it.each([0, -1, 1.5])('rejects capacity %s', (c) => expect(() => new BoundedQueue(c)).toThrow(RangeError));
});

describe('rgbToLuma', () => {
  it.each([
    [[255, 255, 255], 255],
    [[0, 0, 0], 0],
    [[255, 0, 0], 76],
    [[0, 255, 0], 149],
    [[0, 0, 255], 28],
  ])('maps RGB %j to grey %i', (rgb, grey) =>
    expect(Array.from(rgbToLuma(new Uint8Array(rgb), 1, 1))).toEqual([grey]),
  );
  it('reuses the output buffer', () => {
    const out = new Uint8Array(4);
    expect(rgbToLuma(new Uint8Array(12).fill(10), 2, 2, out)).toBe(out);
  });
});

const cam = (id: string, over: Partial<Camera> = {}): Camera => ({
  id,
  name: id,
  streamUrl: 'file:///a.mp4',
  location: { lat: 0, lon: 0 },
  lines: [],
  zones: [],
  calibration: null,
  enabled: true,
  status: { state: 'unknown', reason: null, lastSeenAt: null },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

describe('planCameraChanges', () => {
  const A = '00000000-0000-4000-8000-00000000000a';
  const B = '00000000-0000-4000-8000-00000000000b';
  const C = '00000000-0000-4000-8000-00000000000c';
  it.each([
    [
      'starts new enabled cameras',
      [],
      [cam(A), cam(B, { enabled: false })],
      null,
      { start: [A], stop: [], restart: [] },
    ],
    ['stops cameras gone from the list', [cam(A)], [], null, { start: [], stop: [A], restart: [] }],
    [
      'stops cameras that were disabled',
      [cam(A)],
      [cam(A, { enabled: false })],
      null,
      { start: [], stop: [A], restart: [] },
    ],
    [
      'restarts a camera whose stream changed',
      [cam(A)],
      [cam(A, { streamUrl: 'rtsp://x' })],
      null,
      { start: [], stop: [], restart: [A] },
    ],
    [
      'ignores changes that do not affect the pipeline',
      [cam(A)],
      [cam(A, { name: 'renamed' })],
      null,
      { start: [], stop: [], restart: [] },
    ],
    ['honours CAMERA_IDS', [], [cam(A), cam(B), cam(C)], [B, C], { start: [B, C], stop: [], restart: [] }],
  ])('%s', (_n, running, listed, ids, expected) => {
    const plan = planCameraChanges(new Map(running.map((c) => [c.id, c])), listed, ids);
    expect({
      start: plan.start.map((c) => c.id),
      stop: plan.stop,
      restart: plan.restart.map((c) => c.id),
    }).toEqual(expected);
  });
});

describe('redactUrls', () => {
  it('masks the user-info of every URL in a text and leaves the rest unchanged', () => {
    expect(redactUrls('rtsp://user:secret@10.0.0.5:554/x: Connection refused')).toBe(
      'rtsp://***@10.0.0.5:554/x: Connection refused',
    );
    expect(redactUrls("Error opening 'rtsp://u:p@ss@h/x' and http://a@b/c")).toBe(
      "Error opening 'rtsp://***@h/x' and http://***@b/c",
    );
    expect(redactUrls('rtsp://host:554/x: Connection refused')).toBe('rtsp://host:554/x: Connection refused');
    expect(redactUrls('file:///videos/a@b.mp4 no frames for 1 s')).toBe(
      'file:///videos/a@b.mp4 no frames for 1 s',
    );
  });
});
