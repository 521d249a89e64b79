import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Detection } from '@its/contracts';
import {
  DEFAULT_TOLERANCE,
  compareDetections,
  maxAbsDifference,
  summarizeLatency,
} from '../scripts/gpu-check-compare.js';

const size = { width: 512, height: 288 };
const det = (cls: Detection['class'], score: number, x: number, y: number, w = 0.1, h = 0.3): Detection => ({
  class: cls,
  score,
  box: { x, y, w, h },
});
const px = 1 / size.width;

describe('compareDetections', () => {
  const cases: Array<{
    name: string;
    reference: Detection[][];
    actual: Detection[][];
    pass: boolean;
    kinds?: string[];
    borderline?: number;
  }> = [
    {
      name: 'identical frames pass',
      reference: [[det('person', 0.8, 0.1, 0.2)], []],
      actual: [[det('person', 0.8, 0.1, 0.2)], []],
      pass: true,
    },
    {
      name: 'a box one pixel off and a score 1e-4 off pass (rounding)',
      reference: [[det('person', 0.8, 0.1, 0.2)]],
      actual: [[det('person', 0.8001, 0.1 + px, 0.2)]],
      pass: true,
    },
    {
      name: 'a box moved by a third of its width is "moved"',
      reference: [[det('car', 0.8, 0.1, 0.2)]],
      actual: [[det('car', 0.8, 0.1 + 0.033, 0.2)]],
      pass: false,
      kinds: ['moved'],
    },
    {
      name: 'a score 0.05 off is "moved" (fp16 heatmap, wrong activation)',
      reference: [[det('car', 0.8, 0.1, 0.2)]],
      actual: [[det('car', 0.75, 0.1, 0.2)]],
      pass: false,
      kinds: ['moved'],
    },
    {
      name: 'a confident detection missing on the provider fails',
      reference: [[det('bus', 0.9, 0.5, 0.5)]],
      actual: [[]],
      pass: false,
      kinds: ['missing'],
    },
    {
      name: 'a detection just above the threshold may be missing (borderline)',
      reference: [[det('person', 0.31, 0.5, 0.5)]],
      actual: [[]],
      pass: true,
      borderline: 1,
    },
    {
      name: 'another class at the same place is missing + extra, not a match',
      reference: [[det('car', 0.9, 0.5, 0.5)]],
      actual: [[det('truck', 0.9, 0.5, 0.5)]],
      pass: false,
      kinds: ['missing', 'extra'],
    },
    {
      name: 'two neighbours are matched to their own boxes, whatever the list order',
      reference: [[det('person', 0.9, 0.1, 0.2), det('person', 0.8, 0.16, 0.2)]],
      actual: [[det('person', 0.8, 0.16, 0.2), det('person', 0.9, 0.1, 0.2)]],
      pass: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = compareDetections(c.reference, c.actual, size, DEFAULT_TOLERANCE);
      expect(r.pass).toBe(c.pass);
      expect(r.mismatches.map((m) => m.kind).sort()).toEqual([...(c.kinds ?? [])].sort());
      expect(r.borderline).toBe(c.borderline ?? 0);
    });
  }

  it('reports the worst edge difference in input pixels', () => {
    const r = compareDetections(
      [[det('person', 0.8, 0.1, 0.2)]],
      [[det('person', 0.8, 0.1 + 2 * px, 0.2)]],
      size,
    );
    expect(r.maxEdgeDiffPx).toBeCloseTo(2, 6);
    expect(r.minMatchedIou).toBeLessThan(1);
  });

  it('refuses lists of different frame counts', () => {
    expect(() => compareDetections([[]], [[], []], size)).toThrow(/reference has 1 frames, actual 2/);
  });
});

describe('summarizeLatency', () => {
  it('gives nearest-rank percentiles and sequential frames per second', () => {
    const s = summarizeLatency(Array.from({ length: 20 }, (_, i) => 20 - i)); // 1..20 ms, unsorted
    expect(s).toMatchObject({ n: 20, p50Ms: 10, p95Ms: 19, minMs: 1, maxMs: 20, meanMs: 10.5 });
    expect(s.framesPerSecond).toBeCloseTo(1000 / 10.5, 1);
  });
  it('refuses an empty list', () => {
    expect(() => summarizeLatency([])).toThrow(/no samples/);
  });
});

