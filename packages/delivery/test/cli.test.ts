import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import {
  ConfigError,
  InternalError,
  StepFailedError,
  UsageError,
  exitCodeFor,
  isKnownError,
} from '@its/core';
import { runItsctl } from './helpers/cli.js';

const PACKAGE = resolve(fileURLToPath(new URL('../', import.meta.url)));
const REPO_ROOT = resolve(PACKAGE, '../..');

describe('itsctl program', () => {
  it('--help lists the commands, exit codes and examples', async () => {
    const result = await runItsctl(['--help'], { cwd: REPO_ROOT });
    expect(result.code).toBe(0);
    for (const command of ['tags', 'version', 'release', 'workflows'])
      expect(result.stdout).toMatch(new RegExp(`^ {2}${command}`, 'm'));
    expect(result.stdout).toContain(
      'Exit codes: 0 success, 1 a step failed, 2 bad usage or configuration, 70 internal error.',
    );
    expect(result.stdout).toContain('$ itsctl release --dry-run');
  });

  it.each(['tags', 'version', 'release'])('%s --help teaches with examples', async (command) => {
    const result = await runItsctl([command, '--help'], { cwd: REPO_ROOT });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Examples:\n {2}\$ itsctl /);
  });

  it('an unknown option is a usage error (exit 2), also as JSON', async () => {
    const result = await runItsctl(['--json', 'tags', '--colour'], { cwd: REPO_ROOT });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown option '--colour'/);
    expect(JSON.parse(result.stdout)).toEqual({
      error: { kind: 'usage', message: "unknown option '--colour'" },
    });
  });

  it('an unknown command is a usage error', async () => {
    expect((await runItsctl(['deploy-everything'], { cwd: REPO_ROOT })).code).toBe(2);
  });

  it('a bad choice names the allowed values', async () => {
    const result = await runItsctl(['tags', '--latest-policy', 'newest'], { cwd: REPO_ROOT });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Allowed choices are push, highest/);
  });

  it('a malformed rule names it (exit 2)', async () => {
    const result = await runItsctl(
      [
        'tags',
        '--ref',
        'refs/heads/x',
        '--sha',
        'abcdef1',
        '--tags',
        'type=semver,pattern={{version}},colour=red',
      ],
      { cwd: REPO_ROOT },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "itsctl: tags: rule 'type=semver,pattern={{version}},colour=red': unknown attribute 'colour' for type=semver\n  fix: type=semver accepts enable, priority, prefix, suffix, pattern, value, match\n",
    );
  });

  it('an unexpected error is internal (exit 70) with its stack', async () => {
    let calls = 0;
    let stderr = '';
    const code = await runCli(['tags', '--ref', 'refs/heads/x', '--sha', 'abcdef1'], {
      stdout: () => {
        calls += 1;
        throw new TypeError('stdout closed');
      },
      stderr: (t) => {
        stderr += t;
      },
      env: {},
      cwd: REPO_ROOT,
      now: () => new Date(0),
    });
    expect(calls).toBe(1);
    expect(code).toBe(70);
    expect(stderr).toMatch(/itsctl: TypeError: stdout closed\n\s+at /);
  });
});

describe('typed errors and exit codes', () => {
  it.each([
    [new UsageError('u'), 2],
    [new ConfigError('c', { fix: 'f' }), 2],
    [new StepFailedError('s'), 1],
    [new InternalError('i'), 70],
    [new Error('plain'), 70],
    ['a string', 70],
  ])('%o → %i', (error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });

  it('keep their fix, name and cause', () => {
    const cause = new Error('root');
    const error = new ConfigError('field: bad', { fix: 'do this', cause });
    expect(error).toMatchObject({ name: 'ConfigError', kind: 'config', fix: 'do this', cause });
    expect(isKnownError(error)).toBe(true);
    expect(isKnownError(cause)).toBe(false);
  });
});

describe('the launcher (what `npx itsctl` runs)', () => {
  it('runs from the repository root without a build', () => {
    const result = spawnSync('npx', ['--no-install', 'itsctl', '--help'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('Usage: itsctl');
  });

  it('passes the exit code through', () => {
    const result = spawnSync(process.execPath, [join(PACKAGE, 'bin', 'itsctl.js'), 'no-such-command'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
  });
});
