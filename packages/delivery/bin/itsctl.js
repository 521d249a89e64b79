#!/usr/bin/env node
// Launcher for `itsctl`. It runs the compiled dist/ in this process (no second Node: start-up is what
// CI and the tag computation pay on every call). In the repository (src/ present) it first checks that
// dist/ is up to date with the sources and, when it is not, compiles them with `tsc -b`; a build that
// fails (a developer mid-edit) falls back to running the sources with tsx, so nobody is ever blocked.
//
//   ITSCTL_USE_SOURCE=1  always run the sources with tsx (the old path: ~1 s a call)
//   ITSCTL_USE_DIST=1    run dist/ as it is, without the staleness check
//   ITSCTL_LAUNCHER_ROOT the package to launch instead of this one (tests only)
//
// Staleness: dist/.itsctl-stamp is touched with the time a successful build *started*, so an edit made
// during a build is seen as newer. dist/ is stale when any compiled input (src/**/*.ts except tests and
// fixtures, package.json, tsconfig.json and the file it extends, the same for each project reference)
// is newer than the stamp: about 130 stat calls, 2–8 ms. Concurrent first runs take a lock file
// (O_EXCL); the others wait for it, then find dist/ fresh. A failed build leaves dist/.itsctl-failed
// (same rule) so unchanged broken sources go to tsx at once instead of paying for tsc on every call.
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = process.env.ITSCTL_LAUNCHER_ROOT
  ? resolve(process.env.ITSCTL_LAUNCHER_ROOT)
  : join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceEntry = join(root, 'src', 'bin', 'itsctl.ts');
const compiledEntry = join(root, 'dist', 'bin', 'itsctl.js');
const stampFile = join(root, 'dist', '.itsctl-stamp');
const failedFile = join(root, 'dist', '.itsctl-failed');
const lockFile = join(root, 'dist', '.itsctl-build.lock');
const require = createRequire(import.meta.url);

/** stderr without the risk of an EPIPE crash: a closed stderr just loses the line. */
function say(line) {
  try {
    writeSync(2, `itsctl: ${line}\n`);
  } catch {
    // stderr is closed; nothing to tell anyone
  }
}

function mtimeMs(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The newest mtime among the files `tsc -b <dir>` compiles or reads its options from. */
function newestInput(projectDir, seen = new Set()) {
  if (seen.has(projectDir)) return 0;
  seen.add(projectDir);
  let newest = 0;
  const bump = (path) => {
    const t = mtimeMs(path);
    if (t !== undefined && t > newest) newest = t;
  };
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'fixtures' && entry.name !== 'node_modules' && entry.name !== '__snapshots__')
          walk(path);
      } else if (/\.(ts|mts|cts|tsx|json)$/.test(entry.name) && !/\.test\.ts$/.test(entry.name)) {
        bump(path);
      }
    }
  };
  walk(join(projectDir, 'src'));
  bump(join(projectDir, 'package.json'));
  const tsconfigPath = join(projectDir, 'tsconfig.json');
  bump(tsconfigPath);
  let tsconfig = {};
  try {
    tsconfig = JSON.parse(readFileSync(tsconfigPath, 'utf8'));
  } catch {
    // not plain JSON (comments): its own mtime still counts, its extends/references are not followed
  }
  if (typeof tsconfig.extends === 'string' && tsconfig.extends.startsWith('.'))
    bump(resolve(projectDir, tsconfig.extends));
  for (const ref of Array.isArray(tsconfig.references) ? tsconfig.references : [])
    if (typeof ref?.path === 'string')
      newest = Math.max(newest, newestInput(resolve(projectDir, ref.path), seen));
  return newest;
}

