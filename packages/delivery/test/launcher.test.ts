/**
 * The real launcher (bin/itsctl.js, what `npx itsctl` runs), as separate processes: output printed
 * once, a closed pipe ending quietly with the documented exit code, and compile-on-demand — a stale
 * dist/ rebuilt, unchanged broken sources sent straight to tsx, concurrent first runs building once —
 * on a tiny package the launcher is pointed at (ITSCTL_LAUNCHER_ROOT), so no test rebuilds the real one.
 * Correctness only: the timings live in bench/bench-cli-startup.ts.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PACKAGE = resolve(fileURLToPath(new URL('../', import.meta.url)));
const REPO_ROOT = resolve(PACKAGE, '../..');
const LAUNCHER = join(PACKAGE, 'bin', 'itsctl.js');
/** The exit code of a command whose stdout reader went away (128 + SIGPIPE). */
const CLOSED_STDOUT = 141;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without our own switches, so the developer's shell cannot change what is tested. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('ITSCTL_') && !key.startsWith('GITHUB_')) env[key] = value;
  return { ...env, ...extra };
}

function launch(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; close?: 'stdout' | 'stderr' } = {},
): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [LAUNCHER, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: cleanEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // Closing our read end before the child has written anything makes its first write an EPIPE,
    // deterministically (`itsctl … | head -1` with a head that has already exited).
    if (options.close === 'stdout') child.stdout.destroy();
    else child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    if (options.close === 'stderr') child.stderr.destroy();
    else child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const count = (text: string, needle: string) => text.split(needle).length - 1;
const NO_CRASH = /EPIPE|Unhandled 'error' event|\n\s+at .+:\d+:\d+/;

describe('the real launcher in the repository', () => {
  let empty: string;
  beforeAll(async () => {
    // The first call may compile dist/ (or, with someone's sources mid-edit, fall back to tsx).
    const warm = await launch(['--help']);
    expect(warm.code, warm.stderr).toBe(0);
    empty = mkdtempSync(join(tmpdir(), 'its-launcher-'));
    mkdirSync(join(empty, 'deploy'));
    cpSync(join(REPO_ROOT, 'deploy/quality-gates.yml'), join(empty, 'deploy/quality-gates.yml'));
    cpSync(join(REPO_ROOT, 'deploy/security-ignore.yml'), join(empty, 'deploy/security-ignore.yml'));
  }, 180_000);
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('--help and tags --help print their text once', async () => {
    const root = await launch(['--help']);
    expect(root.code).toBe(0);
    expect(count(root.stdout, 'Usage: itsctl [options] [command]')).toBe(1);
    expect(count(root.stdout, 'Exit codes: 0 success')).toBe(1);
    const tags = await launch(['tags', '--help']);
    expect(tags.code).toBe(0);
    expect(count(tags.stdout, 'Usage: itsctl tags [options]')).toBe(1);
    expect(tags.stdout).toContain('Rule types and default priorities');
    expect(`${root.stderr}${tags.stderr}`).not.toMatch(NO_CRASH);
  }, 60_000);

  it('a failed gate says its verdict once, and --json is one document', async () => {
    const text = await launch(['gate'], { cwd: empty });
    expect(text.code).toBe(1);
    expect(count(text.stdout, 'Quality gate: FAILED')).toBe(1);
    expect(text.stderr).not.toContain('quality gate failed');
    const json = await launch(['gate', '--json'], { cwd: empty });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'fail' });
    expect(count(json.stderr, 'quality gate failed')).toBe(1);
  }, 60_000);

  it.each([
    [['--help']],
    [['tags', '--help']],
    [['version', '--json']],
    [['gate', '--json', '--markdown', 'out/gate.md']],
  ])(
    '%j with stdout closed early ends quietly with exit 141',
    async (args) => {
      const run = await launch(args, { cwd: args[0] === 'gate' ? empty : REPO_ROOT, close: 'stdout' });
      expect(run.stderr).not.toMatch(NO_CRASH);
      expect(run.code).toBe(CLOSED_STDOUT);
      // The command still ran to its end: only its output was dropped.
      if (args[0] === 'gate')
        expect(readFileSync(join(empty, 'out/gate.md'), 'utf8')).toMatch(/^## Quality gate/);
    },
    60_000,
  );

  it("a closed stderr drops the logs and keeps the command's exit code", async () => {
    const run = await launch(['gate', '--json'], { cwd: empty, close: 'stderr' });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'fail' });
  }, 60_000);
});

