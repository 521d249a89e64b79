/**
 * GPU check (packages/vision): does the detector give the same boxes on a GPU execution provider as on
 * the CPU, and how fast is each on one machine?
 *
 * One process measures one provider, so a provider that crashes or hangs (a GPU driver can) loses
 * only its own result; the comparison runs against the JSON that the CPU process wrote before it.
 *
 *   gpu-check --provider cpu|webgpu --model FILE --frames frames.json [--threads N] [--input WxH]
 *             [--iterations N] [--raw-frames K] [--reference cpu.json] [--json OUT.json]
 *   gpu-check --summary a.json b.json …      (prints a Markdown table of earlier runs)
 *
 * Per run: session creation time, the first detect() (WebGPU compiles its shaders there), detections
 * of every frame (warm pass), detect() latency over --iterations calls cycling the frames (and whether
 * a repeat call on a frame ever returns other detections: a moving result is a race), ONNX Runtime
 * run() latency alone, and, for a non-CPU provider, the largest element difference of the raw heatmap
 * and box tensors against a CPU session on the first --raw-frames frames.
 *
 * Runs here (CPU) with `npm run gpu-check -w @its/vision -- …` and on a machine without Node from the
 * pack that scripts/gpu-check-pack.ts bundles (see scripts/gpu-check-device.sh and README-detector.md).
 * Exit codes: 0 ran (and matched the reference, if given), 1 detections differ from the reference,
 * 2 the provider failed, 64 bad arguments.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Detection } from '@its/contracts';
import ort from 'onnxruntime-node';
import {
  createDetector,
  parseInputSize,
  rgbToChw,
  type ExecutionProvider,
  type InputSize,
} from '../src/detector/index.js';
import {
  DEFAULT_TOLERANCE,
  compareDetections,
  maxAbsDifference,
  summarizeLatency,
  type DetectionComparison,
  type LatencySummary,
} from './gpu-check-compare.js';

class UsageError extends Error {
  override name = 'UsageError';
}

interface FramesFile {
  width: number;
  height: number;
  count: number;
  data: Uint8Array;
  description: string;
}

export interface GpuCheckResult {
  provider: ExecutionProvider;
  threads: number;
  inputSize: InputSize;
  ok: boolean;
  error: string | null;
  machine: { node: string; cpu: string; cpuCount: number; onnxruntime: string };
  frames: { count: number; width: number; height: number; description: string };
  sessionCreateMs: number | null;
  firstDetectMs: number | null;
  detect: LatencySummary | null;
  ortRun: LatencySummary | null;
  /** Timed calls whose detections differed from the warm pass on the same frame (0 = deterministic). */
  repeatDiffering: number | null;
  /** Raw tensors against a CPU session (non-CPU providers only). */
  rawDifference: { frames: number; heatmapMaxAbs: number; whMaxAbsPx: number } | null;
  reference: { file: string; provider: string; threads: number; comparison: DetectionComparison } | null;
  detections: Detection[][];
}

function readOptions(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      provider: { type: 'string', default: 'cpu' },
      model: { type: 'string' },
      frames: { type: 'string' },
      threads: { type: 'string', default: '2' },
      input: { type: 'string', default: '512x288' },
      iterations: { type: 'string', default: '200' },
      'raw-frames': { type: 'string', default: '4' },
      reference: { type: 'string' },
      json: { type: 'string' },
      summary: { type: 'boolean', default: false },
    },
  });
  if (values.summary) return { mode: 'summary' as const, files: positionals };
  const problems: string[] = [];
  const provider = values.provider;
  if (provider !== 'cpu' && provider !== 'webgpu')
    problems.push(`--provider: "${provider}" is not cpu or webgpu`);
  const int = (name: string, text: string, min: number) => {
    const v = Number(text);
    if (!Number.isInteger(v) || v < min) problems.push(`--${name}: "${text}" must be an integer ≥ ${min}`);
    return v;
  };
  const threads = int('threads', values.threads, 1);
  const iterations = int('iterations', values.iterations, 1);
  const rawFrames = int('raw-frames', values['raw-frames'], 0);
  if (!values.model)
    problems.push('--model: required (the ONNX file, e.g. packages/vision/models/centernet-mbv3.onnx)');
  if (!values.frames) problems.push('--frames: required (the frames.json that gpu-check-pack writes)');
  let inputSize: InputSize = { width: 512, height: 288 };
  try {
    inputSize = parseInputSize(values.input);
  } catch (err) {
    problems.push(`--input: ${(err as Error).message}`);
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return {
    mode: 'run' as const,
    provider: provider as ExecutionProvider,
    model: values.model!,
    frames: values.frames!,
    threads,
    iterations,
    rawFrames,
    inputSize,
    reference: values.reference ?? null,
    json: values.json ?? null,
  };
}