/** 'fresh' | 'stale' | 'broken' (the last build failed and nothing changed since). */
function distState() {
  if (!existsSync(compiledEntry)) return 'stale';
  const newest = newestInput(root);
  const built = mtimeMs(stampFile);
  if (built !== undefined && newest <= built) return 'fresh';
  const failed = mtimeMs(failedFile);
  if (failed !== undefined && newest <= failed && (built === undefined || failed > built)) return 'broken';
  return 'stale';
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Takes the build lock; false when another live itsctl holds it (then wait and look again). */
function tryLock(retry = true) {
  mkdirSync(dirname(lockFile), { recursive: true });
  try {
    const fd = openSync(lockFile, 'wx');
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
  }
  // A holder that died (killed mid-build) must not block everyone: break its lock.
  let holder;
  try {
    holder = Number(readFileSync(lockFile, 'utf8').trim());
  } catch {
    return false; // released between our open and our read
  }
  const age = Date.now() - (mtimeMs(lockFile) ?? Date.now());
  if (!Number.isInteger(holder) || holder <= 0) {
    // Created but its pid not written yet (or garbage): give a live writer a moment.
    if (age < 10_000) return false;
  } else {
    let alive;
    try {
      process.kill(holder, 0);
      alive = true;
    } catch (error) {
      alive = error.code === 'EPERM';
    }
    if (alive && age < 10 * 60_000) return false;
  }
  try {
    // Only the lock we judged: another waiter may already have broken it and taken a new one.
    if (Number(readFileSync(lockFile, 'utf8').trim()) === holder) rmSync(lockFile, { force: true });
  } catch {
    // gone already
  }
  return retry && tryLock(false);
}

/**
 * Touches a stamp with the time the build started, or with the newest input when that is later (a
 * file dated in the future, from a tarball or a skewed clock, must not make every run a rebuild).
 */
function stamp(path, text, started, newest) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  const at = Math.max(started, newest) / 1000;
  utimesSync(path, at, at);
}

/** Compiles with `tsc -b`; returns undefined on success or a one-line reason on failure. */
function compile() {
  let tsc;
  try {
    tsc = require.resolve('typescript/bin/tsc');
  } catch {
    if (!existsSync(compiledEntry))
      return 'typescript is not installed (run `npm install` at the repository root)';
    say('warning: typescript is not installed; running dist/ as it is (it may be older than src/)');
    return undefined;
  }
  let name = '@its/delivery';
  try {
    name = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name ?? name;
  } catch {
    // the default name will do for a message
  }
  say(`compiling ${name} (first run or sources changed)…`);
  const started = Date.now();
  const newest = newestInput(root);
  const result = spawnSync(process.execPath, [tsc, '-b', join(root, 'tsconfig.json'), '--pretty', 'false'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status === 0) {
    stamp(stampFile, `built by itsctl in ${seconds} s\n`, started, newest);
    rmSync(failedFile, { force: true });
    say(`compiled in ${seconds} s`);
    return undefined;
  }
  const errors = `${result.stdout ?? ''}${result.stderr ?? ''}`
    .split('\n')
    .filter((l) => /error TS\d+/.test(l));
  const reason = errors.length
    ? `${errors[0].trim()}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`
    : (result.error?.message ?? `tsc exited with ${result.status ?? result.signal}`);
  stamp(failedFile, `${reason}\n`, started, newest);
  return reason;
}

/** Brings dist/ up to date; returns undefined when it is, or why the sources must run instead. */
function ensureCompiled() {
  let waited = false;
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const state = distState();
    if (state === 'fresh') return undefined;
    if (state === 'broken') {
      try {
        return readFileSync(failedFile, 'utf8').trim() || 'the last build failed';
      } catch {
        continue; // a build just succeeded and removed it: look again
      }
    }
    if (tryLock()) {
      try {
        // Someone may have finished a build between our look and our lock.
        const again = distState();
        if (again === 'fresh') return undefined;
        return compile();
      } finally {
        rmSync(lockFile, { force: true });
      }
    }
    if (Date.now() > deadline) return 'waited 10 minutes for another itsctl to finish compiling';
    if (!waited) say('waiting for another itsctl to finish compiling…');
    waited = true;
    sleep(100);
  }
}

function runSource() {
  let tsx;
  try {
    tsx = import.meta.resolve('tsx');
  } catch {
    say('tsx is not installed; run `npm install` at the repository root');
    process.exit(70);
  }
  const result = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', tsx, sourceEntry, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  if (result.error) {
    say(result.error.message);
    process.exit(70);
  }
  process.exit(result.status ?? (result.signal ? 128 : 70));
}

const hasSource = existsSync(sourceEntry);
if (hasSource && process.env.ITSCTL_USE_SOURCE === '1') runSource();
if (hasSource && process.env.ITSCTL_USE_DIST !== '1') {
  const problem = ensureCompiled();
  if (problem !== undefined) {
    say(`warning: the sources do not compile (${problem}); running them with tsx`);
    runSource();
  }
}
await import(pathToFileURL(compiledEntry).href);
