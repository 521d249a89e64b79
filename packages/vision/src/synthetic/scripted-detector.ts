/**
 * A stand-in for the real detector that replays a scene's detections: `detect(tsMs)` returns what a
 * detector would have returned for the frame taken at that time, so the analytics can be driven
 * exactly as the worker drives them.
 */
import type { FrameDetections } from '../camera-analytics.js';

export interface ScriptedDetector {
  readonly frameCount: number;
  /** Detections of the frame at tsMs; an empty list for a time with no scripted frame. */
  detect(tsMs: number): FrameDetections['detections'];
  /** The frames in order, as the worker's frame loop would see them. */
  frames(): IterableIterator<FrameDetections>;
}

export function createScriptedDetector(frames: readonly FrameDetections[]): ScriptedDetector {
  const byTs = new Map(frames.map((f) => [f.tsMs, f.detections]));
  return {
    frameCount: frames.length,
    detect: (tsMs) => (byTs.get(tsMs) ?? []).map((d) => ({ ...d, box: { ...d.box } })),
    *frames() {
      for (const f of frames)
        yield {
          tsMs: f.tsMs,
          detections: (byTs.get(f.tsMs) ?? []).map((d) => ({ ...d, box: { ...d.box } })),
        };
    },
  };
}
