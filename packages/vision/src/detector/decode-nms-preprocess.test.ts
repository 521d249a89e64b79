import { describe, expect, it } from 'vitest';
import type { Detection } from '@its/contracts';
import { decodeCenterNet } from './decode-centernet.js';
import { iou, suppressOverlaps } from './nms.js';
import { parseInputSize, PreprocessError, rgbToChw } from './preprocess.js';

describe('parseInputSize', () => {
  it.each([
    ['512x288', { width: 512, height: 288 }],
    [' 320x192 ', { width: 320, height: 192 }],
  ])('parses %s', (text, size) => expect(parseInputSize(text)).toEqual(size));
  it.each([
    ['512', /WIDTHxHEIGHT/],
    ['500x288', /width 500: must be a multiple of 32/],
    ['512x0', /height 0/],
    ['4096x4096', /width 4096/],
  ])('rejects %s', (text, msg) => expect(() => parseInputSize(text)).toThrow(msg));
});

describe('rgbToChw', () => {
  it('re-lays out interleaved RGB as planes without scaling values', () => {
    const rgb = new Uint8Array([1, 2, 3, 4, 5, 6]); // 2×1
    expect(Array.from(rgbToChw(rgb, 2, 1, { width: 2, height: 1 }))).toEqual([1, 4, 2, 5, 3, 6]);
  });
  it('nearest-resamples a frame of another size', () => {
    // 2×2 → 4×2: each source pixel is doubled horizontally.
    const rgb = new Uint8Array([10, 0, 0, 20, 0, 0, 30, 0, 0, 40, 0, 0]);
    const out = rgbToChw(rgb, 2, 2, { width: 4, height: 2 });
    expect(Array.from(out.slice(0, 8))).toEqual([10, 10, 20, 20, 30, 30, 40, 40]);
  });
  it('rejects a buffer of the wrong length', () => {
    expect(() => rgbToChw(new Uint8Array(5), 2, 1, { width: 2, height: 1 })).toThrow(PreprocessError);
  });
});

/** Builds an empty [80,h,w] heatmap and [4,h,w] size map. */
function maps(w: number, h: number) {
  return { hm: new Float32Array(80 * w * h), wh: new Float32Array(4 * w * h) };
}
function setPeak(
  m: ReturnType<typeof maps>,
  w: number,
  h: number,
  ch: number,
  x: number,
  y: number,
  v: number,
  ltrb: number[],
) {
  m.hm[ch * w * h + y * w + x] = v;
  ltrb.forEach((d, k) => (m.wh[k * w * h + y * w + x] = d));
}

