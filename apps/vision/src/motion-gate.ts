/**
 * Motion gating: a static scene (empty road at night, traffic stopped at a light) does not need the
 * model every frame. The gate compares a coarse grey thumbnail of the frame with the thumbnail of the
 * last frame that *was* inferred, so slow drift accumulates and eventually triggers inference.
 */
export interface MotionGateOptions {
  /** Mean absolute grey difference (0..1) at or above which the frame is inferred. */
  threshold: number;
  /** Sample every `step`-th pixel in x and y (8: a 512×288 frame becomes 64×36). */
  step?: number;
  /** Infer at least every this many frames even if static, so a scene cannot stay stale forever. */
  maxSkippedFrames?: number;
}

export interface MotionGate {
  /** Decides for one frame; when it answers `infer: true` the frame becomes the new reference. */
  check(rgb: Uint8Array, width: number, height: number): { infer: boolean; difference: number };
}

export function thumbnail(rgb: Uint8Array, width: number, height: number, step: number): Uint8Array {
  const tw = Math.ceil(width / step);
  const th = Math.ceil(height / step);
  const out = new Uint8Array(tw * th);
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      const j = (ty * step * width + tx * step) * 3;
      // Integer luma approximation (BT.601 weights ×256).
      out[ty * tw + tx] = (77 * rgb[j]! + 150 * rgb[j + 1]! + 29 * rgb[j + 2]!) >> 8;
    }
  }
  return out;
}

export function createMotionGate(options: MotionGateOptions): MotionGate {
  const step = options.step ?? 8;
  const maxSkipped = options.maxSkippedFrames ?? 50;
  let reference: Uint8Array | null = null;
  let skipped = 0;
  return {
    check(rgb, width, height) {
      const thumb = thumbnail(rgb, width, height, step);
      let difference = 1;
      if (reference && reference.length === thumb.length) {
        let sum = 0;
        for (let i = 0; i < thumb.length; i++) sum += Math.abs(thumb[i]! - reference[i]!);
        difference = sum / (thumb.length * 255);
      }
      const infer = difference >= options.threshold || skipped >= maxSkipped;
      if (infer) {
        reference = thumb;
        skipped = 0;
      } else {
        skipped++;
      }
      return { infer, difference };
    },
  };
}
