/**
 * @its/vision — the pure analytics core of ITS Camera AI: tracking, counting, zones, speed and
 * 60-second aggregation from per-frame detections, plus a deterministic synthetic-scene generator.
 * The ONNX detector and frame source live under the "./detector" subpath export.
 */
export {
  createCameraAnalytics,
  type AnalyticsCamera,
  type CameraAnalytics,
  type FrameDetections,
  type FrameResult,
  type TrackSnapshot,
} from './camera-analytics.js';
export { DEFAULT_ANALYTICS_OPTIONS, resolveAnalyticsOptions, type AnalyticsOptions } from './options.js';
export { VisionInputError, CalibrationError } from './errors.js';
export {
  iou,
  bottomCentre,
  signedDistanceToLine,
  lineParameterAtCrossing,
  segmentsIntersect,
  isPointInPolygon,
  polygonArea,
  areaOfBox,
  type Box,
  type Point,
} from './geometry.js';
export { solveAssignment, assignWithGate, type GatedAssignment, type Match } from './hungarian.js';
export { createBoxKalman, DEFAULT_KALMAN_NOISE, type BoxKalman, type KalmanNoise } from './kalman.js';
export {
  createTracker,
  expandBox,
  pickMajorityClass,
  type Tracker,
  type TrackerOptions,
  type TrackerDetection,
  type TrackView,
  type TrackState,
  type TrackerStep,
} from './tracker.js';
export {
  createLineTrackState,
  stepLineCounter,
  type LineCounterOptions,
  type LineTrackState,
  type LineStep,
} from './line-counter.js';
export { findZonesContaining, findOccupiedLaneClasses, stepDwell, type DwellStep } from './zones.js';
export {
  solveHomography,
  solveCalibration,
  applyHomography,
  solveLinearSystem,
  type Homography,
  type CalibrationMaps,
} from './homography.js';
export {
  estimateSpeedKmh,
  addGroundSample,
  projectToGround,
  fitSlope,
  type SpeedOptions,
  type SpeedTrack,
} from './speed.js';
export { percentile, mean, roundTo } from './statistics.js';
export {
  createIntervalAggregator,
  alignToInterval,
  INTERVAL_MS,
  type IntervalAggregator,
} from './aggregation.js';
export { deriveCrossingId, uuidV5, CROSSING_NAMESPACE, type CrossingKey } from './crossing-id.js';
export {
  createMotionGate,
  measureChangedFraction,
  DEFAULT_MOTION_GATE_OPTIONS,
  type MotionGate,
  type MotionGateOptions,
  type MotionDecision,
} from './motion-gate.js';
export * from './synthetic/index.js';