describe('decodeCenterNet', () => {
  const opts = { inputWidth: 64, inputHeight: 32, scoreThreshold: 0.3 };
  it('turns a peak and its edge distances into a normalised box', () => {
    const m = maps(16, 8);
    setPeak(m, 16, 8, 2, 4, 2, 0.9, [8, 4, 8, 4]); // car at cell (4,2) → centre (16,8) px
    expect(decodeCenterNet(m.hm, m.wh, 16, 8, opts)).toEqual([
      { class: 'car', score: expect.closeTo(0.9, 5), box: { x: 8 / 64, y: 4 / 32, w: 16 / 64, h: 8 / 32 } },
    ]);
  });
  it('keeps only local maxima (3×3), like the graph max-pool', () => {
    const m = maps(16, 8);
    setPeak(m, 16, 8, 0, 4, 2, 0.9, [4, 4, 4, 4]);
    setPeak(m, 16, 8, 0, 5, 2, 0.8, [4, 4, 4, 4]); // neighbour, weaker: not a peak
    setPeak(m, 16, 8, 0, 10, 2, 0.7, [4, 4, 4, 4]); // separate peak
    expect(decodeCenterNet(m.hm, m.wh, 16, 8, opts).map((d) => d.score.toFixed(1))).toEqual(['0.9', '0.7']);
  });
  it.each([
    ['below the threshold', 2, 0.2],
    ['an unkept COCO class (airplane)', 4, 0.9],
  ])('drops %s', (_name, ch, v) => {
    const m = maps(16, 8);
    setPeak(m, 16, 8, ch, 4, 2, v, [4, 4, 4, 4]);
    expect(decodeCenterNet(m.hm, m.wh, 16, 8, opts)).toEqual([]);
  });
  it('maps the six kept COCO channels to our classes', () => {
    const m = maps(32, 8);
    [0, 1, 2, 3, 5, 7].forEach((ch, i) => setPeak(m, 32, 8, ch, 2 + i * 4, 4, 0.9 - i * 0.01, [2, 2, 2, 2]));
    expect(decodeCenterNet(m.hm, m.wh, 32, 8, { ...opts, inputWidth: 128 }).map((d) => d.class)).toEqual([
      'person',
      'bicycle',
      'car',
      'motorcycle',
      'bus',
      'truck',
    ]);
  });
  it('clamps boxes to the frame and drops degenerate ones', () => {
    const m = maps(16, 8);
    setPeak(m, 16, 8, 2, 0, 0, 0.9, [100, 100, 8, 8]); // reaches past the top-left
    setPeak(m, 16, 8, 2, 10, 6, 0.8, [-3, 0, 0, 0]); // zero width
    const out = decodeCenterNet(m.hm, m.wh, 16, 8, opts);
    expect(out).toHaveLength(1);
    expect(out[0]!.box).toEqual({ x: 0, y: 0, w: 8 / 64, h: 8 / 32 });
  });
  it('caps candidates at maxCandidates, best first', () => {
    const m = maps(16, 8);
    for (let i = 0; i < 5; i++) setPeak(m, 16, 8, 0, i * 3, 4, 0.5 + i * 0.1, [2, 2, 2, 2]);
    expect(
      decodeCenterNet(m.hm, m.wh, 16, 8, { ...opts, maxCandidates: 2 }).map((d) => d.score.toFixed(1)),
    ).toEqual(['0.9', '0.8']);
  });
});

const det = (cls: Detection['class'], score: number, x: number, y = 0.1, w = 0.2, h = 0.2): Detection => ({
  class: cls,
  score,
  box: { x, y, w, h },
});

describe('iou', () => {
  it.each([
    ['identical', det('car', 1, 0.1).box, det('car', 1, 0.1).box, 1],
    ['disjoint', det('car', 1, 0.0).box, det('car', 1, 0.5).box, 0],
    ['half overlap', det('car', 1, 0.0).box, det('car', 1, 0.1).box, 1 / 3],
    ['zero area', { x: 0, y: 0, w: 0, h: 0 }, { x: 0, y: 0, w: 0, h: 0 }, 0],
  ])('%s', (_n, a, b, v) => expect(iou(a, b)).toBeCloseTo(v, 6));
});

describe('suppressOverlaps', () => {
  const o = { iouThreshold: 0.5, maxDetections: 10 };
  it('keeps the higher score of two overlapping boxes of one class', () => {
    expect(suppressOverlaps([det('car', 0.6, 0.11), det('car', 0.9, 0.1)], o)).toEqual([
      det('car', 0.9, 0.1),
    ]);
  });
  it('suppresses car against truck on the same vehicle (one vehicle, one count)', () => {
    expect(suppressOverlaps([det('truck', 0.5, 0.1), det('car', 0.7, 0.1)], o).map((d) => d.class)).toEqual([
      'car',
    ]);
  });
  it('keeps a rider and the bicycle beneath', () => {
    expect(suppressOverlaps([det('person', 0.8, 0.1), det('bicycle', 0.7, 0.1)], o)).toHaveLength(2);
  });
  it('keeps boxes that overlap less than the threshold', () => {
    expect(suppressOverlaps([det('car', 0.8, 0.0), det('car', 0.7, 0.15)], o)).toHaveLength(2);
  });
  it('stops at maxDetections', () => {
    const many = Array.from({ length: 5 }, (_, i) => det('car', 0.5 + i / 10, i * 0.2));
    expect(suppressOverlaps(many, { ...o, maxDetections: 3 }).map((d) => d.score)).toEqual([0.9, 0.8, 0.7]);
  });
});
