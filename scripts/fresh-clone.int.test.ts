/**
 * The README's two commands on a fresh clone: `git clone` of this repository's HEAD into a temporary
 * directory (no node_modules, no dist/, no .state/ — everything git ignores is absent, as for a new
 * user), then `npm test -- unit <a subset>` and `./scripts/deploy.sh -e development --dry-run` there.
 * Each must set itself up (scripts/setup.sh runs `npm ci` from the lockfile, announcing it), a second
 * run must skip that, and both must then do their job: the tests pass, the plan names every tier.
 *
 * npm ci is served from the warm npm cache (npm_config_prefer_offline), and better-sqlite3's native
 * addon from a local prebuild packed from this checkout's own build (prebuild-install's documented
 * `--local-prebuilds`, npm_config_better_sqlite3_local_prebuilds): without it each npm ci compiles
 * SQLite from source — 2 minutes on an idle 2-core machine, 4–6 on a busy one, twice per run — which is
 * not what this test is about (a user's first install compiles it once; setup.test.ts and CI's own
 * `npm ci` cover that path). npm ci runs twice (once per command, node_modules deleted in between);
 * each case is bounded at 15 minutes all the same. Only the committed
 * tree is cloned: uncommitted work is not in the clone. Needs git, the npm cache or registry, and a
 * running Docker Engine (the dry run reads the engine's state), which the integration run's own setup
 * provides.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MINUTE = 60_000;
/** A directory holding better-sqlite3's addon as prebuild-install names it, made in beforeAll. */
let localPrebuilds: string | undefined;

/** This checkout's compiled better-sqlite3, packed the way prebuild-install unpacks a download. */
async function packLocalPrebuild(dir: string): Promise<string | undefined> {
  const pkg = join(repoRoot, 'node_modules', 'better-sqlite3');
  const addon = join(pkg, 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(addon)) return undefined;
  const { version } = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as { version: string };
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  await mkdir(dir, { recursive: true });
  const packed = await run(pkg, 'tar', ['-czf', join(dir, name), 'build/Release/better_sqlite3.node']);
  return packed.code === 0 ? dir : undefined;
}

/**
 * The environment of a new user's shell: this one's, minus what the outer npm/vitest run put there
 * (npm_* lifecycle and config variables, VITEST*, NODE_ENV …) and ITS_SETUP (the clone must set itself
 * up whatever this machine's owner chose); plus the warm npm cache.
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = localPrebuilds
    ? { npm_config_better_sqlite3_local_prebuilds: localPrebuilds }
    : {};
  for (const [key, value] of Object.entries(process.env))
    if (
      !/^(npm_|VITEST|NODE_ENV$|NODE_OPTIONS$|NODE_V8_COVERAGE$|TEST$|INIT_CWD$|ITS_SETUP$|CI$|FORCE_COLOR$)/i.test(
        key,
      )
    )
      env[key] = value;
  return { ...env, npm_config_prefer_offline: 'true' };
}

interface Run {
  code: number | null;
  output: string;
  seconds: number;
}

function run(cwd: string, command: string, args: string[]): Promise<Run> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) =>
      done({ code, output: stripVTControlCharacters(output), seconds: (Date.now() - started) / 1000 }),
    );
  });
}

/** What a failed assertion prints: the command's last lines, not its whole npm log. */
const tail = (r: Run) => `exit ${r.code} after ${r.seconds.toFixed(0)} s:\n${r.output.slice(-4000)}`;
const NPM_CI = /^setup: npm ci \(node_modules missing\) …$/m;

describe('a fresh clone', () => {
  let tmp: string;
  let clone: string;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'its-fresh-clone-'));
    clone = join(tmp, 'its-camera-ai');
    localPrebuilds = await packLocalPrebuild(join(tmp, 'prebuilds'));
    const cloned = await run(tmp, 'git', ['clone', '--quiet', '--no-hardlinks', repoRoot, clone]);
    expect(cloned.code, tail(cloned)).toBe(0);
    expect(existsSync(join(clone, 'node_modules'))).toBe(false);
  }, 2 * MINUTE);
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }, 2 * MINUTE);

  it(
    '`npm test -- unit` installs what it needs, passes, and skips the install the second time',
    async () => {
      const subset = ['test', '--', 'unit', 'apps/vision/test/pure.test.ts'];
      const first = await run(clone, 'npm', subset);
      expect(first.code, tail(first)).toBe(0);
      expect(first.output, tail(first)).toMatch(NPM_CI);
      const npmCi = Number(/^setup: npm ci done in (\d+) s$/m.exec(first.output)?.[1]);
      expect(first.output).toMatch(/Test Files +1 passed \(1\)/);
      expect(first.output).not.toMatch(/MODULE_NOT_FOUND|Cannot find (module|package)/);

      const second = await run(clone, 'npm', subset);
      expect(second.code, tail(second)).toBe(0);
      expect(second.output).not.toMatch(/^setup:/m);
      expect(second.output).toMatch(/Test Files +1 passed \(1\)/);
      console.log(
        `fresh clone: npm test -- unit (subset) ${first.seconds.toFixed(0)} s with npm ci ${npmCi} s; ` +
          `again ${second.seconds.toFixed(1)} s`,
      );
    },
    15 * MINUTE,
  );

  it(
    '`./scripts/deploy.sh -e development --dry-run` installs what it needs and prints every tier’s plan',
    async () => {
      await rm(join(clone, 'node_modules'), { recursive: true, force: true });
      const first = await run(clone, './scripts/deploy.sh', ['-e', 'development', '--dry-run']);
      expect(first.code, tail(first)).toBe(0);
      expect(first.output, tail(first)).toMatch(NPM_CI);
      expect(first.output).not.toMatch(/404|could not be found/);
      for (const tier of ['development', 'development-web', 'development-vision'])
        expect(first.output, tail(first)).toMatch(new RegExp(`plan: rolling of ${tier}: `));
      expect(first.output).toMatch(/stack: +3 tiers/);
      expect(first.output).toMatch(/\(dry run: nothing was changed\)/);

      const second = await run(clone, './scripts/deploy.sh', ['-e', 'development', '--dry-run']);
      expect(second.code, tail(second)).toBe(0);
      expect(second.output).not.toMatch(/^setup:/m);
      console.log(
        `fresh clone: deploy.sh --dry-run ${first.seconds.toFixed(0)} s with npm ci; again ${second.seconds.toFixed(1)} s`,
      );
    },
    15 * MINUTE,
  );
});