describe('maxAbsDifference', () => {
  it('finds the largest element difference and treats NaN as infinitely wrong', () => {
    expect(maxAbsDifference(new Float32Array([1, 2, 3]), new Float32Array([1, 2.5, 2.75]))).toBe(0.5);
    expect(maxAbsDifference(new Float32Array([1, 2]), new Float32Array([1, Number.NaN]))).toBe(Infinity);
  });
});

// The script itself, end to end on the CPU provider, on two real frames (the detector's test photo).
describe('gpu-check script (CPU)', () => {
  const pkg = resolve(fileURLToPath(new URL('..', import.meta.url)));
  const model = join(pkg, 'models', 'centernet-mbv3.onnx');
  let dir = '';
  const runCheck = (args: string[]) =>
    spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', join(pkg, 'scripts', 'gpu-check.ts'), ...args],
      {
        cwd: pkg,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'its-gpu-check-'));
    const photo = createRequire(import.meta.url).resolve('autocannon/test/j5.jpeg');
    const frames = Buffer.concat(
      ['scale=512:288', 'hflip,scale=512:288'].map((vf) =>
        execFileSync('ffmpeg', [
          '-v',
          'error',
          '-i',
          photo,
          '-vf',
          vf,
          '-frames:v',
          '1',
          '-f',
          'rawvideo',
          '-pix_fmt',
          'rgb24',
          '-',
        ]),
      ),
    );
    writeFileSync(join(dir, 'frames.rgb'), frames);
    writeFileSync(
      join(dir, 'frames.json'),
      JSON.stringify({ width: 512, height: 288, count: 2, file: 'frames.rgb' }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('measures the CPU provider, then matches itself as a reference and flags a tampered reference', () => {
    const frames = join(dir, 'frames.json');
    const cpuJson = join(dir, 'cpu.json');
    const first = runCheck([
      '--provider',
      'cpu',
      '--model',
      model,
      '--frames',
      frames,
      '--iterations',
      '4',
      '--json',
      cpuJson,
    ]);
    expect(first.stderr).not.toMatch(/FAILED/);
    expect(first.status).toBe(0);
    const result = JSON.parse(readFileSync(cpuJson, 'utf8'));
    expect(result.ok).toBe(true);
    expect(result.detect.n).toBe(4);
    expect(result.ortRun.n).toBe(4);
    expect(result.repeatDiffering).toBe(0);
    expect(result.detections).toHaveLength(2);
    // The photo's two front pedestrians are found confidently on both frames (the stretch to 512×288
    // squeezes the third, README-detector.md's golden boxes are at another scale).
    for (const frame of result.detections as Detection[][]) {
      expect(frame.filter((d) => d.class === 'person' && d.score > 0.5).length).toBeGreaterThanOrEqual(2);
    }

    const same = runCheck([
      '--model',
      model,
      '--frames',
      frames,
      '--iterations',
      '2',
      '--reference',
      cpuJson,
      '--json',
      join(dir, 'again.json'),
    ]);
    expect(same.status).toBe(0);
    const again = JSON.parse(readFileSync(join(dir, 'again.json'), 'utf8'));
    expect(again.reference.comparison).toMatchObject({ pass: true, mismatches: [], maxEdgeDiffPx: 0 });

    // Move one confident person by 40 px in the reference: the check must call the runs different.
    const tampered = structuredClone(result);
    const victim = (tampered.detections[0] as Detection[]).find((d) => d.score > 0.5)!;
    victim.box.x += 40 / 512;
    writeFileSync(join(dir, 'tampered.json'), JSON.stringify(tampered));
    const differ = runCheck([
      '--model',
      model,
      '--frames',
      frames,
      '--iterations',
      '1',
      '--reference',
      join(dir, 'tampered.json'),
    ]);
    expect(differ.status).toBe(1);
    expect(JSON.parse(differ.stdout).comparison.pass).toBe(false);
    // Three runs of the script, each loading ONNX Runtime and the model: seconds on an idle 2-core
    // machine, a minute and more beside a CPU hog at load 10. A bound, not a performance claim.
  }, 180_000);

  it('reports every bad flag at once, by flag name, with exit code 64', () => {
    const bad = runCheck(['--provider', 'cuda', '--threads', '0', '--input', '500x288']);
    expect(bad.status).toBe(64);
    expect(bad.stderr).toMatch(/--provider: "cuda" is not cpu or webgpu/);
    expect(bad.stderr).toMatch(/--threads: "0" must be an integer ≥ 1/);
    expect(bad.stderr).toMatch(/--input: .*multiple of 32/);
    expect(bad.stderr).toMatch(/--model: required/);
  });
});
