/**
 * Turns interleaved RGB bytes (ffmpeg rgb24, sharp raw) into the network's planar float input.
 * The CenterNet graph was trained on 0..255 RGB with no mean/std step (its first op is a conv), so
 * the only work is the HWC → CHW re-layout and, when the frame is not at the input size, a resize.
 */
export interface InputSize {
  width: number;
  height: number;
}

export class PreprocessError extends Error {
  override name = 'PreprocessError';
}

/** Parses "512x288" into a size whose sides are positive multiples of 32 (the network's total stride). */
export function parseInputSize(text: string): InputSize {
  const m = /^(\d+)x(\d+)$/.exec(text.trim());
  if (!m) throw new PreprocessError(`input size "${text}": use WIDTHxHEIGHT, e.g. 512x288`);
  const width = Number(m[1]);
  const height = Number(m[2]);
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (v < 32 || v > 2048 || v % 32 !== 0) {
      throw new PreprocessError(`input size ${name} ${v}: must be a multiple of 32 between 32 and 2048`);
    }
  }
  return { width, height };
}

/**
 * RGB24 (width×height×3) → Float32 CHW at `size`, nearest-neighbour resampled when sizes differ
 * (frames from ffmpeg already arrive at the input size; the resample is a fallback, not the hot path).
 */
export function rgbToChw(rgb: Uint8Array, width: number, height: number, size: InputSize): Float32Array {
  if (rgb.length !== width * height * 3) {
    throw new PreprocessError(`frame: ${rgb.length} bytes is not ${width}×${height}×3 RGB`);
  }
  const { width: W, height: H } = size;
  const plane = W * H;
  const out = new Float32Array(3 * plane);
  if (W === width && H === height) {
    for (let i = 0, j = 0; i < plane; i++, j += 3) {
      out[i] = rgb[j]!;
      out[plane + i] = rgb[j + 1]!;
      out[2 * plane + i] = rgb[j + 2]!;
    }
    return out;
  }
  for (let y = 0; y < H; y++) {
    const sy = Math.min(height - 1, Math.floor(((y + 0.5) * height) / H));
    for (let x = 0; x < W; x++) {
      const sx = Math.min(width - 1, Math.floor(((x + 0.5) * width) / W));
      const j = (sy * width + sx) * 3;
      const i = y * W + x;
      out[i] = rgb[j]!;
      out[plane + i] = rgb[j + 1]!;
      out[2 * plane + i] = rgb[j + 2]!;
    }
  }
  return out;
}
