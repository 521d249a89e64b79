/**
 * Pure verdicts for the GPU check (scripts/gpu-check.ts): do two execution providers give the same
 * detections on the same frames, and latency summaries. No I/O here, so the tolerances are tested from
 * tables (test/gpu-check.test.ts) and the device run only has to produce numbers.
 */
import type { Detection } from '@its/contracts';
import { iou } from '../src/detector/nms.js';

export interface MatchTolerance {
  /** A provider's box must overlap its reference box by at least this IoU. Default 0.9: both providers
   *  compute in fp32, so real boxes differ by rounding; a peak that moves one heatmap cell (4 input px)
   *  on a 30 px box still passes, a box on another object does not. */
  minIou: number;
  /** Largest |score difference| of a matched pair. Default 0.02: fp32 rounding is ~1e-5, a different
   *  kernel order a few 1e-4; 0.02 catches a wrong activation or fp16 truncation of the heatmap. */
  maxScoreDiff: number;
  /** The detector's score threshold (0.3 by default). */
  scoreThreshold: number;
  /** A detection this close above the threshold may be missing on the other provider without failing
   *  the check: rounding decides on which side of the threshold it falls. Default 0.02. */
  borderlineMargin: number;
}

export const DEFAULT_TOLERANCE: MatchTolerance = {
  minIou: 0.9,
  maxScoreDiff: 0.02,
  scoreThreshold: 0.3,
  borderlineMargin: 0.02,
};

export interface FrameMismatch {
  frame: number;
  /** 'missing': in the reference only; 'extra': in the provider's output only; 'moved': matched by
   *  class but outside the IoU or score tolerance. */
  kind: 'missing' | 'extra' | 'moved';
  reference: Detection | null;
  actual: Detection | null;
}

export interface DetectionComparison {
  frames: number;
  referenceDetections: number;
  actualDetections: number;
  matched: number;
  /** Unmatched detections within `borderlineMargin` of the threshold: reported, not failures. */
  borderline: number;
  mismatches: FrameMismatch[];
  /** Smallest IoU of a matched pair (1 when nothing matched). */
  minMatchedIou: number;
  maxScoreDiff: number;
  /** Largest difference of a box edge, in input pixels. */
  maxEdgeDiffPx: number;
  pass: boolean;
}

/**
 * Greedy per frame and class: the highest-IoU pairs first, so two nearby people are not cross-matched.
 * Frames are compared by index; both lists must hold the same number of frames.
 */
export function compareDetections(
  reference: readonly Detection[][],
  actual: readonly Detection[][],
  inputSize: { width: number; height: number },
  tolerance: MatchTolerance = DEFAULT_TOLERANCE,
): DetectionComparison {
  if (reference.length !== actual.length) {
    throw new RangeError(
      `detections: reference has ${reference.length} frames, actual ${actual.length}; run both on the same frames file`,
    );
  }
  const result: DetectionComparison = {
    frames: reference.length,
    referenceDetections: 0,
    actualDetections: 0,
    matched: 0,
    borderline: 0,
    mismatches: [],
    minMatchedIou: 1,
    maxScoreDiff: 0,
    maxEdgeDiffPx: 0,
    pass: true,
  };
  const isBorderline = (d: Detection) => d.score < tolerance.scoreThreshold + tolerance.borderlineMargin;
  reference.forEach((refs, frame) => {
    const acts = actual[frame]!;
    result.referenceDetections += refs.length;
    result.actualDetections += acts.length;
    const pairs: Array<{ r: number; a: number; overlap: number }> = [];
    refs.forEach((r, ri) =>
      acts.forEach((a, ai) => {
        if (r.class !== a.class) return;
        const overlap = iou(r.box, a.box);
        if (overlap > 0) pairs.push({ r: ri, a: ai, overlap });
      }),
    );
    pairs.sort((p, q) => q.overlap - p.overlap);
    const usedR = new Set<number>();
    const usedA = new Set<number>();
    for (const p of pairs) {
      if (usedR.has(p.r) || usedA.has(p.a)) continue;
      usedR.add(p.r);
      usedA.add(p.a);
      const r = refs[p.r]!;
      const a = acts[p.a]!;
      const scoreDiff = Math.abs(r.score - a.score);
      const edgeDiff = maxEdgeDifferencePx(r, a, inputSize);
      result.matched += 1;
      result.minMatchedIou = Math.min(result.minMatchedIou, p.overlap);
      result.maxScoreDiff = Math.max(result.maxScoreDiff, scoreDiff);
      result.maxEdgeDiffPx = Math.max(result.maxEdgeDiffPx, edgeDiff);
      if (p.overlap < tolerance.minIou || scoreDiff > tolerance.maxScoreDiff) {
        result.mismatches.push({ frame, kind: 'moved', reference: r, actual: a });
      }
    }
    refs.forEach((r, ri) => {
      if (usedR.has(ri)) return;
      if (isBorderline(r)) result.borderline += 1;
      else result.mismatches.push({ frame, kind: 'missing', reference: r, actual: null });
    });
    acts.forEach((a, ai) => {
      if (usedA.has(ai)) return;
      if (isBorderline(a)) result.borderline += 1;
      else result.mismatches.push({ frame, kind: 'extra', reference: null, actual: a });
    });
  });
  result.pass = result.mismatches.length === 0;
  return result;
}

function maxEdgeDifferencePx(r: Detection, a: Detection, size: { width: number; height: number }): number {
  const edges = (d: Detection) => [
    d.box.x * size.width,
    d.box.y * size.height,
    (d.box.x + d.box.w) * size.width,
    (d.box.y + d.box.h) * size.height,
  ];
  const er = edges(r);
  const ea = edges(a);
  return Math.max(...er.map((v, i) => Math.abs(v - ea[i]!)));
}

export interface LatencySummary {
  n: number;
  p50Ms: number;
  p95Ms: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
  /** Sequential throughput: one call after another, as the worker's serialised detector runs. */
  framesPerSecond: number;
}

/** Nearest-rank percentiles, the same definition as apps/vision/scripts/bench.ts, so the figures compare. */
export function summarizeLatency(samplesMs: readonly number[]): LatencySummary {
  if (samplesMs.length === 0) throw new RangeError('latency: no samples');
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  const total = sorted.reduce((s, v) => s + v, 0);
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    n: sorted.length,
    p50Ms: round(rank(50)),
    p95Ms: round(rank(95)),
    minMs: round(sorted[0]!),
    maxMs: round(sorted.at(-1)!),
    meanMs: round(total / sorted.length),
    framesPerSecond: round((1000 * sorted.length) / total),
  };
}

/** Largest absolute element difference of two equally long tensors (NaN counts as a failure: Infinity). */
export function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`tensors: ${a.length} vs ${b.length} elements`);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    if (d > max) max = d;
  }
  return max;
}
