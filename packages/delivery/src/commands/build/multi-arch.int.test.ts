/**
 * linux/arm64 for real, on the real Docker Engine under QEMU: `itsctl build --platform
 * linux/amd64,linux/arm64` gives an edge image per platform; the arm64 one is an aarch64 image with
 * Node 24 whose detector (ONNX Runtime's arm64 binary, emulated) finds the same boxes as the amd64
 * image on the same frames; both are published to a real registry, assembled into one index by
 * `itsctl registry index`, and `docker pull --platform` of that index gives each platform its image.
 *
 * Creates the arm64 base images itself (scripts/bootstrap-base-images.sh --arch arm64, idempotent) and
 * needs a registered qemu-aarch64 handler (npm test's setup registers it). Without one the build step
 * fails with the reason, which fails this suite: it is never skipped.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/io.js';
import { runCli } from '../../cli/program.js';
import { environmentRepository } from '@its/registry';
import { startLocalRegistry, type LocalRegistry } from '@its/registry/testing';
import { emulationRunArgs } from '@its/image-build';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const DOCKER = process.env.DOCKER_BIN ?? '/usr/bin/docker';
const ROOT = resolve(new URL('../../../../../', import.meta.url).pathname);
const IMAGE = 'its-camera-ai';
const AMD64 = `${IMAGE}:edge`;
const ARM64 = `${IMAGE}:edge-arm64`;
const FRAME = { width: 512, height: 288 };
/** Emulated builds and inference are slow; bounded all the same. */
const LONG = 45 * 60_000;

let state: string;
let registry: LocalRegistry;
const pulled: string[] = [];

async function itsctl(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: { ...process.env, DOCKER_BIN: DOCKER, ITS_STATE_DIR: state, ...env },
    cwd: ROOT,
    now: () => new Date(),
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

async function docker(args: string[], timeout = 10 * 60_000) {
  const { stdout } = await run(DOCKER, args, { timeout, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface Found {
  class: string;
  score: number;
  box: Box;
}

function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}

/** The image's own detector over the frames file, inside the container (docker/checks/detect-frames.mjs). */
async function detectIn(image: string, dir: string): Promise<{ arch: string; detections: Found[][] }> {
  const out = await docker(
    [
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      'node',
      '-v',
      `${join(ROOT, 'docker/checks')}:/checks:ro`,
      '-v',
      `${dir}:/frames:ro`,
      // An aarch64 process under QEMU needs an ARM /proc/cpuinfo for ONNX Runtime (build/emulation.ts).
      ...emulationRunArgs(image === ARM64 ? 'arm64' : 'amd64', 'amd64', 2),
      image,
      '/checks/detect-frames.mjs',
      '/frames/frames.rgb',
      String(FRAME.width),
      String(FRAME.height),
    ],
    15 * 60_000,
  );
  return JSON.parse(out.split('\n').at(-1) ?? '{}') as { arch: string; detections: Found[][] };
}

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'its-multiarch-'));
  // The arm64 base images (idempotent: seconds when they exist, ≈ 2.5 min the first time), so
  // `npm test` on a fresh machine needs nothing else; .ci/run's arm64 stage has made them already.
  await run(join(ROOT, 'scripts/bootstrap-base-images.sh'), ['--arch', 'arm64'], {
    cwd: ROOT,
    timeout: 20 * 60_000,
  });
  // Layer-cached: seconds when CI's container stage built these already, minutes from cold.
  const built = await itsctl([
    'build',
    '--target',
    'edge',
    '--platform',
    'linux/amd64,linux/arm64',
    // The version CI's container stages build with, so their layers and labels are reused as they are.
    '--version',
    (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    '--json',
  ]);
  if (built.code !== 0) throw new Error(`itsctl build failed (${built.code}):\n${built.stderr.slice(-3000)}`);
  registry = await startLocalRegistry();
}, LONG);

afterAll(async () => {
  if (pulled.length) await run(DOCKER, ['rmi', '-f', ...pulled]).catch(() => undefined);
  await registry?.destroy();
  if (state) await rm(state, { recursive: true, force: true });
});

