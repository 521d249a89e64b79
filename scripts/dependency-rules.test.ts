/**
 * The dependency rules (.dependency-cruiser.cjs, run by `npm run deps` inside `npm run check`) catch
 * what they are for: a scratch tree laid out like this repository, with one deliberate cycle, one
 * import against the layers and one deep import past an exports map, fails with exactly those three;
 * the repository itself passes.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const depcruise = join(repo, 'node_modules', '.bin', 'depcruise');
const config = join(repo, '.dependency-cruiser.cjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
  cycle?: Array<{ name: string }>;
}

/** The violations (JSON report) and the exit code `npm run deps` sees (its `err` report). */
function cruise(
  cwd: string,
  paths: string[],
): { code: number | null; violations: Violation[]; stderr: string } {
  const run = (type: string) =>
    spawnSync(depcruise, [...paths, '--config', config, '--output-type', type], {
      cwd,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
  const json = run('json');
  const out = json.stdout ? (JSON.parse(json.stdout) as { summary: { violations: Violation[] } }) : undefined;
  const err = run('err');
  return {
    code: err.status,
    violations: out?.summary.violations ?? [],
    stderr: `${json.stderr}${err.stdout}`,
  };
}

const scratch = mkdtempSync(join(tmpdir(), 'its-deps-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function write(path: string, text: string): void {
  mkdirSync(dirname(join(scratch, path)), { recursive: true });
  writeFileSync(join(scratch, path), text);
}

describe('dependency rules', () => {
  it('fail on a cycle, an import against the layers and a deep import, naming each', () => {
    copyFileSync(join(repo, 'tsconfig.base.json'), join(scratch, 'tsconfig.base.json'));
    // A cycle inside @its/deploy.
    write('packages/deploy/src/plan/a.ts', "import { b } from './b.js';\nexport const a = () => b;\n");
    write('packages/deploy/src/plan/b.ts', "import { a } from './a.js';\nexport const b = () => a;\n");
    // @its/core sits at the bottom: it may import no other package.
    write('packages/core/src/index.ts', "export { deploy } from '../../deploy/src/index.js';\n");
    // @its/deploy may use @its/registry, through its entry only.
    write(
      'packages/deploy/src/index.ts',
      "export { a } from './plan/a.js';\nexport { RegistryClient } from '../../registry/src/registry/registry-client.js';\nexport { openRegistry } from '../../registry/src/index.js';\n",
    );
    write('packages/registry/src/registry/registry-client.ts', 'export class RegistryClient {}\n');
    write('packages/registry/src/index.ts', 'export const openRegistry = () => 1;\n');

    const result = cruise(scratch, ['packages']);
    expect(result.code, result.stderr).not.toBe(0);
    const found = result.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
    expect(found).toEqual([
      'layers: packages/core/src/index.ts → packages/deploy/src/index.ts',
      'no-circular: packages/deploy/src/plan/a.ts → packages/deploy/src/plan/b.ts',
      'no-deep-import: packages/deploy/src/index.ts → packages/registry/src/registry/registry-client.ts',
    ]);
    const cycle = result.violations.find((v) => v.rule.name === 'no-circular')!.cycle!.map((c) => c.name);
    expect(cycle).toEqual(['packages/deploy/src/plan/b.ts', 'packages/deploy/src/plan/a.ts']);
  }, 120_000);

  it('pass on this repository', () => {
    const result = cruise(repo, ['apps', 'packages', 'scripts']);
    expect(result.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
    expect(result.code, result.stderr).toBe(0);
  }, 180_000);
});