function readFrames(manifestPath: string): FramesFile {
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of ['width', 'height', 'count'] as const) {
    if (!Number.isInteger(manifest[key]) || (manifest[key] as number) < 1) {
      problems.push(`${manifestPath}: ${key}: must be a positive integer`);
    }
  }
  if (typeof manifest.file !== 'string') problems.push(`${manifestPath}: file: must name the raw RGB24 file`);
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  const { width, height, count } = manifest as { width: number; height: number; count: number };
  const data = new Uint8Array(readFileSync(resolve(dirname(manifestPath), manifest.file as string)));
  if (data.length !== width * height * 3 * count) {
    throw new UsageError(
      `${manifestPath}: file: ${data.length} bytes is not ${count} frames of ${width}×${height} RGB24`,
    );
  }
  return { width, height, count, data, description: String(manifest.description ?? '') };
}

function readReference(file: string): { provider: string; threads: number; detections: Detection[][] } {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<GpuCheckResult>;
  if (!raw.ok)
    throw new UsageError(`--reference ${file}: ok: that run failed (${raw.error ?? 'no error text'})`);
  const parsed = Detection.array().array().safeParse(raw.detections);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`--reference ${file}: detections.${issue.path.join('.')}: ${issue.message}`);
  }
  return { provider: String(raw.provider), threads: Number(raw.threads), detections: parsed.data };
}

const frameAt = (frames: FramesFile, i: number) => {
  const size = frames.width * frames.height * 3;
  return frames.data.subarray(i * size, (i + 1) * size);
};

async function runCheck(
  opts: Extract<ReturnType<typeof readOptions>, { mode: 'run' }>,
): Promise<GpuCheckResult> {
  const frames = readFrames(opts.frames);
  const reference = opts.reference ? readReference(opts.reference) : null;
  const result: GpuCheckResult = {
    provider: opts.provider,
    threads: opts.threads,
    inputSize: opts.inputSize,
    ok: false,
    error: null,
    machine: {
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cpuCount: cpus().length,
      onnxruntime: ort.env.versions.common ?? 'unknown',
    },
    frames: {
      count: frames.count,
      width: frames.width,
      height: frames.height,
      description: frames.description,
    },
    sessionCreateMs: null,
    firstDetectMs: null,
    detect: null,
    ortRun: null,
    repeatDiffering: null,
    rawDifference: null,
    reference: null,
    detections: [],
  };
  const step = (text: string) => console.error(`[gpu-check ${opts.provider}] ${text}`);
  try {
    let t0 = performance.now();
    const detector = await createDetector({
      modelPath: opts.model,
      provider: opts.provider,
      threads: opts.threads,
      inputSize: opts.inputSize,
    });
    result.sessionCreateMs = round(performance.now() - t0);
    step(`session created in ${result.sessionCreateMs} ms`);
    t0 = performance.now();
    await detector.detect(frameAt(frames, 0), frames.width, frames.height);
    result.firstDetectMs = round(performance.now() - t0);
    for (let i = 0; i < frames.count; i++) {
      result.detections.push(await detector.detect(frameAt(frames, i), frames.width, frames.height));
    }
    const warmJson = result.detections.map((d) => JSON.stringify(d));
    const times: number[] = [];
    let differing = 0;
    for (let k = 0; k < opts.iterations; k++) {
      const i = k % frames.count;
      const rgb = frameAt(frames, i);
      const t = performance.now();
      const dets = await detector.detect(rgb, frames.width, frames.height);
      times.push(performance.now() - t);
      if (JSON.stringify(dets) !== warmJson[i]) differing += 1;
    }
    await detector.close();
    result.detect = summarizeLatency(times);
    result.repeatDiffering = differing;
    step(`detect() p50 ${result.detect.p50Ms} ms, p95 ${result.detect.p95Ms} ms over ${times.length} calls`);

    const raw = await measureRawSession(opts, frames);
    result.ortRun = raw.ortRun;
    result.rawDifference = raw.rawDifference;
    result.ok = true;
  } catch (err) {
    result.error = (err as Error).message;
    step(`FAILED: ${result.error}`);
    return result;
  }
  if (reference) {
    result.reference = {
      file: opts.reference!,
      provider: reference.provider,
      threads: reference.threads,
      comparison: compareDetections(
        reference.detections,
        result.detections,
        opts.inputSize,
        DEFAULT_TOLERANCE,
      ),
    };
  }
  return result;
}