describe('compile on demand (a tiny package)', () => {
  let pkg: string;
  const entry = () => join(pkg, 'src', 'bin', 'itsctl.ts');
  const run = (args: string[] = [], env: Record<string, string> = {}) =>
    launch(args, { cwd: pkg, env: { ITSCTL_LAUNCHER_ROOT: pkg, ...env } });
  /** An edit: newer than the last build, which ended before this write. */
  const writeEntry = (body: string) => writeFileSync(entry(), body);
  const program = (version: string) =>
    `declare const process: { argv: string[]; exitCode?: number };
export {};
const from: string = import.meta.url.endsWith('.ts') ? 'source' : 'dist';
console.log(JSON.stringify({ version: '${version}', from, args: process.argv.slice(2) }));
process.exitCode = 3;
`;

  beforeAll(() => {
    pkg = mkdtempSync(join(tmpdir(), 'its-launcher-pkg-'));
    mkdirSync(join(pkg, 'src', 'bin'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'tiny', type: 'module' }));
    writeFileSync(
      join(pkg, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          rootDir: 'src',
          outDir: 'dist',
          tsBuildInfoFile: 'dist/.tsbuildinfo',
          incremental: true,
          types: [],
        },
        include: ['src'],
      }),
    );
    writeEntry(program('1'));
  });
  afterAll(() => rmSync(pkg, { recursive: true, force: true }));

  it('compiles on the first run, then runs dist/ without compiling; exit code and arguments pass through', async () => {
    const first = await run(['tags', '--json']);
    expect(first.stderr).toMatch(/itsctl: compiling .*\(first run or sources changed\)/);
    expect(first.stderr).toMatch(/itsctl: compiled in \d+\.\d s/);
    expect(first.code).toBe(3);
    expect(JSON.parse(first.stdout)).toEqual({ version: '1', from: 'dist', args: ['tags', '--json'] });
    const second = await run();
    expect(second.stderr).toBe('');
    expect(JSON.parse(second.stdout)).toMatchObject({ version: '1', from: 'dist' });
  }, 60_000);

  it('a source newer than the stamp is rebuilt; ITSCTL_USE_SOURCE=1 runs the sources', async () => {
    writeEntry(program('2'));
    const rebuilt = await run();
    expect(rebuilt.stderr).toContain('itsctl: compiling');
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ version: '2', from: 'dist' });
    const source = await run(['x'], { ITSCTL_USE_SOURCE: '1' });
    expect(source.code).toBe(3);
    expect(JSON.parse(source.stdout)).toEqual({ version: '2', from: 'source', args: ['x'] });
  }, 60_000);

  it('a type error falls back to tsx with one warning, and is not recompiled until the sources change', async () => {
    writeEntry(`${program('3')}const broken: number = 'not a number';\n`);
    const failed = await run();
    expect(failed.stderr).toContain('itsctl: compiling');
    const warnings = failed.stderr.split('\n').filter((l) => l.startsWith('itsctl: warning'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/do not compile \(.*error TS2322.*\); running them with tsx/);
    expect(JSON.parse(failed.stdout)).toMatchObject({ version: '3', from: 'source' });
    const again = await run();
    expect(again.stderr).not.toContain('itsctl: compiling');
    expect(again.stderr).toContain('itsctl: warning: the sources do not compile');
    writeEntry(program('4'));
    const fixed = await run();
    expect(fixed.stderr).toContain('itsctl: compiled in');
    expect(JSON.parse(fixed.stdout)).toMatchObject({ version: '4', from: 'dist' });
  }, 90_000);

  it('concurrent first runs compile once; the others wait and run the same build', async () => {
    rmSync(join(pkg, 'dist'), { recursive: true, force: true });
    writeEntry(program('5'));
    const runs = await Promise.all([1, 2, 3, 4].map((n) => run([`run-${n}`])));
    for (const [i, r] of runs.entries()) {
      expect(r.code, r.stderr).toBe(3);
      expect(JSON.parse(r.stdout)).toEqual({ version: '5', from: 'dist', args: [`run-${i + 1}`] });
    }
    expect(runs.filter((r) => r.stderr.includes('itsctl: compiling'))).toHaveLength(1);
    expect(existsSync(join(pkg, 'dist', '.itsctl-build.lock'))).toBe(false);
  }, 90_000);

  it('a lock left by a process that died is broken, not waited on', async () => {
    writeEntry(program('6'));
    // A pid far above any pid_max in use: no such process.
    writeFileSync(join(pkg, 'dist', '.itsctl-build.lock'), '4194000\n');
    const r = await run();
    expect(JSON.parse(r.stdout)).toMatchObject({ version: '6', from: 'dist' });
    expect(existsSync(join(pkg, 'dist', '.itsctl-build.lock'))).toBe(false);
  }, 60_000);

  it('installed without src/ it runs dist/ as it is', async () => {
    const installed = mkdtempSync(join(tmpdir(), 'its-launcher-installed-'));
    try {
      cpSync(join(pkg, 'dist'), join(installed, 'dist'), { recursive: true });
      writeFileSync(join(installed, 'package.json'), JSON.stringify({ name: 'tiny', type: 'module' }));
      const r = await launch([], { cwd: installed, env: { ITSCTL_LAUNCHER_ROOT: installed } });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toMatchObject({ version: '6', from: 'dist' });
    } finally {
      rmSync(installed, { recursive: true, force: true });
    }
  }, 30_000);
});
