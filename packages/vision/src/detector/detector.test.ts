import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createDetector, toJpegDetector, DetectorError, type Detector } from './detector.js';
import { iou } from './nms.js';

const require = createRequire(import.meta.url);
/**
 * No installed package ships a photo with vehicles (the @vladmandic packages ship face/pose screenshots,
 * @fastify/static a "SAMPLE" stamp). The best real photo is autocannon's test/j5.jpeg: a city street
 * with pedestrians (1169×584). Golden boxes were recorded once from this detector at 512×288 and checked
 * by eye against the photo: the man in the grey jacket (centre right), the woman in the foreground
 * (bottom right) and the person in the striped shirt (centre). The robot on the left is reported as a
 * "motorcycle" at ≈0.33, a known false positive, so it is deliberately not a golden box.
 */
const STREET_PHOTO = require.resolve('autocannon/test/j5.jpeg');
const GOLDEN = [
  { class: 'person', box: { x: 0.623, y: 0.439, w: 0.207, h: 0.555 } },
  { class: 'person', box: { x: 0.764, y: 0.643, w: 0.232, h: 0.355 } },
  { class: 'person', box: { x: 0.476, y: 0.648, w: 0.139, h: 0.349 } },
] as const;

let detector: Detector;
beforeAll(async () => {
  detector = await createDetector({ threads: 1 });
});
afterAll(async () => {
  await detector.close();
});

describe('createDetector on the real CenterNet model', () => {
  it.each(GOLDEN.map((g, i) => [i, g] as const))(
    'finds golden box %i (class and IoU ≥ 0.5)',
    async (_i, golden) => {
      const found = await detector.detectJpeg(readFileSync(STREET_PHOTO));
      const best = Math.max(
        0,
        ...found.filter((d) => d.class === golden.class).map((d) => iou(d.box, golden.box)),
      );
      expect(best).toBeGreaterThanOrEqual(0.5);
    },
  );

  it('reports no car, bus or truck in a street photo that has none', async () => {
    const found = await detector.detectJpeg(readFileSync(STREET_PHOTO));
    expect(found.filter((d) => ['car', 'bus', 'truck'].includes(d.class))).toEqual([]);
  });

  it('gives the same boxes for the raw RGB path as for the JPEG path', async () => {
    const { width, height } = detector.inputSize;
    const rgb = await sharp(readFileSync(STREET_PHOTO))
      .removeAlpha()
      .resize(width, height, { fit: 'fill' })
      .raw()
      .toBuffer();
    const fromRgb = await detector.detect(new Uint8Array(rgb), width, height);
    const fromJpeg = await detector.detectJpeg(readFileSync(STREET_PHOTO));
    expect(fromRgb).toEqual(fromJpeg);
  });

  it('finds nothing on a flat grey frame', async () => {
    const { width, height } = detector.inputSize;
    expect(await detector.detect(new Uint8Array(width * height * 3).fill(128), width, height)).toEqual([]);
  });

  it('rejects bytes that are not an image with a typed error', async () => {
    await expect(detector.detectJpeg(Buffer.from('not a jpeg'))).rejects.toBeInstanceOf(DetectorError);
  });

  it('adapts to the API detect(jpeg) shape', async () => {
    const found = await toJpegDetector(detector).detect(readFileSync(STREET_PHOTO));
    expect(found.every((d) => d.box.x >= 0 && d.box.x + d.box.w <= 1.000001)).toBe(true);
    expect(found.length).toBeGreaterThanOrEqual(3);
  });

  it('serialises concurrent calls and returns identical results', async () => {
    const jpeg = readFileSync(STREET_PHOTO);
    const [a, b] = await Promise.all([detector.detectJpeg(jpeg), detector.detectJpeg(jpeg)]);
    expect(a).toEqual(b);
  });
});

describe('createDetector errors', () => {
  it('names the model path when it cannot load', async () => {
    await expect(createDetector({ modelPath: '/nonexistent/model.onnx' })).rejects.toThrow(
      /\/nonexistent\/model\.onnx/,
    );
  });

  it('refuses calls after close', async () => {
    const d = await createDetector({ threads: 1, inputSize: { width: 64, height: 64 } });
    await d.close();
    await d.close();
    await expect(d.detect(new Uint8Array(64 * 64 * 3), 64, 64)).rejects.toThrow(/closed/);
  });
});