/** ORT run() alone (no preprocess, decode or NMS), plus raw tensors against CPU for a GPU provider. */
async function measureRawSession(
  opts: Extract<ReturnType<typeof readOptions>, { mode: 'run' }>,
  frames: FramesFile,
): Promise<Pick<GpuCheckResult, 'ortRun' | 'rawDifference'>> {
  const { width, height } = opts.inputSize;
  const sessionFor = (provider: ExecutionProvider) =>
    ort.InferenceSession.create(opts.model, {
      executionProviders: [provider],
      intraOpNumThreads: opts.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // Warnings include "some nodes were not assigned to the preferred execution providers": a GPU
      // run that silently does part of the graph on the CPU should say so in the log.
      logSeverityLevel: 2,
    });
  const inputs = Array.from({ length: frames.count }, (_, i) =>
    rgbToChw(frameAt(frames, i), frames.width, frames.height, opts.inputSize),
  );
  const feed = (chw: Float32Array) => ({ images: new ort.Tensor('float32', chw, [1, 3, height, width]) });
  const session = await sessionFor(opts.provider);
  for (let i = 0; i < Math.min(3, frames.count); i++) await session.run(feed(inputs[i]!));
  const times: number[] = [];
  for (let k = 0; k < opts.iterations; k++) {
    const t = performance.now();
    await session.run(feed(inputs[k % frames.count]!));
    times.push(performance.now() - t);
  }
  let rawDifference: GpuCheckResult['rawDifference'] = null;
  const rawFrames = Math.min(opts.rawFrames, frames.count);
  if (opts.provider !== 'cpu' && rawFrames > 0) {
    const cpu = await sessionFor('cpu');
    let heatmapMaxAbs = 0;
    let whMaxAbsPx = 0;
    for (let i = 0; i < rawFrames; i++) {
      const a = await session.run(feed(inputs[i]!));
      const b = await cpu.run(feed(inputs[i]!));
      heatmapMaxAbs = Math.max(
        heatmapMaxAbs,
        maxAbsDifference(a.heatmap!.data as Float32Array, b.heatmap!.data as Float32Array),
      );
      whMaxAbsPx = Math.max(
        whMaxAbsPx,
        maxAbsDifference(a.wh!.data as Float32Array, b.wh!.data as Float32Array),
      );
    }
    await cpu.release();
    rawDifference = { frames: rawFrames, heatmapMaxAbs, whMaxAbsPx };
  }
  await session.release();
  return { ortRun: summarizeLatency(times), rawDifference };
}

function formatSummary(files: string[]): string {
  const rows = files.map((file) => ({ file, r: JSON.parse(readFileSync(file, 'utf8')) as GpuCheckResult }));
  const lines = [
    '| run | provider | threads | input | session ms | first detect ms | detect p50 / p95 ms | detect fps | ORT run p50 / p95 ms | vs reference |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const { file, r } of rows) {
    const name = file.replace(/^.*\//, '').replace(/\.json$/, '');
    const size = `${r.inputSize.width}×${r.inputSize.height}`;
    if (!r.ok) {
      lines.push(
        `| ${name} | ${r.provider} | ${r.threads} | ${size} | FAILED: ${r.error?.split('\n')[0]} | | | | | |`,
      );
      continue;
    }
    const c = r.reference?.comparison;
    const verdict = c
      ? `${c.pass ? 'same' : 'DIFFERENT'}: ${c.matched}/${c.referenceDetections} matched, ${c.mismatches.length} mismatches, ${c.borderline} borderline, min IoU ${c.minMatchedIou.toFixed(4)}, max edge ${c.maxEdgeDiffPx.toFixed(3)} px, max score ${c.maxScoreDiff.toExponential(1)}`
      : '—';
    lines.push(
      `| ${name} | ${r.provider} | ${r.threads} | ${size} | ${r.sessionCreateMs} | ${r.firstDetectMs} | ${r.detect!.p50Ms} / ${r.detect!.p95Ms} | ${r.detect!.framesPerSecond} | ${r.ortRun!.p50Ms} / ${r.ortRun!.p95Ms} | ${verdict} |`,
    );
  }
  return lines.join('\n');
}

const round = (v: number) => Math.round(v * 100) / 100;

async function main(argv: string[]): Promise<number> {
  let opts: ReturnType<typeof readOptions>;
  try {
    opts = readOptions(argv);
  } catch (err) {
    console.error((err as Error).message);
    return 64;
  }
  if (opts.mode === 'summary') {
    console.log(formatSummary(opts.files));
    return 0;
  }
  let result: GpuCheckResult;
  try {
    result = await runCheck(opts);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(err.message);
      return 64;
    }
    throw err;
  }
  const text = JSON.stringify(result, null, 1);
  if (opts.json) writeFileSync(opts.json, text + '\n');
  if (!result.ok) return 2;
  const c = result.reference?.comparison;
  console.log(
    JSON.stringify({
      provider: result.provider,
      threads: result.threads,
      detect: result.detect,
      ortRun: result.ortRun,
      repeatDiffering: result.repeatDiffering,
      rawDifference: result.rawDifference,
      comparison: c ? { ...c, mismatches: c.mismatches.slice(0, 5) } : null,
    }),
  );
  return c && !c.pass ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
