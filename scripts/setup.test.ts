/**
 * scripts/setup.sh's deps step and its command line, in a scratch repository whose `npm` is a stand-in
 * that records its calls and writes the hidden lockfile the way npm does (without the optional packages
 * of other platforms). What is asserted is what a user sees: whether `npm ci` ran, what setup said, and
 * its exit code. The system steps (apt, binfmt, dockerd) are exercised by .ci/run on a fresh machine
 * and, already done, by every `npm test` here.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const setupScript = join(dirname(fileURLToPath(import.meta.url)), 'setup.sh');

const lockfile = (version = '1.0.0', extra: Record<string, unknown> = {}) => ({
  name: 'scratch',
  lockfileVersion: 3,
  packages: {
    '': { name: 'scratch', devDependencies: { a: '^1.0.0' } },
    'node_modules/a': { version, dev: true },
    'node_modules/a-darwin-arm64': { version: '1.0.0', optional: true, os: ['darwin'], cpu: ['arm64'] },
    ...extra,
  },
});

// The stand-in npm: logs its arguments; `ci` (re)creates node_modules with a hidden lockfile that lists
// what package-lock.json does minus the root and the other platforms' optional packages. FAIL_NPM=1 fails.
const fakeNpm = `#!/usr/bin/env bash
echo "$*" >>"$NPM_LOG"
[ "\${FAIL_NPM:-}" = 1 ] && { echo "npm error fake failure" >&2; exit 1; }
rm -rf node_modules && mkdir node_modules
node -e '
  const fs = require("node:fs");
  const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
  const packages = Object.fromEntries(Object.entries(lock.packages).filter(([k, v]) => k !== "" && !v.optional));
  fs.writeFileSync("node_modules/.package-lock.json", JSON.stringify({ ...lock, packages }, null, 2));
'
`;

let dir: string;
let npmLog: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'its-setup-'));
  mkdirSync(join(dir, 'scripts'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(setupScript, join(dir, 'scripts', 'setup.sh'));
  writeFileSync(join(dir, 'bin', 'npm'), fakeNpm, { mode: 0o755 });
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lockfile(), null, 2));
  npmLog = join(dir, 'npm.log');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setup(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync('bash', [join(dir, 'scripts', 'setup.sh'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: {
      PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
      HOME: process.env.HOME ?? dir,
      NPM_LOG: npmLog,
      ...env,
    },
  });
  const npmCalls = existsSync(npmLog) ? readFileSync(npmLog, 'utf8').trim().split('\n') : [];
  rmSync(npmLog, { force: true });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, npmCalls };
}

describe('setup.sh deps', () => {
  it('installs a fresh clone with npm ci, saying why and how long it took, then does nothing', () => {
    const first = setup(['deps']);
    expect(first.code).toBe(0);
    expect(first.npmCalls).toEqual(['ci --no-audit --no-fund']);
    expect(first.stderr).toMatch(/^setup: npm ci \(node_modules missing\) …$/m);
    expect(first.stderr).toMatch(/^setup: npm ci done in \d+ s$/m);
    expect(first.stdout).toBe(''); // a caller's stdout (a dry run's plan) stays its own

    const second = setup(['deps']);
    expect(second).toMatchObject({ code: 0, stdout: '', stderr: '', npmCalls: [] });
    expect(setup(['unit']).npmCalls).toEqual([]);
  });

  it('judges node_modules by content: an identical lockfile with a new date changes nothing', () => {
    setup(['deps']);
    const future = new Date(Date.now() + 3_600_000);
    utimesSync(join(dir, 'package-lock.json'), future, future); // git stash / branch switch and back
    expect(setup(['deps'])).toMatchObject({ code: 0, stderr: '', npmCalls: [] });
  });

  it.each([
    {
      name: 'a version changed in the lockfile',
      change: () => writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lockfile('1.1.0'))),
      reason: /node_modules differs from package-lock\.json \(1 package, e\.g\. a\)/,
    },
    {
      name: 'a package added to the lockfile',
      change: () =>
        writeFileSync(
          join(dir, 'package-lock.json'),
          JSON.stringify(lockfile('1.0.0', { 'node_modules/b': { version: '2.0.0' } })),
        ),
      reason: /node_modules differs from package-lock\.json \(1 package, e\.g\. b\)/,
    },
    {
      name: 'no hidden lockfile (an interrupted install)',
      change: () => rmSync(join(dir, 'node_modules', '.package-lock.json')),
      reason: /node_modules has no npm record of its install/,
    },
    {
      name: 'installed for another Node.js',
      change: () => writeFileSync(join(dir, 'node_modules', '.its-setup-node-abi'), '1\n'),
      reason: /node_modules was installed for another Node\.js \(ABI 1; this is v\d+/,
    },
    {
      name: 'node_modules deleted',
      change: () => rmSync(join(dir, 'node_modules'), { recursive: true }),
      reason: /node_modules missing/,
    },
  ])('reinstalls when $name, naming the reason', ({ change, reason }) => {
    setup(['deps']);
    change();
    const r = setup(['deps']);
    expect(r.code).toBe(0);
    expect(r.npmCalls).toEqual(['ci --no-audit --no-fund']);
    expect(r.stderr).toMatch(reason);
    expect(setup(['deps']).npmCalls).toEqual([]); // and is current afterwards
  });

  it('--clean always runs npm ci (CI installs cleanly from the lockfile)', () => {
    setup(['deps']);
    const r = setup(['--clean', 'deps']);
    expect(r.npmCalls).toEqual(['ci --no-audit --no-fund']);
    expect(r.stderr).toMatch(/npm ci \(--clean: a clean install from the lockfile\)/);
  });

  it('fails with exit 1 and the command to rerun when npm ci fails', () => {
    const r = setup(['deps'], { FAIL_NPM: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/npm error fake failure/);
    expect(r.stderr).toMatch(/setup: npm ci failed \(see above\); fix it and run .*scripts\/setup\.sh deps/);
  });
});

describe('setup.sh command line', () => {
  it('ITS_SETUP=skip does nothing at all', () => {
    expect(setup(['deps', 'test-tools', 'docker'], { ITS_SETUP: 'skip' })).toMatchObject({
      code: 0,
      stdout: '',
      stderr: '',
      npmCalls: [],
    });
  });

  it.each([
    { args: ['deps', 'everything'], env: {}, message: /unknown step "everything"/ },
    { args: [], env: {}, message: /scripts\/setup\.sh \[--clean\] STEP/ },
    { args: ['deps'], env: { ITS_SETUP: 'no' }, message: /ITS_SETUP=no: the only value is "skip"/ },
  ])('exits 2 for $args $env, installing nothing', ({ args, env, message }) => {
    const r = setup(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.npmCalls).toEqual([]);
  });

  it('--help prints the usage and exits 0', () => {
    const r = setup(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/unit = deps {3}integration = deps test-tools compose docker/);
  });
});

describe('setup.sh docker', () => {
  // A stand-in engine (dockerd cannot be started twice here, and the real one already runs): `dockerd`
  // marks itself up and stays, as the real one does; the client (DOCKER_CLI) answers `info` once it is.
  // Root only: setup starts an engine only as root (otherwise it names the command and exits 2).
  it.skipIf(process.getuid?.() !== 0)(
    'starts the engine without handing it the setup lock: the next setup does not wait on it',
    () => {
      const up = join(dir, 'engine-up');
      const pidFile = join(dir, 'dockerd.pid');
      writeFileSync(
        join(dir, 'bin', 'dockerd'),
        `#!/usr/bin/env bash\necho $$ >"${pidFile}"\ntouch "${up}"\nfor _ in $(seq 60); do sleep 1; done\n`,
        { mode: 0o755 },
      );
      writeFileSync(join(dir, 'bin', 'docker-stand-in'), `#!/usr/bin/env bash\n[ -e "${up}" ]\n`, {
        mode: 0o755,
      });
      // Every package counts as installed: only the engine step is under test.
      writeFileSync(
        join(dir, 'bin', 'dpkg-query'),
        `#!/usr/bin/env bash\nfor a in "$@"; do case "$a" in -*) ;; *) echo "$a ii" ;; esac; done\n`,
        { mode: 0o755 },
      );
      const env = { DOCKER_CLI: join(dir, 'bin', 'docker-stand-in'), DOCKERD_LOG: join(dir, 'dockerd.log') };
      try {
        const first = setup(['docker'], env);
        expect(first.code, first.stderr).toBe(0);
        expect(first.stderr).toMatch(
          /^setup: starting dockerd \(no Docker Engine answered; log: .*dockerd\.log\) …$/m,
        );
        expect(first.stderr).toMatch(/^setup: Docker Engine up in \d+ s$/m);
        // Before the fix the stand-in engine held the lock and this waited until it exited.
        const second = spawnSync('bash', [join(dir, 'scripts', 'setup.sh'), 'docker'], {
          cwd: dir,
          encoding: 'utf8',
          timeout: 15_000,
          env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, HOME: process.env.HOME ?? dir, ...env },
        });
        expect(second.error, 'the second setup waited on the lock').toBeUndefined();
        expect(second.status, second.stderr).toBe(0);
        expect(second.stderr).toBe('');
      } finally {
        if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
      }
    },
    30_000,
  );
});
