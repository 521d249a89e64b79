/**
 * Runs a build plan on the local engine, one build at a time (our machines have two cores), streaming
 * step headers as progress and collecting size, duration and cache hits per image.
 */
import { readFile, readdir, statfs } from 'node:fs/promises';
import type { DockerRunner } from '@its/docker-engine';
import { countCacheHits, failureExcerpt, progressLines } from './parse-build-output.js';
import { type BuildPlan, DEFAULT_DEBIAN_IMAGE, type HostFacts, platformImage } from './plan-build.js';
import type { BuildRow } from './render-build-summary.js';

export interface RunBuildOptions {
  docker: DockerRunner;
  plan: BuildPlan;
  now: () => number;
  progress: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export async function runBuildPlan(options: RunBuildOptions): Promise<BuildRow[]> {
  const { docker, plan, now, progress } = options;
  const rows: BuildRow[] = [];
  for (const skip of plan.skipped) {
    progress(`skipped: ${skip.target} ${skip.platform}: ${skip.reason}`);
  }
  for (const [i, job] of plan.jobs.entries()) {
    const prefix = `[${i + 1}/${plan.jobs.length} ${job.target} ${job.platform}]`;
    progress(`${prefix} building ${job.tag}`);
    const started = now();
    let pending = '';
    const res = await docker(job.args, {
      env: { ...(options.env ?? process.env), ...job.env },
      onOutput: (chunk) => {
        pending += chunk;
        const cut = pending.lastIndexOf('\n');
        if (cut === -1) return;
        for (const line of progressLines(pending.slice(0, cut))) progress(`${prefix} ${line}`);
        pending = pending.slice(cut + 1);
      },
    });
    const durationMs = Math.round(now() - started);
    const stats = countCacheHits(res.stderr + res.stdout);
    if (res.code !== 0) {
      progress(
        `${prefix} FAILED after ${(durationMs / 1000).toFixed(1)}s:\n${failureExcerpt(res.stderr || res.stdout)}`,
      );
      rows.push({
        target: job.target,
        platform: job.platform,
        tag: job.tag,
        status: 'failed',
        sizeBytes: null,
        durationMs,
        steps: stats.steps,
        cached: stats.cached,
      });
      continue;
    }
    const inspect = await docker(['image', 'inspect', '--format', '{{.Size}}', job.tag]);
    const size = inspect.code === 0 ? Number(inspect.stdout.trim()) : NaN;
    progress(
      `${prefix} done in ${(durationMs / 1000).toFixed(1)}s, ${stats.cached}/${stats.steps} steps cached`,
    );
    rows.push({
      target: job.target,
      platform: job.platform,
      tag: job.tag,
      status: 'built',
      sizeBytes: Number.isFinite(size) ? size : null,
      durationMs,
      steps: stats.steps,
      cached: stats.cached,
    });
  }
  for (const skip of plan.skipped) {
    rows.push({
      target: skip.target,
      platform: skip.platform,
      tag: '',
      status: 'skipped',
      sizeBytes: null,
      durationMs: null,
      steps: null,
      cached: null,
      reason: skip.reason,
    });
  }
  return rows;
}

/** Enabled binfmt_misc handlers, e.g. ["qemu-aarch64"]; none when binfmt_misc is not mounted. */
export async function readBinfmtHandlers(dir = '/proc/sys/fs/binfmt_misc'): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const enabled: string[] = [];
  for (const name of names) {
    if (name === 'register' || name === 'status') continue;
    const text = await readFile(`${dir}/${name}`, 'utf8').catch(() => '');
    if (text.startsWith('enabled')) enabled.push(name);
  }
  return enabled;
}

/** What the planner needs to know about this machine. */
export async function readHostFacts(
  docker: DockerRunner,
  baseImage: string,
  debianImage: string = DEFAULT_DEBIAN_IMAGE,
): Promise<HostFacts> {
  const info = await docker(['info', '--format', '{{.Architecture}}|{{.DockerRootDir}}']);
  const [rawArch = '', rootDir = ''] = info.code === 0 ? info.stdout.trim().split('|') : [];
  // `docker info` says x86_64/aarch64 (the kernel's names); builds and images say amd64/arm64.
  const kernelToDocker: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64' };
  const nativeArch = kernelToDocker[rawArch] ?? (rawArch || 'amd64');
  const archOf = async (image: string) => {
    const res = await docker(['image', 'inspect', '--format', '{{.Architecture}}', image]);
    return res.code === 0 ? res.stdout.trim() : undefined;
  };
  const baseImageArchs: string[] = [];
  for (const arch of ['amd64', 'arm64']) {
    const [node, debian] = await Promise.all([
      archOf(platformImage(baseImage, arch, nativeArch)),
      archOf(platformImage(debianImage, arch, nativeArch)),
    ]);
    if (node === arch && debian === arch) baseImageArchs.push(arch);
  }
  return {
    nativeArch,
    binfmtHandlers: await readBinfmtHandlers(),
    baseImageArchs,
    dockerRootDir: rootDir || undefined,
    dockerRootFreeBytes: rootDir ? await freeBytes(rootDir) : undefined,
  };
}

/** Free bytes on the file system holding `dir` (undefined when it is not local, e.g. a remote engine). */
async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const stats = await statfs(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}
