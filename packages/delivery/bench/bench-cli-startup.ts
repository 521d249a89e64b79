/**
 * `npm run bench:cli` (root): how long `itsctl` takes to start and answer, the compiled launcher side
 * by side with the old path (tsx on the sources, ITSCTL_USE_SOURCE=1) as the baseline, and with npx's
 * own overhead shown separately. Runs are interleaved (one of each command per round) so a burst of
 * load on a shared machine hits every command alike; one warm-up round first compiles dist/ if needed.
 *
 *   node --import tsx packages/delivery/bench/bench-cli-startup.ts [--runs 15] [--json]
 *
 * `tags` runs with a GitHub Actions push-of-a-tag environment (what the release workflow's tag step
 * sees), in a throw-away git repository so the repository's own tags do not matter.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CliStartupResult {
  command: string;
  medianMs: number;
  p90Ms: number;
  runs: number;
}

export interface BenchCliStartupOptions {
  /** Timed runs per command (default 15). */
  runs?: number;
  /** The repository root (default: this file's ../../..). */
  repoRoot?: string;
  /** Leave out the tsx baseline (each of its runs costs about a second). */
  skipBaseline?: boolean;
  /** Called with one line per round, for progress on stderr. */
  progress?: (line: string) => void;
}

interface Case {
  command: string;
  argv: string[];
  env?: Record<string, string>;
  cwd?: string;
}

function percentile(sorted: number[], p: number): number {
  // Nearest rank: the smallest value with at least p of the runs at or below it.
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

function git(cwd: string, args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A one-commit repository tagged v1.2.3 and the GitHub Actions variables of a push of that tag. */
function tagPushFixture(): { dir: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'its-bench-cli-'));
  git(dir, ['init', '-q', '-b', 'main']);
  writeFileSync(join(dir, 'README.md'), 'bench\n');
  git(dir, ['add', 'README.md']);
  git(dir, ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-qm', 'feat: one']);
  git(dir, ['tag', 'v1.2.3']);
  const event = join(dir, 'event.json');
  writeFileSync(
    event,
    JSON.stringify({
      repository: {
        name: 'its-camera-ai',
        html_url: 'https://github.com/acme/its-camera-ai',
        default_branch: 'main',
        license: { spdx_id: 'MIT' },
      },
      head_commit: { timestamp: '2026-11-26T00:00:00Z' },
    }),
  );
  return {
    dir,
    env: {
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REF: 'refs/tags/v1.2.3',
      GITHUB_SHA: git(dir, ['rev-parse', 'HEAD']),
      GITHUB_EVENT_PATH: event,
      GITHUB_REPOSITORY: 'acme/its-camera-ai',
      GITHUB_SERVER_URL: 'https://github.com',
      DOCKER_REGISTRY: 'ghcr.io/acme',
      IMAGE_NAME: 'its-camera-ai',
    },
  };
}

/** Times `runs` runs of each command; the first round (compiling dist/ when stale) is not counted. */
export async function benchCliStartup(opts: BenchCliStartupOptions = {}): Promise<CliStartupResult[]> {
  const runs = opts.runs ?? 15;
  const root = opts.repoRoot ?? resolve(fileURLToPath(new URL('../../..', import.meta.url)));
  const launcher = 'packages/delivery/bin/itsctl.js';
  const fixture = tagPushFixture();
  const abs = join(root, launcher);
  const cases: Case[] = [
    { command: `node ${launcher} --help`, argv: [process.execPath, launcher, '--help'] },
    { command: `node ${launcher} tags --help`, argv: [process.execPath, launcher, 'tags', '--help'] },
    {
      command: `node ${launcher} tags (tag push env)`,
      argv: [process.execPath, abs, 'tags'],
      env: fixture.env,
      cwd: fixture.dir,
    },
    { command: 'node_modules/.bin/itsctl --help', argv: ['node_modules/.bin/itsctl', '--help'] },
    { command: 'npx --no-install itsctl --help', argv: ['npx', '--no-install', 'itsctl', '--help'] },
    ...(opts.skipBaseline
      ? []
      : [
          {
            command: `ITSCTL_USE_SOURCE=1 node ${launcher} --help (old path: tsx)`,
            argv: [process.execPath, launcher, '--help'],
            env: { ITSCTL_USE_SOURCE: '1' },
          },
          {
            command: `ITSCTL_USE_SOURCE=1 node ${launcher} tags (tag push env; old path: tsx)`,
            argv: [process.execPath, abs, 'tags'],
            env: { ...fixture.env, ITSCTL_USE_SOURCE: '1' },
            cwd: fixture.dir,
          },
        ]),
  ];
  const base: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env))
    if (value !== undefined && !key.startsWith('ITSCTL_') && !key.startsWith('GITHUB_')) base[key] = value;
  const times = cases.map(() => [] as number[]);
  try {
    for (let round = 0; round <= runs; round++) {
      for (const [i, c] of cases.entries()) {
        // A run that compiled (someone saved a source file meanwhile) times tsc, not start-up: again.
        for (let attempt = 0; ; attempt++) {
          const started = performance.now();
          const r = spawnSync(c.argv[0]!, c.argv.slice(1), {
            cwd: c.cwd ?? root,
            env: { ...base, ...c.env },
            encoding: 'utf8',
            maxBuffer: 16 * 1024 * 1024,
          });
          const ms = performance.now() - started;
          if (r.status !== 0)
            throw new Error(`${c.command}: exit ${r.status ?? r.signal}: ${r.stderr || r.error?.message}`);
          if (r.stderr.includes('itsctl: compiling') && attempt < 3) {
            opts.progress?.(`${c.command}: compiled dist/ first (sources changed); run again`);
            continue;
          }
          if (round > 0) times[i]!.push(ms);
          break;
        }
      }
      opts.progress?.(round === 0 ? 'warm-up round done' : `round ${round}/${runs}`);
    }
  } finally {
    rmSync(fixture.dir, { recursive: true, force: true });
  }
  return cases.map((c, i) => {
    const sorted = [...times[i]!].sort((a, b) => a - b);
    return {
      command: c.command,
      medianMs: Math.round(percentile(sorted, 0.5)),
      p90Ms: Math.round(percentile(sorted, 0.9)),
      runs: sorted.length,
    };
  });
}

async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const runsAt = argv.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 15;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs: a whole number ≥ 1');
  const before = loadavg();
  const results = await benchCliStartup({
    runs,
    skipBaseline: argv.includes('--skip-baseline'),
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    loadavgBefore: before.map((l) => Number(l.toFixed(2))),
    loadavgAfter: loadavg().map((l) => Number(l.toFixed(2))),
  };
  if (json) {
    process.stdout.write(`${JSON.stringify({ machine, results }, null, 2)}\n`);
    return;
  }
  const lines = [
    `${machine.cpu} × ${machine.cores}, Node ${machine.node}, load average ${machine.loadavgBefore.join(' ')} → ${machine.loadavgAfter.join(' ')}`,
    '',
    '| command | median ms | p90 ms | runs |',
    '|---|---:|---:|---:|',
    ...results.map((r) => `| \`${r.command}\` | ${r.medianMs} | ${r.p90Ms} | ${r.runs} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
