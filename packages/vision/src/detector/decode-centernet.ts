import type { Detection, VehicleClass } from '@its/contracts';
import { KEPT_CHANNELS } from './coco-labels.js';

/** CenterNet's output stride: one heatmap cell per 4×4 input pixels. */
export const CENTERNET_STRIDE = 4;

export interface DecodeOptions {
  /** Input size the network saw, in pixels; boxes are normalised by it. */
  inputWidth: number;
  inputHeight: number;
  /** Minimum heatmap peak kept. */
  scoreThreshold: number;
  /** Heatmap channels to decode (COCO index → our class). */
  channels?: ReadonlyMap<number, VehicleClass>;
  /** Upper bound on candidates, highest scores first (keeps a noisy frame from flooding NMS). */
  maxCandidates?: number;
}

/**
 * Heatmap peaks → boxes, the JS equivalent of the graph's own 3×3 max-pool + top-k tail (cut off by
 * the converter so the network stays fully convolutional). `heatmap` is [C, h, w], `wh` is [4, h, w]
 * holding the distances (input pixels) from the cell centre to the left, top, right and bottom edges.
 */
export function decodeCenterNet(
  heatmap: Float32Array,
  wh: Float32Array,
  gridWidth: number,
  gridHeight: number,
  options: DecodeOptions,
): Detection[] {
  const channels = options.channels ?? KEPT_CHANNELS;
  const cells = gridWidth * gridHeight;
  const out: Detection[] = [];
  for (const [channel, cls] of channels) {
    const base = channel * cells;
    for (let y = 0; y < gridHeight; y++) {
      for (let x = 0; x < gridWidth; x++) {
        const v = heatmap[base + y * gridWidth + x]!;
        if (v < options.scoreThreshold || !isLocalMax(heatmap, base, gridWidth, gridHeight, x, y, v))
          continue;
        const k = y * gridWidth + x;
        const cx = x * CENTERNET_STRIDE;
        const cy = y * CENTERNET_STRIDE;
        const x1 = clamp01((cx - wh[k]!) / options.inputWidth);
        const y1 = clamp01((cy - wh[cells + k]!) / options.inputHeight);
        const x2 = clamp01((cx + wh[2 * cells + k]!) / options.inputWidth);
        const y2 = clamp01((cy + wh[3 * cells + k]!) / options.inputHeight);
        if (x2 <= x1 || y2 <= y1) continue;
        out.push({ class: cls, score: Math.min(1, v), box: { x: x1, y: y1, w: x2 - x1, h: y2 - y1 } });
      }
    }
  }
  out.sort((a, b) => b.score - a.score);
  return options.maxCandidates !== undefined ? out.slice(0, options.maxCandidates) : out;
}

/** A 3×3 max-pool peak: no neighbour is larger (ties keep the first, as TF's Equal(x, maxpool(x)) keeps all). */
function isLocalMax(
  hm: Float32Array,
  base: number,
  w: number,
  h: number,
  x: number,
  y: number,
  v: number,
): boolean {
  for (let dy = -1; dy <= 1; dy++) {
    const yy = y + dy;
    if (yy < 0 || yy >= h) continue;
    for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx;
      if (xx < 0 || xx >= w || (dx === 0 && dy === 0)) continue;
      if (hm[base + yy * w + xx]! > v) return false;
    }
  }
  return true;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
