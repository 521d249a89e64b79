/**
 * ffmpeg command lines as argument arrays (never shell strings), built by pure functions so tests can
 * assert them exactly.
 */
export interface DecodePlan {
  url: string;
  width: number;
  height: number;
  fps: number;
  /** Read a file at its native rate (-re), like a live camera. Streams are live anyway. */
  realtime: boolean;
  /** Restart a file from the beginning when it ends. */
  loop: boolean;
  /** Network read timeout, ms: a stream that stalls this long makes ffmpeg exit so we can reconnect. */
  ioTimeoutMs: number;
}

export type InputKind = 'file' | 'rtsp' | 'http';

export function classifyUrl(url: string): InputKind {
  if (url.startsWith('file://')) return 'file';
  if (url.startsWith('rtsp://') || url.startsWith('rtsps://')) return 'rtsp';
  return 'http';
}

/** file:///a/b.mp4 → /a/b.mp4 (percent-decoded); other URLs pass through. */
export function inputPath(url: string): string {
  return classifyUrl(url) === 'file' ? decodeURIComponent(new URL(url).pathname) : url;
}

/** Decode to raw rgb24 frames at the model's input size and the target rate, written to stdout. */
export function buildDecodeArgs(plan: DecodePlan): string[] {
  const kind = classifyUrl(plan.url);
  const timeoutUs = String(Math.round(plan.ioTimeoutMs * 1000));
  const input: string[] = [];
  if (kind === 'file') {
    if (plan.realtime) input.push('-re');
    if (plan.loop) input.push('-stream_loop', '-1');
  } else if (kind === 'rtsp') {
    // TCP: UDP RTP loses packets through NAT and firewalls, which shows up as smeared frames.
    input.push('-rtsp_transport', 'tcp', '-timeout', timeoutUs);
  } else {
    input.push('-rw_timeout', timeoutUs, '-reconnect', '0');
  }
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    ...input,
    '-i',
    inputPath(plan.url),
    '-an',
    '-sn',
    '-dn',
    '-vf',
    `fps=${plan.fps},scale=${plan.width}:${plan.height}:flags=bilinear`,
    '-pix_fmt',
    'rgb24',
    '-f',
    'rawvideo',
    'pipe:1',
  ];
}

/** One JPEG frame of the camera, written to stdout (for the dashboard's calibration view). */
export function buildSnapshotArgs(url: string, options: { maxWidth: number; ioTimeoutMs: number }): string[] {
  const kind = classifyUrl(url);
  const timeoutUs = String(Math.round(options.ioTimeoutMs * 1000));
  const input =
    kind === 'rtsp'
      ? ['-rtsp_transport', 'tcp', '-timeout', timeoutUs]
      : kind === 'http'
        ? ['-rw_timeout', timeoutUs]
        : [];
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    ...input,
    '-i',
    inputPath(url),
    '-frames:v',
    '1',
    '-vf',
    `scale='min(${options.maxWidth},iw)':-2`,
    '-q:v',
    '4',
    '-f',
    'image2',
    '-c:v',
    'mjpeg',
    'pipe:1',
  ];
}
