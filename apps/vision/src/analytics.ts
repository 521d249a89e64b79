/**
 * The narrow view of @its/vision's per-camera analytics the worker needs (tracker, counting, zones,
 * speed, aggregation live there; the worker only feeds frames and forwards results).
 */
import type { Camera, CrossingEvent, Detection, IntervalAggregate } from '@its/contracts';

export interface FrameDetections {
  tsMs: number;
  detections: Detection[];
}

export interface CameraAnalytics {
  processFrame(f: FrameDetections): { crossings: CrossingEvent[]; closed: IntervalAggregate[] };
  flush(nowMs: number): IntervalAggregate[];
  readonly tracksAlive: number;
}

export type AnalyticsCamera = Pick<Camera, 'id' | 'lines' | 'zones' | 'calibration'> & {
  frameAspect?: number;
};
export type AnalyticsFactory = (camera: AnalyticsCamera) => CameraAnalytics;

/** Loads the real analytics from @its/vision. */
export async function loadDefaultAnalyticsFactory(): Promise<AnalyticsFactory> {
  const mod = (await import('@its/vision')) as unknown as { createCameraAnalytics?: AnalyticsFactory };
  if (typeof mod.createCameraAnalytics !== 'function') {
    throw new Error('@its/vision does not export createCameraAnalytics');
  }
  const create = mod.createCameraAnalytics;
  return (camera) => create(camera);
}
