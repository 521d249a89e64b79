/**
 * A camera's frames: an ffmpeg child process decoding a file or an RTSP/HTTP stream into raw rgb24 at
 * the model's input size, restarted with exponential back-off when it fails. The source never throws
 * at its caller: failures become an `offline` status with the reason (ffmpeg's last error line).
 */
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { redactUrlsInText } from '@its/core';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { buildDecodeArgs, classifyUrl } from './ffmpeg-args.js';

export type SourceState = 'starting' | 'online' | 'offline' | 'ended' | 'stopped';

export interface SourceStatus {
  state: SourceState;
  reason: string | null;
  /** Frames decoded since the source was created. */
  framesIn: number;
  /** Consecutive failed attempts (0 once frames flow). */
  failures: number;
}

export interface Frame {
  data: Uint8Array;
  width: number;
  height: number;
  /** Media time of the frame in epoch ms: the (re)connect time plus index / fps. */
  tsMs: number;
}

export type SpawnFn = (command: string, args: string[], options: SpawnOptions) => ChildProcess;

export interface FrameSourceOptions {
  url: string;
  width: number;
  height: number;
  fps: number;
  realtime: boolean;
  loop: boolean;
  onFrame(frame: Frame): void;
  onStatus?(status: SourceStatus): void;
  /** 10 s: long enough for an RTSP handshake over a slow link, short enough to notice a dead camera. */
  ioTimeoutMs?: number;
  /** No frame for this long while running → kill ffmpeg and reconnect. Default: 2 × ioTimeoutMs. */
  stallTimeoutMs?: number;
  backoff?: BackoffPolicy;
  ffmpegPath?: string;
  now?: () => number;
  spawn?: SpawnFn;
}

export interface FrameSource {
  start(): void;
  stop(): Promise<void>;
  status(): SourceStatus;
}

export function createFrameSource(options: FrameSourceOptions): FrameSource {
  const now = options.now ?? Date.now;
  const spawn = options.spawn ?? (nodeSpawn as SpawnFn);
  const ioTimeoutMs = options.ioTimeoutMs ?? 10_000;
  const stallTimeoutMs = options.stallTimeoutMs ?? 2 * ioTimeoutMs;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const frameBytes = options.width * options.height * 3;
  const frameIntervalMs = 1000 / options.fps;
  const isFile = classifyUrl(options.url) === 'file';
  const status: SourceStatus = { state: 'starting', reason: null, framesIn: 0, failures: 0 };
  let child: ChildProcess | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let stopped = false;
  let lastTsMs = -Infinity;
  let exited: Promise<void> = Promise.resolve();

  let reportedFailures = 0;
  const setStatus = (state: SourceState, rawReason: string | null) => {
    // Reasons are logged, posted to the API and served: never with the stream's credentials.
    const reason = rawReason === null ? null : redactUrlsInText(rawReason);
    // Each failed attempt is reported (the failure count is news), repeats of other states are not.
    if (status.state === state && status.reason === reason && status.failures === reportedFailures) return;
    reportedFailures = status.failures;
    status.state = state;
    status.reason = reason;
    options.onStatus?.({ ...status });
  };

  const scheduleRetry = () => {
    const delay = backoffDelay(status.failures - 1, backoff);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (!stopped) runOnce();
    }, delay);
    retryTimer.unref();
  };

  const runOnce = () => {
    const args = buildDecodeArgs({ ...options, ioTimeoutMs });
    const proc = spawn(options.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    // Media time restarts at the connect time, but never runs backwards across reconnects.
    const anchor = Math.max(now(), lastTsMs + frameIntervalMs);
    let index = 0;
    let pending = Buffer.alloc(frameBytes);
    let filled = 0;
    let stderrTail = '';
    let stallTimer: NodeJS.Timeout | null = null;
    let stallReason: string | null = null;
    const armStall = () => {
      if (stallTimer) clearTimeout(stallTimer);
      stallTimer = setTimeout(() => {
        stallReason = `no frames for ${Math.round(stallTimeoutMs / 1000)} s`;
        proc.kill('SIGKILL');
      }, stallTimeoutMs);
      stallTimer.unref();
    };
    armStall();

    proc.stdout!.on('data', (chunk: Buffer) => {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(pending, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          const tsMs = anchor + index * frameIntervalMs;
          index++;
          lastTsMs = tsMs;
          status.framesIn++;
          status.failures = 0;
          setStatus('online', null);
          armStall();
          options.onFrame({
            data: new Uint8Array(pending.buffer, pending.byteOffset, frameBytes),
            width: options.width,
            height: options.height,
            tsMs,
          });
          pending = Buffer.alloc(frameBytes);
          filled = 0;
        }
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString()).slice(-2000);
    });
    exited = new Promise<void>((resolve) => {
      const finish = (code: number | null, spawnError?: Error) => {
        if (stallTimer) clearTimeout(stallTimer);
        child = null;
        resolve();
        if (stopped) {
          setStatus('stopped', null);
          return;
        }
        if (code === 0 && index > 0 && isFile && !options.loop) {
          setStatus('ended', null);
          return;
        }
        status.failures++;
        const lastLine = stderrTail.trim().split('\n').filter(Boolean).pop();
        const reason =
          spawnError?.message ??
          stallReason ??
          (lastLine
            ? redactUrlsInText(lastLine).slice(0, 300)
            : code === 0
              ? 'stream ended without frames'
              : `ffmpeg exited with code ${code}`);
        setStatus('offline', reason);
        scheduleRetry();
      };
      proc.once('error', (err) => finish(null, new Error(`cannot start ffmpeg: ${err.message}`)));
      proc.once('close', (code) => finish(code));
    });
  };

  return {
    start() {
      if (stopped || child || retryTimer) return;
      options.onStatus?.({ ...status });
      runOnce();
    },
    async stop() {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      const running = child;
      if (running) {
        running.kill('SIGTERM');
        const killTimer = setTimeout(() => running.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(killTimer);
      }
      setStatus('stopped', null);
    },
    status: () => ({ ...status }),
  };
}
