/** Test videos made with the real ffmpeg (never committed: generated per run in a temp dir). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

export function makeTempDir(prefix = 'its-vision-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs ffmpeg quietly, overwriting its output. */
function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

/** The output options of every clip made here: H.264 in MP4, yuv420p, fastest preset. */
const H264 = ['-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast'];

/** A testsrc clip: `seconds` long at `fps`, `size` WxH, H.264 in MP4. */
export function makeTestVideo(
  dir: string,
  name: string,
  opts: { seconds: number; fps: number; size?: string },
): string {
  const file = join(dir, name);
  ffmpeg([
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=${opts.size ?? '320x180'}:rate=${opts.fps}:duration=${opts.seconds}`,
    ...H264,
    file,
  ]);
  return file;
}

/** Bytes that look like nothing ffmpeg can decode. */
export function makeCorruptVideo(dir: string): string {
  const file = join(dir, 'corrupt.mp4');
  writeFileSync(file, Buffer.concat([Buffer.from('\x00\x00\x00\x18ftypisom'), Buffer.alloc(4096, 0x5a)]));
  return file;
}

/** A loopback port with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/**
 * A street-like clip at 10 fps: the pedestrian cropped from autocannon's test photo (the only real
 * photo of a road user in node_modules) crosses a grey frame. The defaults are the worker tests' clip
 * (walk.mp4, 640x360, 6 s, the person 220 px tall walking left to right once); the vision bench
 * renders a larger, looping one with the same function.
 */
export function makeWalkingPersonVideo(
  dir: string,
  photo: string,
  opts: {
    seconds?: number;
    name?: string;
    size?: string;
    /** Height of the person in the frame, px. */
    personHeight?: number;
    /** ffmpeg overlay x and y expressions (t is seconds). */
    x?: string;
    y?: string;
  } = {},
): string {
  const crop = join(dir, 'person.png');
  ffmpeg(['-i', photo, '-vf', 'crop=260:340:715:240', crop]);
  const file = join(dir, opts.name ?? 'walk.mp4');
  ffmpeg([
    '-f',
    'lavfi',
    '-i',
    `color=c=0x707070:s=${opts.size ?? '640x360'}:r=10:d=${opts.seconds ?? 6}`,
    '-i',
    crop,
    '-filter_complex',
    `[1:v]scale=-1:${opts.personHeight ?? 220}[m];[0:v][m]overlay=x='${opts.x ?? '-120+t*130'}':y=${opts.y ?? '110'}`,
    ...H264,
    file,
  ]);
  return file;
}

/** One JSON call to the API with a bearer key; a non-2xx answer throws with its status and body. */
export async function callApi<T>(
  baseUrl: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}
