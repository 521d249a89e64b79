import { spawn as nodeSpawn } from 'node:child_process';
import { redactUrlsInText } from '@its/core';
import { buildSnapshotArgs } from './ffmpeg-args.js';
import type { SpawnFn } from './frame-source.js';

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

/** One JPEG from the camera via a short-lived ffmpeg (separate from the decode process, so it works while offline too). */
export function captureSnapshot(
  url: string,
  options: { maxWidth?: number; timeoutMs?: number; ffmpegPath?: string; spawn?: SpawnFn } = {},
): Promise<Buffer> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const args = buildSnapshotArgs(url, { maxWidth: options.maxWidth ?? 1280, ioTimeoutMs: timeoutMs });
  const proc = (options.spawn ?? (nodeSpawn as SpawnFn))(options.ffmpegPath ?? 'ffmpeg', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs + 2000);
    proc.stdout!.on('data', (c: Buffer) => out.push(c));
    proc.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-1000)));
    proc.once('error', (e) => {
      clearTimeout(timer);
      reject(new SnapshotError(`cannot start ffmpeg: ${e.message}`));
    });
    proc.once('close', (code) => {
      clearTimeout(timer);
      const jpeg = Buffer.concat(out);
      if (code === 0 && jpeg.length > 0) resolve(jpeg);
      else
        reject(
          new SnapshotError(
            redactUrlsInText(err.trim().split('\n').pop() || `ffmpeg exited with code ${code}`),
          ),
        );
    });
  });
}
