/**
 * Motion gating: skip inference on frames where nothing moved.
 *
 * Pure: the caller hands in 8-bit luma planes (ffmpeg `-pix_fmt gray`, any size) and the frame time.
 * A frame is compared with the last frame that WAS inferred, not with its predecessor, so slow
 * motion accumulates until it crosses the threshold instead of hiding below it frame by frame.
 * Inference is forced at least every `maxSkipMs`, so a vehicle that stops keeps its track alive.
 * On a skipped frame the worker should call processFrame with the previous detections and the
 * new time, keeping occupancy and dwell running.
 */
import { VisionInputError } from './errors.js';

export interface MotionGateOptions {
  /**
   * Fraction of sampled pixels that must change to count as motion. Default 0.002 (0.2 %): a small
   * far vehicle covers about that much of a frame; sensor noise stays below it after `pixelDelta`.
   */
  minChangedFraction: number;
  /** Luma difference (0–255) above which a pixel counts as changed. Default 25: above sensor noise and compression. */
  pixelDelta: number;
  /** Sample every n-th pixel in both directions. Default 2: a quarter of the work, same answer for objects of several pixels. */
  step: number;
  /** Longest time between inferences, ms. Default 1000. */
  maxSkipMs: number;
}

export const DEFAULT_MOTION_GATE_OPTIONS: Readonly<MotionGateOptions> = Object.freeze({
  minChangedFraction: 0.002,
  pixelDelta: 25,
  step: 2,
  maxSkipMs: 1000,
});

export interface MotionDecision {
  infer: boolean;
  /** Changed fraction against the last inferred frame (1 for the first frame). */
  changedFraction: number;
  reason: 'first-frame' | 'motion' | 'keyframe' | 'static';
}

export interface MotionGate {
  decide(luma: Uint8Array, width: number, height: number, tsMs: number): MotionDecision;
}

/** Fraction of sampled pixels whose luma differs by more than `pixelDelta`. */
export function measureChangedFraction(
  a: Uint8Array,
  b: Uint8Array,
  width: number,
  height: number,
  pixelDelta: number,
  step: number,
): number {
  let changed = 0;
  let total = 0;
  for (let y = 0; y < height; y += step) {
    const row = y * width;
    for (let x = 0; x < width; x += step) {
      const i = row + x;
      if (Math.abs(a[i]! - b[i]!) > pixelDelta) changed += 1;
      total += 1;
    }
  }
  return total === 0 ? 0 : changed / total;
}

export function createMotionGate(options: Partial<MotionGateOptions> = {}): MotionGate {
  const o = { ...DEFAULT_MOTION_GATE_OPTIONS, ...options };
  let reference: { luma: Uint8Array; width: number; height: number; tsMs: number } | null = null;
  return {
    decide(luma, width, height, tsMs) {
      if (luma.length < width * height) {
        throw new VisionInputError(
          'luma',
          `holds ${luma.length} bytes, a ${width}×${height} plane needs ${width * height}`,
        );
      }
      const keep = (reason: MotionDecision['reason'], changedFraction: number): MotionDecision => {
        reference = { luma: luma.slice(0, width * height), width, height, tsMs };
        return { infer: true, changedFraction, reason };
      };
      if (reference === null || reference.width !== width || reference.height !== height)
        return keep('first-frame', 1);
      const changed = measureChangedFraction(reference.luma, luma, width, height, o.pixelDelta, o.step);
      if (changed >= o.minChangedFraction) return keep('motion', changed);
      if (tsMs - reference.tsMs >= o.maxSkipMs) return keep('keyframe', changed);
      return { infer: false, changedFraction: changed, reason: 'static' };
    },
  };
}
