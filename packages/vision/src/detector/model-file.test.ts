import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_PATH } from './detector.js';

describe('committed ONNX model', () => {
  it('is byte-for-byte what scripts/convert-tfjs-to-onnx.mjs makes from the npm weights', async () => {
    // @ts-expect-error -- plain ESM script without types
    const converter = (await import('../../scripts/convert-tfjs-to-onnx.mjs')) as {
      convertFile(): Buffer;
      sha256(b: Buffer): string;
    };
    const committed = readFileSync(`${DEFAULT_MODEL_PATH}.sha256`, 'utf8').split(' ')[0];
    expect(converter.sha256(readFileSync(DEFAULT_MODEL_PATH))).toBe(committed);
    expect(converter.sha256(converter.convertFile())).toBe(committed);
  });
});
