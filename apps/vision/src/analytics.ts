/**
 * The narrow view of @its/vision's per-camera analytics the worker needs (tracker, counting, zones,
 * speed, aggregation live there; the worker only feeds frames and forwards results).
 */
import type { Camera, CrossingEvent, Detection, IntervalAggregate } from '@its/contracts';
import { createCameraAnalytics } from '@its/vision';

export interface FrameDetections {
  tsMs: number;
  detections: Detection[];
}

export interface CameraAnalytics {
  processFrame(f: FrameDetections): { crossings: CrossingEvent[]; closed: IntervalAggregate[] };
  flush(nowMs: number): IntervalAggregate[];
  /** The open minutes as they stand (sent as partial figures); absent: never sent. */
  snapshot?(): IntervalAggregate[];
  readonly tracksAlive: number;
}

export type AnalyticsCamera = Pick<Camera, 'id' | 'lines' | 'zones' | 'calibration'> & {
  frameAspect?: number;
};
export type AnalyticsFactory = (camera: AnalyticsCamera) => CameraAnalytics;

/** The real analytics from @its/vision, with its documented defaults. */
export const createDefaultAnalytics: AnalyticsFactory = (camera) => createCameraAnalytics(camera);
