import { fileURLToPath } from 'node:url';
import type { Detection } from '@its/contracts';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { decodeCenterNet } from './decode-centernet.js';
import { suppressOverlaps } from './nms.js';
import { rgbToChw, type InputSize } from './preprocess.js';

/** The committed ONNX model (see packages/vision/README-detector.md); same relative path from src/ and dist/. */
export const DEFAULT_MODEL_PATH = fileURLToPath(new URL('../../models/centernet-mbv3.onnx', import.meta.url));

export type ExecutionProvider = 'cpu' | 'webgpu';

export interface DetectorOptions {
  /** ONNX file. Default: the committed CenterNet-MobileNetV3 model. */
  modelPath?: string;
  /** 'cpu' (default: works everywhere) or 'webgpu' (the GPU image; ORT reaches the GPU through Vulkan). */
  provider?: ExecutionProvider;
  /** Intra-op threads. Default 2: the edge box and CI have two cores; more threads fight the decoder. */
  threads?: number;
  /** Network input. Default 512×288: 16:9 like most traffic cameras, ≈ 40 ms on two CPU cores. */
  inputSize?: InputSize;
  /** Minimum heatmap score. Default 0.3: below it CenterNet's peaks on traffic are mostly clutter. */
  scoreThreshold?: number;
  /** IoU above which the weaker of two overlapping boxes is dropped. Default 0.5. */
  iouThreshold?: number;
  /** At most this many detections per frame. Default 100, the graph's own top-k. */
  maxDetections?: number;
}

export interface Detector {
  readonly inputSize: InputSize;
  readonly provider: ExecutionProvider;
  /** Detects on an interleaved RGB24 frame; boxes are normalised to the frame. */
  detect(rgb: Uint8Array, width: number, height: number): Promise<Detection[]>;
  /** Decodes a JPEG (or PNG/WebP) with sharp, stretched to the input size, and detects. */
  detectJpeg(jpeg: Buffer): Promise<Detection[]>;
  close(): Promise<void>;
}

export class DetectorError extends Error {
  override name = 'DetectorError';
}

/** Loads the model and returns a detector whose calls are serialised (one ORT run at a time). */
export async function createDetector(options: DetectorOptions = {}): Promise<Detector> {
  const inputSize = options.inputSize ?? { width: 512, height: 288 };
  const provider = options.provider ?? 'cpu';
  const threads = options.threads ?? 2;
  const scoreThreshold = options.scoreThreshold ?? 0.3;
  const iouThreshold = options.iouThreshold ?? 0.5;
  const maxDetections = options.maxDetections ?? 100;
  const modelPath = options.modelPath ?? DEFAULT_MODEL_PATH;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelPath, {
      executionProviders: [provider],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new DetectorError(
      `detector: cannot load ${modelPath} with provider ${provider}: ${(err as Error).message}`,
    );
  }
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;

  const infer = async (chw: Float32Array): Promise<Detection[]> => {
    const feeds = { images: new ort.Tensor('float32', chw, [1, 3, inputSize.height, inputSize.width]) };
    const out = await session.run(feeds);
    const heatmap = out.heatmap!;
    const wh = out.wh!;
    const [, , gh, gw] = heatmap.dims as number[];
    const candidates = decodeCenterNet(heatmap.data as Float32Array, wh.data as Float32Array, gw!, gh!, {
      inputWidth: inputSize.width,
      inputHeight: inputSize.height,
      scoreThreshold,
      maxCandidates: 4 * maxDetections,
    });
    return suppressOverlaps(candidates, { iouThreshold, maxDetections });
  };
  const serialise = <T>(job: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new DetectorError('detector: closed'));
    const next = chain.then(job, job);
    chain = next.catch(() => undefined);
    return next;
  };

  return {
    inputSize,
    provider,
    detect: (rgb, width, height) => serialise(() => infer(rgbToChw(rgb, width, height, inputSize))),
    detectJpeg: (jpeg) =>
      serialise(async () => {
        let raw: Buffer;
        try {
          raw = await sharp(jpeg)
            .removeAlpha()
            .resize(inputSize.width, inputSize.height, { fit: 'fill' })
            .raw()
            .toBuffer();
        } catch (err) {
          throw new DetectorError(`image: cannot decode (${(err as Error).message})`);
        }
        return infer(rgbToChw(raw, inputSize.width, inputSize.height, inputSize));
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      await chain;
      await session.release();
    },
  };
}

/** The shape the API's POST /api/v1/detect takes: JPEG in, detections out. */
export interface JpegDetector {
  detect(jpeg: Buffer): Promise<Detection[]>;
}

export function toJpegDetector(detector: Pick<Detector, 'detectJpeg'>): JpegDetector {
  return { detect: (jpeg) => detector.detectJpeg(jpeg) };
}
