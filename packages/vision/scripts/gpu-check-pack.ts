/**
 * Builds the self-contained GPU-check pack: `<repo>/.gpu-pack/gpu-check.tar.xz`.
 *
 * Why a pack: the lent GPU machine has no Node and reaches no registry, and what travels there is
 * limited to 64 MiB, while the repo's node_modules is gigabytes. The pack holds only what
 * scripts/gpu-check.ts needs at run time: this machine's Node binary (x86-64 Linux, glibc), the
 * check bundled by esbuild into one ESM file (detector, decode, NMS, contracts/zod inlined; sharp
 * replaced by a stub because the check feeds raw frames), onnxruntime-node with its Linux x64
 * binaries only, onnxruntime-common, and 32 raw RGB24 frames cut from the detector's test photo.
 * The model stays where it is tracked (packages/vision/models), which travels with the tree.
 * Compressed with xz (≈ 40 MB from ≈ 160 MB); gpu-check-device.sh unpacks it with Python's tarfile,
 * which every image with Python has, in case the machine has no xz binary.
 *
 *   npm run gpu-check:pack -w @its/vision          (needs ffmpeg, tar and xz here)
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const packDir = join(repoRoot, '.gpu-pack');
const packFile = join(packDir, 'gpu-check.tar.xz');
const FRAME = { width: 512, height: 288 };

/** ffmpeg argument lists, one per group of frames: a virtual camera over a real street photo. */
export function planFrameCommands(photo: string): Array<{ args: string[]; frames: number; what: string }> {
  const scale = `scale=${FRAME.width}:${FRAME.height}:flags=bilinear`;
  // One still (frames 1) or a pan over the looped photo (frames > 1), as raw RGB on stdout.
  const ffmpeg = (filter: string, frames: number) => [
    '-v',
    'error',
    ...(frames > 1 ? ['-loop', '1'] : []),
    '-i',
    photo,
    '-vf',
    `${filter}${scale}`,
    '-frames:v',
    String(frames),
    ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
  ];
  return [
    { what: 'whole photo', frames: 1, args: ffmpeg('', 1) },
    { what: 'whole photo mirrored', frames: 1, args: ffmpeg('hflip,', 1) },
    {
      // 16:9 crop panning left to right: people enter, cross and leave the frame at various scales.
      what: '780×439 pan',
      frames: 15,
      args: ffmpeg("crop=w=780:h=439:x='(iw-ow)*n/14':y='(ih-oh)/2',", 15),
    },
    {
      what: '640×360 mirrored diagonal pan',
      frames: 15,
      args: ffmpeg("hflip,crop=w=640:h=360:x='(iw-ow)*n/14':y='(ih-oh)*n/14',", 15),
    },
  ];
}

async function main(): Promise<void> {
  const stage = mkdtempSync(join(tmpdir(), 'its-gpu-pack-'));
  try {
    const photo = require.resolve('autocannon/test/j5.jpeg');
    const plans = planFrameCommands(photo);
    const chunks = plans.map((p) => execFileSync('ffmpeg', p.args, { maxBuffer: 64 * 1024 * 1024 }));
    const frames = Buffer.concat(chunks);
    const count = plans.reduce((s, p) => s + p.frames, 0);
    if (frames.length !== count * FRAME.width * FRAME.height * 3) {
      throw new Error(
        `frames: ffmpeg wrote ${frames.length} bytes, expected ${count} frames of ${FRAME.width}×${FRAME.height}`,
      );
    }
    writeFileSync(join(stage, 'frames.rgb'), frames);
    writeFileSync(
      join(stage, 'frames.json'),
      JSON.stringify({
        ...FRAME,
        count,
        file: 'frames.rgb',
        description: `autocannon/test/j5.jpeg: ${plans.map((p) => `${p.frames}× ${p.what}`).join(', ')}`,
      }),
    );

    await build({
      entryPoints: [join(here, 'gpu-check.ts')],
      outfile: join(stage, 'gpu-check.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['source'],
      external: ['onnxruntime-node'],
      logLevel: 'warning',
      plugins: [
        {
          // The check never decodes JPEGs (detectJpeg); sharp's native libvips would cost ~30 MB.
          name: 'stub-sharp',
          setup(b) {
            b.onResolve({ filter: /^sharp$/ }, () => ({ path: 'sharp', namespace: 'stub' }));
            b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
              contents:
                'export default function sharp() { throw new Error("sharp is not in the GPU-check pack: use detect() with raw frames"); }',
              loader: 'js',
            }));
          },
        },
      ],
    });

    const ortNode = dirname(require.resolve('onnxruntime-node/package.json'));
    // onnxruntime-common's exports map hides package.json: resolve its entry and cut back to the folder.
    const commonEntry = createRequire(join(ortNode, 'package.json')).resolve('onnxruntime-common');
    const ortCommon = commonEntry.slice(
      0,
      commonEntry.lastIndexOf('onnxruntime-common') + 'onnxruntime-common'.length,
    );
    const nm = join(stage, 'node_modules');
    mkdirSync(join(nm, 'onnxruntime-node', 'bin', 'napi-v6', 'linux'), { recursive: true });
    cpSync(join(ortNode, 'package.json'), join(nm, 'onnxruntime-node', 'package.json'));
    cpSync(join(ortNode, 'dist'), join(nm, 'onnxruntime-node', 'dist'), { recursive: true });
    cpSync(
      join(ortNode, 'bin', 'napi-v6', 'linux', 'x64'),
      join(nm, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64'),
      {
        recursive: true,
      },
    );
    cpSync(ortCommon, join(nm, 'onnxruntime-common'), { recursive: true });
    cpSync(process.execPath, join(stage, 'node'));

    mkdirSync(packDir, { recursive: true });
    rmSync(packFile, { force: true });
    // tar | xz rather than tar -J so the xz thread count is ours (2 shared cores here).
    execFileSync('sh', ['-c', 'tar -cf - -C "$1" . | xz -T2 -6 > "$2"', 'sh', stage, packFile], {
      stdio: 'inherit',
    });
    console.log(
      `${packFile}: ${(statSync(packFile).size / 1048576).toFixed(1)} MiB (${count} frames, Node ${process.version})`,
    );
    try {
      execFileSync('git', ['-C', repoRoot, 'check-ignore', '-q', packFile]);
    } catch {
      console.log(
        `note: ${packDir} is not ignored by git; add "/.gpu-pack/" to .git/info/exclude before the device run`,
      );
    }
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

await main();
