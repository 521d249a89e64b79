/**
 * `npm run bench:build` (root script: `tsx --conditions=source packages/delivery/bench/bench-build.ts`).
 * Per Dockerfile target: image size, cold build (--no-cache), warm rebuild with no change, and rebuild
 * after a source-only change, with whether the dependency layer (npm ci) ran again. Works on a copy of
 * the working tree under /tmp so the source change never touches the checkout. With several platforms,
 * each target is built for each (a foreign one under QEMU, base images by platform name: plan-build.ts),
 * side by side. Ends with `itsctl` start-up, compiled launcher vs the old tsx path (bench-cli-startup.ts).
 * Options:
 *   --targets production,edge   (default: all five)     --json   (one JSON document on stdout)
 *   --platforms linux/amd64,linux/arm64   (default: linux/amd64)
 *   --cli-runs N   (itsctl start-up runs per command, default 10; 0 leaves it out)
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createDockerRunner, ensureDockerRunning } from '@its/docker-engine';
import { countCacheHits } from '@its/image-build';
import { benchCliStartup, type CliStartupResult } from './bench-cli-startup.js';
import {
  BUILD_TARGETS,
  DEFAULT_DEBIAN_IMAGE,
  DEFAULT_NODE_IMAGE,
  platformImage,
  validateBuildRequest,
} from '@its/image-build';
import { formatBytes, formatDuration } from '@its/image-build';

const root = resolve(new URL('../../../', import.meta.url).pathname);
const args = process.argv.slice(2);
const json = args.includes('--json');
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const { targets, platforms } = validateBuildRequest(
  option('--targets')?.split(',') ?? [...BUILD_TARGETS],
  option('--platforms')?.split(',') ?? ['linux/amd64'],
);
const cliRuns = Number(option('--cli-runs') ?? 10);
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

const nativeArch = execFileSync('/usr/bin/docker', ['version', '--format', '{{.Server.Arch}}'])
  .toString()
  .trim();
/** The platform's flags: its base images by platform name for a foreign one (as `itsctl build` passes them). */
function platformArgs(platform: string): string[] {
  const arch = platform.split('/')[1] ?? '';
  const images =
    arch === nativeArch
      ? []
      : [
          `NODE_IMAGE=${platformImage(DEFAULT_NODE_IMAGE, arch, nativeArch)}`,
          `DEBIAN_IMAGE=${platformImage(DEFAULT_DEBIAN_IMAGE, arch, nativeArch)}`,
          `BUILD_NODE_IMAGE=${DEFAULT_NODE_IMAGE}`,
        ];
  return ['--platform', platform, ...images.flatMap((a) => ['--build-arg', a])];
}
const benchTag = (target: string, platform: string) =>
  `its-camera-ai:bench-${target}-${platform.split('/')[1] ?? ''}`;

async function build(
  target: string,
  platform: string,
  extra: string[],
): Promise<{ ms: number; output: string }> {
  const started = performance.now();
  const res = await docker(
    [
      'build',
      '-f',
      'docker/Dockerfile',
      '--target',
      target,
      '-t',
      benchTag(target, platform),
      ...platformArgs(platform),
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
  for (const target of targets)
    for (const platform of platforms) {
      const what = `${target} ${platform}`;
      log(`bench: ${what}: cold build (--no-cache)`);
      const cold = await build(target, platform, ['--no-cache']);
      log(`bench: ${what}: warm rebuild, no change`);
      const warm = await build(target, platform, []);
      log(`bench: ${what}: rebuild after a source-only change to ${SOURCE_FILE}`);
      appendFileSync(join(ctx, SOURCE_FILE), `\n// bench-build ${Date.now()}\n`);
      const source = await build(target, platform, []);
      const size = Number(
        execFileSync('/usr/bin/docker', [
          'image',
          'inspect',
          '--format',
          '{{.Size}}',
          benchTag(target, platform),
        ])
          .toString()
          .trim(),
      );
      const warmStats = countCacheHits(warm.output);
      const sourceStats = countCacheHits(source.output);
      rows.push({
        target,
        platform,
        sizeBytes: size,
        coldMs: cold.ms,
        warmMs: warm.ms,
        warmCached: `${warmStats.cached}/${warmStats.steps}`,
        sourceChangeMs: source.ms,
        sourceChangeCached: `${sourceStats.cached}/${sourceStats.steps}`,
        depsReinstalledOnSourceChange: depsReinstalled(source.output),
      });
      log(
        `bench: ${what}: ${formatBytes(size)}, cold ${formatDuration(cold.ms)}, warm ${formatDuration(warm.ms)}, source change ${formatDuration(source.ms)}`,
      );
    }
} finally {
  process.chdir(origCwd);
  rmSync(ctx, { recursive: true, force: true });
  for (const t of targets)
    for (const p of platforms)
      execFileSync('/usr/bin/docker', ['image', 'rm', '-f', benchTag(t, p)], { stdio: 'ignore' });
}

let cli: CliStartupResult[] = [];
if (cliRuns > 0) {
  log(`bench: itsctl start-up, ${cliRuns} runs per command`);
  cli = await benchCliStartup({ runs: cliRuns, repoRoot: root, progress: log });
}

const native = `linux/${nativeArch}`;
const production = rows.find((r) => r.target === 'production' && r.platform === native)?.sizeBytes as
  number | undefined;
const edge = rows.find((r) => r.target === 'edge' && r.platform === native)?.sizeBytes as number | undefined;
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
  cliStartup: cli,
};
if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  const lines = [
    `Machine: ${machine.cpus}, ${machine.memoryGiB} GiB, Docker ${machine.engine} (${machine.storageDriver}), Node ${machine.node}, ${machine.date}`,
    '',
    '| target | platform | size | cold build | warm rebuild (no change) | source-only change | deps reinstalled on source change |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${String(r.target)} | ${String(r.platform)} | ${formatBytes(r.sizeBytes as number)} | ${formatDuration(r.coldMs as number)} | ${formatDuration(r.warmMs as number)} (${String(r.warmCached)} cached) | ${formatDuration(r.sourceChangeMs as number)} (${String(r.sourceChangeCached)} cached) | ${r.depsReinstalledOnSourceChange === null ? 'n/a' : r.depsReinstalledOnSourceChange ? 'yes' : 'no'} |`,
    ),
    '',
    result.edgeToProductionRatio === null
      ? ''
      : `edge / production size: ${(result.edgeToProductionRatio * 100).toFixed(0)} %`,
    ...(cli.length
      ? [
          '',
          '| itsctl start-up | median | p90 | runs |',
          '|---|---|---|---|',
          ...cli.map((c) => `| \`${c.command}\` | ${c.medianMs} ms | ${c.p90Ms} ms | ${c.runs} |`),
        ]
      : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
