export { createDetector, toJpegDetector, DetectorError, DEFAULT_MODEL_PATH } from './detector.js';
export type { Detector, DetectorOptions, ExecutionProvider, JpegDetector } from './detector.js';
export { decodeCenterNet, CENTERNET_STRIDE } from './decode-centernet.js';
export type { DecodeOptions } from './decode-centernet.js';
export { suppressOverlaps, iou, suppressionGroup } from './nms.js';
export type { NmsOptions } from './nms.js';
export { rgbToChw, parseInputSize, PreprocessError } from './preprocess.js';
export type { InputSize } from './preprocess.js';
export { COCO_LABELS, KEPT_CHANNELS } from './coco-labels.js';
