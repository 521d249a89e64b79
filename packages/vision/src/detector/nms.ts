import type { Detection } from '@its/contracts';

type Box = Detection['box'];

export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}

export interface NmsOptions {
  iouThreshold: number;
  maxDetections: number;
}

/**
 * Classes that suppress each other. CenterNet often fires "car" and "truck" (or "bus") on the same
 * vehicle; counting both would double the volume, so the higher score wins. A rider and the bicycle
 * under them overlap too but are both real, so those stay separate.
 */
export function suppressionGroup(cls: Detection['class']): string {
  return cls === 'car' || cls === 'truck' || cls === 'bus' ? 'motor-vehicle' : cls;
}

/** Greedy non-maximum suppression, highest score first. Pure; the input is not modified. */
export function suppressOverlaps(detections: readonly Detection[], options: NmsOptions): Detection[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (kept.length >= options.maxDetections) break;
    const overlaps = kept.some(
      (k) =>
        suppressionGroup(k.class) === suppressionGroup(d.class) && iou(k.box, d.box) > options.iouThreshold,
    );
    if (!overlaps) kept.push(d);
  }
  return kept;
}