describe('linux/arm64 edge image (emulated)', () => {
  it('is an aarch64 image with Node 24 and the arm64 native addons', async () => {
    expect(await docker(['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', ARM64])).toBe(
      'linux/arm64',
    );
    const out = await docker([
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      'sh',
      ...emulationRunArgs('arm64', 'amd64', 2),
      ARM64,
      '-c',
      'uname -m; node -p "process.version + \\" \\" + process.arch"; ls /app/node_modules/onnxruntime-node/bin/napi-v6/linux',
    ]);
    const [machine, node, ortArchs] = out.split('\n');
    expect(machine).toBe('aarch64');
    expect(node).toMatch(/^v24\.\d+\.\d+ arm64$/);
    // Only this platform's ONNX Runtime binaries were kept (prod-deps prunes the others).
    expect(ortArchs).toBe('arm64');
  });

  it(
    'detects the same objects as the amd64 image on the same frames',
    async () => {
      // Three real frames from the detector's test photo (a city street): whole, mirrored, a crop.
      const photo = require.resolve('autocannon/test/j5.jpeg');
      const scale = `scale=${FRAME.width}:${FRAME.height}:flags=bilinear`;
      const frames = await Promise.all(
        ['', 'hflip,', 'crop=w=780:h=439:x=200:y=70,'].map(async (filter) => {
          const { stdout } = await promisify(execFile)(
            'ffmpeg',
            ['-v', 'error', '-i', photo, '-vf', `${filter}${scale}`, '-frames:v', '1'].concat([
              '-f',
              'rawvideo',
              '-pix_fmt',
              'rgb24',
              '-',
            ]),
            { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 },
          );
          return stdout;
        }),
      );
      const dir = await mkdtemp(join(tmpdir(), 'its-frames-'));
      try {
        // The images run as uid 1000: the frames must be readable by others.
        await chmod(dir, 0o755);
        await writeFile(join(dir, 'frames.rgb'), Buffer.concat(frames), { mode: 0o644 });
        const reference = await detectIn(AMD64, dir);
        const emulated = await detectIn(ARM64, dir);
        expect(reference.arch).toBe('x64');
        expect(emulated.arch).toBe('arm64');
        expect(emulated.detections).toHaveLength(3);
        // The photo's three people (detector.test.ts) must be there, or the comparison proves nothing.
        expect(reference.detections[0]!.filter((d) => d.class === 'person').length).toBeGreaterThanOrEqual(3);
        for (const [f, ref] of reference.detections.entries()) {
          const got = emulated.detections[f]!;
          // Both compute in fp32; arm64 and x86 kernels round differently, so a detection within 0.02
          // of the 0.3 threshold may fall on the other side. Everything else must match.
          const firm = (ds: Found[]) => ds.filter((d) => d.score >= 0.32);
          for (const r of firm(ref)) {
            const best = got
              .filter((g) => g.class === r.class)
              .reduce<{ iou: number; score: number }>(
                (acc, g) => (iou(g.box, r.box) > acc.iou ? { iou: iou(g.box, r.box), score: g.score } : acc),
                { iou: 0, score: 0 },
              );
            expect(best.iou, `frame ${f}: ${r.class} at ${JSON.stringify(r.box)}`).toBeGreaterThanOrEqual(
              0.9,
            );
            expect(Math.abs(best.score - r.score)).toBeLessThanOrEqual(0.02);
          }
          expect(firm(got).length).toBe(firm(ref).length);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    LONG,
  );
});

describe('two-platform index', () => {
  it(
    'publishes both platforms, assembles one index, and docker pull --platform gives each its image',
    async () => {
      const env = { DOCKER_REGISTRY: registry.host, IMAGE_NAME: IMAGE, DOCKER_CONFIG: join(state, 'docker') };
      const digests: Record<string, string> = {};
      for (const [arch, local] of [
        ['amd64', AMD64],
        ['arm64', ARM64],
      ] as const) {
        const published = await itsctl(
          ['publish', '--image', local, '--tag', `0.0.0-edge-${arch}`, '--json'],
          env,
        );
        expect(published.stderr).not.toMatch(/itsctl:/);
        expect(published.code).toBe(0);
        const result = JSON.parse(published.stdout) as { digest: string; references: string[] };
        digests[arch] = result.digest;
        pulled.push(...result.references.filter((r) => !r.includes('@')));
      }
      const indexed = await itsctl(
        [
          'registry',
          'index',
          '--tag',
          '0.0.0-edge',
          '--from',
          '0.0.0-edge-amd64',
          '--from',
          '0.0.0-edge-arm64',
          '--json',
        ],
        env,
      );
      expect(indexed.code).toBe(0);
      const index = JSON.parse(indexed.stdout) as {
        manifests: Array<{ digest: string; platform?: { os: string; architecture: string } }>;
      };
      expect(
        index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture} ${m.digest}`).sort(),
      ).toEqual([`linux/amd64 ${digests.amd64}`, `linux/arm64 ${digests.arm64}`]);

      const ref = `${registry.host}/${environmentRepository(IMAGE, 'development')}:0.0.0-edge`;
      for (const arch of ['arm64', 'amd64'] as const) {
        await docker(['pull', '--platform', `linux/${arch}`, ref]);
        pulled.push(ref);
        expect(await docker(['image', 'inspect', '--format', '{{.Architecture}}', ref])).toBe(arch);
        const repoDigests = await docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', ref]);
        // The local image is the platform's manifest from the index, not some other build.
        expect(await docker(['image', 'inspect', '--format', '{{.Id}}', ref])).toBe(
          await docker(['image', 'inspect', '--format', '{{.Id}}', arch === 'amd64' ? AMD64 : ARM64]),
        );
        expect(repoDigests).toContain(registry.host);
      }
    },
    LONG,
  );
});
