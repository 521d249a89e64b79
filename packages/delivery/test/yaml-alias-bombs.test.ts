/**
 * The security probe's "billion laughs": a YAML file whose aliases nest 9 deep, 9 to a level, expands
 * a few hundred bytes into gigabytes. Every YAML file itsctl reads refuses it naming the file, quickly:
 * the environment file crashed with exit 70 and a stack trace, `itsctl workflows` never finished.
 * Configuration (environment, gate policy, structure-test config) is exit 2; the files a command
 * checks or judges (a workflow, the security ignore file) are a finding of that check (exit 1), as any
 * other invalid YAML there is.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runItsctl } from './helpers/cli.js';

/** `levels` levels of 9 aliases each: 9^levels strings. */
const aliasBomb = (levels: number, head: string): string =>
  [
    head,
    'x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
    ...Array.from(
      { length: levels },
      (_, i) => `x${i + 1}: &x${i + 1} [${Array(9).fill(`*x${i}`).join(', ')}]`,
    ),
    '',
  ].join('\n');

const REFUSED =
  'its YAML aliases expand more than 100 times (an alias bomb?): write the values out instead of nesting aliases';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'itsctl-alias-bomb-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const put = (name: string, text: string) => {
  mkdirSync(join(dir, name, '..'), { recursive: true });
  writeFileSync(join(dir, name), text);
};

/** Runs itsctl and returns its outcome with how long it took. */
async function timed(args: string[], env: Record<string, string> = {}) {
  const started = performance.now();
  const result = await runItsctl(args, { cwd: dir, env });
  return { ...result, ms: performance.now() - started };
}

describe('a YAML alias bomb in a file itsctl reads', () => {
  it('an environment file: exit 2 naming the file (was exit 70 with a stack trace)', async () => {
    put('environments/bomb.yml', aliasBomb(8, 'app: a\nimage: { repository: r }\nrouter: { port: 1 }'));
    const r = await timed(['deploy', '-e', 'bomb', '-v', '1.0.0', '--dry-run'], {
      ITS_DEPLOY_ENVIRONMENTS: join(dir, 'environments'),
      ITS_DEPLOY_STATE_DIR: join(dir, 'state'),
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'environments', 'bomb.yml')}: ${REFUSED}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('the gate policy: exit 2 naming the file', async () => {
    put('gates.yml', aliasBomb(8, 'version: 1'));
    const r = await timed(['gate', '--policy', 'gates.yml']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`gates.yml: ${REFUSED}`);
  });

  it('a structure-test config: exit 2 naming the file, before Docker is needed', async () => {
    put('bomb.yaml', aliasBomb(8, 'schemaVersion: 2.0.0'));
    const r = await timed(['structure-test', '--image', 'its-camera-ai:none', '--config', 'bomb.yaml']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`bomb.yaml: ${REFUSED}`);
  });

  it('the security ignore file: the security gate fails on it, naming the file (exit 1)', async () => {
    put('ignore.yml', aliasBomb(8, 'version: 1'));
    put(
      'scan.sarif',
      JSON.stringify({ version: '2.1.0', runs: [{ tool: { driver: { name: 'scan' } }, results: [] }] }),
    );
    put(
      'gates.yml',
      'version: 1\nsecurity:\n  failOn: high\n  ignoreFile: ignore.yml\n  reports: [scan.sarif]\n',
    );
    const r = await timed(['gate', '--policy', 'gates.yml']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain(`FAIL security · ignore file: ignore.yml: ${REFUSED}`);
  });

  it('a workflow: `itsctl workflows check` reports it naming the file (exit 1), and finishes', async () => {
    // 6 levels (9^6): enough for the old code to take many seconds instead of never finishing.
    put(
      'workflows/bomb.yml',
      aliasBomb(6, 'on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]'),
    );
    const r = await timed(['workflows', 'check', '--dir', join(dir, 'workflows')]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain(`bomb.yml: yaml: ${REFUSED}`);
    expect(r.ms).toBeLessThan(10_000);
  });
});
