export { createRandom, type Random } from './prng.js';
export {
  simulateScene,
  projectVehicleBox,
  NO_NOISE,
  REALISTIC_NOISE,
  VEHICLE_SIZES,
  type Scene,
  type SceneSpec,
  type LaneSpec,
  type NoiseSpec,
  type GroundTruthVehicle,
  type GroundTruthCrossing,
} from './scene.js';
export {
  createRoadScene,
  ROAD_CALIBRATION,
  LANE_LINE_Y,
  SCREEN_LINE_Y,
  type RoadSceneOptions,
} from './road-scene.js';
export { createScriptedDetector, type ScriptedDetector } from './scripted-detector.js';
export {
  runScene,
  scoreScene,
  type SceneRun,
  type SceneScore,
  type CountCell,
  type SpeedCheck,
} from './evaluate.js';
export { sweepScenes, formatSweep, SWEEP_SETTINGS, type SweepSetting, type SweepSummary } from './sweep.js';
