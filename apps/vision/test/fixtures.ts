/** Test videos made with the real ffmpeg (never committed: generated per run in a temp dir). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

export function makeTempDir(prefix = 'its-vision-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A testsrc clip: `seconds` long at `fps`, `size` WxH, H.264 in MP4. */
export function makeTestVideo(
  dir: string,
  name: string,
  opts: { seconds: number; fps: number; size?: string },
): string {
  const file = join(dir, name);
  execFileSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=${opts.size ?? '320x180'}:rate=${opts.fps}:duration=${opts.seconds}`,
    '-pix_fmt',
    'yuv420p',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
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
 * A street-like clip for the real detector: the pedestrian cropped from autocannon's test photo
 * (the only real photo of a road user in node_modules) walks left to right across a grey frame.
 */
export function makeWalkingPersonVideo(dir: string, photo: string, opts: { seconds?: number } = {}): string {
  const crop = join(dir, 'person.png');
  execFileSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-i',
    photo,
    '-vf',
    'crop=260:340:715:240',
    crop,
  ]);
  const file = join(dir, 'walk.mp4');
  execFileSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `color=c=0x707070:s=640x360:r=10:d=${opts.seconds ?? 6}`,
    '-i',
    crop,
    '-filter_complex',
    "[1:v]scale=-1:220[m];[0:v][m]overlay=x='-120+t*130':y=110",
    '-pix_fmt',
    'yuv420p',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    file,
  ]);
  return file;
}
