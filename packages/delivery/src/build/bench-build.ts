/**
 * `npm run bench:build` (root script: `tsx --conditions=source packages/delivery/src/build/bench-build.ts`).
 * Per Dockerfile target: image size, cold build (--no-cache), warm rebuild with no change, and rebuild
 * after a source-only change, with whether the dependency layer (npm ci) ran again. Works on a copy of
 * the working tree under /tmp so the source change never touches the checkout. Options:
 *   --targets production,edge   (default: all five)     --json   (one JSON document on stdout)
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createDockerRunner, ensureDockerRunning } from './docker-cli.js';
import { countCacheHits } from './parse-build-output.js';
import { BUILD_TARGETS, validateBuildRequest } from './plan-build.js';
import { formatBytes, formatDuration } from './render-build-summary.js';

const root = resolve(new URL('../../../../', import.meta.url).pathname);
const args = process.argv.slice(2);
const json = args.includes('--json');
const targetsArg = args[args.indexOf('--targets') + 1];
const { targets } = validateBuildRequest(
  args.includes('--targets') && targetsArg ? targetsArg.split(',') : [...BUILD_TARGETS],
  ['linux/amd64'],
);
const log = (line: string) => process.stderr.write(`${line}\n`);

const docker = createDockerRunner();
await ensureDockerRunning(docker);

// A copy of the working tree (tracked and untracked, minus ignored files) as the build context.
const ctx = mkdtempSync(join(tmpdir(), 'its-bench-ctx-'));
const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
  cwd: root,
})
  .toString('utf8')
  .split('\0')
  .filter(Boolean);
execFileSync('tar', ['-C', root, '--null', '--ignore-failed-read', '-T', '-', '-cf', join(ctx, '.ctx.tar')], {
  input: files.join('\0'),
});
execFileSync('tar', ['-C', ctx, '-xf', join(ctx, '.ctx.tar')]);
rmSync(join(ctx, '.ctx.tar'));

// The source file a developer would edit; its content changes, its dependencies do not.
const SOURCE_FILE = 'apps/api/src/server.ts';

async function build(target: string, extra: string[]): Promise<{ ms: number; output: string }> {
  const started = performance.now();
  const res = await docker(
    [
      'build',
      '-f',
      'docker/Dockerfile',
      '--target',
      target,
      '-t',
      `its-camera-ai:bench-${target}`,
      '--progress',
      'plain',
      ...extra,
      '.',
    ],
    {
      env: { ...process.env, DOCKER_BUILDKIT: '1' },
    },
  );
  if (res.code !== 0)
    throw new Error(`build of ${target} failed:\n${res.stderr.split('\n').slice(-15).join('\n')}`);
  return { ms: Math.round(performance.now() - started), output: res.stderr + res.stdout };
}

/** Whether the dependency layer (`npm ci`) ran rather than coming from the cache; null if not in this build. */
function depsReinstalled(output: string): boolean | null {
  const id = output
    .split('\n')
    .find((l) => /^#\d+ \[deps \d+\/\d+\] RUN npm ci/.test(l))
    ?.match(/^#(\d+)/)?.[1];
  if (!id) return null;
  return !new RegExp(`^#${id} CACHED`, 'm').test(output);
}

const rows: Record<string, unknown>[] = [];
const origCwd = process.cwd();
process.chdir(ctx);
try {
  for (const target of targets) {
    log(`bench: ${target}: cold build (--no-cache)`);
    const cold = await build(target, ['--no-cache']);
    log(`bench: ${target}: warm rebuild, no change`);
    const warm = await build(target, []);
    log(`bench: ${target}: rebuild after a source-only change to ${SOURCE_FILE}`);
    appendFileSync(join(ctx, SOURCE_FILE), `\n// bench-build ${Date.now()}\n`);
    const source = await build(target, []);
    const size = Number(
      execFileSync('/usr/bin/docker', [
        'image',
        'inspect',
        '--format',
        '{{.Size}}',
        `its-camera-ai:bench-${target}`,
      ])
        .toString()
        .trim(),
    );
    const warmStats = countCacheHits(warm.output);
    const sourceStats = countCacheHits(source.output);
    rows.push({
      target,
      sizeBytes: size,
      coldMs: cold.ms,
      warmMs: warm.ms,
      warmCached: `${warmStats.cached}/${warmStats.steps}`,
      sourceChangeMs: source.ms,
      sourceChangeCached: `${sourceStats.cached}/${sourceStats.steps}`,
      depsReinstalledOnSourceChange: depsReinstalled(source.output),
    });
    log(
      `bench: ${target}: ${formatBytes(size)}, cold ${formatDuration(cold.ms)}, warm ${formatDuration(warm.ms)}, source change ${formatDuration(source.ms)}`,
    );
  }
} finally {
  process.chdir(origCwd);
  rmSync(ctx, { recursive: true, force: true });
  for (const t of targets)
    execFileSync('/usr/bin/docker', ['image', 'rm', '-f', `its-camera-ai:bench-${t}`], { stdio: 'ignore' });
}

const production = rows.find((r) => r.target === 'production')?.sizeBytes as number | undefined;
const edge = rows.find((r) => r.target === 'edge')?.sizeBytes as number | undefined;
const machine = {
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  engine: execFileSync('/usr/bin/docker', ['version', '--format', '{{.Server.Version}}']).toString().trim(),
  storageDriver: execFileSync('/usr/bin/docker', ['info', '--format', '{{.Driver}}']).toString().trim(),
  node: process.version,
  date: new Date().toISOString(),
};
const result = {
  machine,
  edgeToProductionRatio: production && edge ? Number((edge / production).toFixed(3)) : null,
  targets: rows,
};
if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  const lines = [
    `Machine: ${machine.cpus}, ${machine.memoryGiB} GiB, Docker ${machine.engine} (${machine.storageDriver}), Node ${machine.node}, ${machine.date}`,
    '',
    '| target | size | cold build | warm rebuild (no change) | source-only change | deps reinstalled on source change |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${String(r.target)} | ${formatBytes(r.sizeBytes as number)} | ${formatDuration(r.coldMs as number)} | ${formatDuration(r.warmMs as number)} (${String(r.warmCached)} cached) | ${formatDuration(r.sourceChangeMs as number)} (${String(r.sourceChangeCached)} cached) | ${r.depsReinstalledOnSourceChange === null ? 'n/a' : r.depsReinstalledOnSourceChange ? 'yes' : 'no'} |`,
    ),
    '',
    result.edgeToProductionRatio === null
      ? ''
      : `edge / production size: ${(result.edgeToProductionRatio * 100).toFixed(0)} %`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
