/**
 * The build matrix as data: which `docker build` runs (argument arrays), which are skipped and why.
 * Pure: the host's architecture, QEMU registration and local base images are passed in.
 */
import { UsageError } from '../errors.js';

export const BUILD_TARGETS = ['development', 'testing', 'production', 'gpu-production', 'edge'] as const;
export type BuildTarget = (typeof BUILD_TARGETS)[number];
export const BUILD_PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;
export type BuildPlatform = (typeof BUILD_PLATFORMS)[number];

export interface HostFacts {
  /** Docker's name for the engine's architecture: amd64 or arm64. */
  nativeArch: string;
  /** binfmt_misc handlers registered and enabled (e.g. qemu-aarch64). */
  binfmtHandlers: readonly string[];
  /** Architectures the local base image exists for (it cannot be pulled on our machines). */
  baseImageArchs: readonly string[];
}

export interface BuildRequest {
  targets: readonly string[];
  platforms: readonly string[];
  imageName: string;
  dockerfile: string;
  context: string;
  baseImage: string;
  labels: { version: string; revision: string; created: string; source: string };
  extraBuildArgs?: readonly string[];
}

export interface BuildJob {
  target: BuildTarget;
  platform: BuildPlatform;
  tag: string;
  args: string[];
  env: Record<string, string>;
}

export interface SkippedJob {
  target: BuildTarget;
  platform: BuildPlatform;
  reason: string;
}

export interface BuildPlan {
  jobs: BuildJob[];
  skipped: SkippedJob[];
}

const QEMU_HANDLER: Record<string, string> = { arm64: 'qemu-aarch64', amd64: 'qemu-x86_64' };

/** Validates the requested targets and platforms; every unknown value is reported at once. */
export function validateBuildRequest(
  targets: readonly string[],
  platforms: readonly string[],
): { targets: BuildTarget[]; platforms: BuildPlatform[] } {
  const problems: string[] = [];
  for (const t of targets) {
    if (!(BUILD_TARGETS as readonly string[]).includes(t))
      problems.push(`--target: unknown target '${t}'; valid targets: ${BUILD_TARGETS.join(', ')}`);
  }
  for (const p of platforms) {
    if (!(BUILD_PLATFORMS as readonly string[]).includes(p))
      problems.push(`--platform: unknown platform '${p}'; valid platforms: ${BUILD_PLATFORMS.join(', ')}`);
  }
  if (problems.length) throw new UsageError(problems.join('\n'));
  const unique = <T>(xs: readonly T[]) => [...new Set(xs)];
  return { targets: unique(targets) as BuildTarget[], platforms: unique(platforms) as BuildPlatform[] };
}

/** `its-camera-ai` + production + linux/amd64 on an amd64 host → `its-camera-ai:production`; foreign platforms get a suffix. */
export function tagFor(
  imageName: string,
  target: BuildTarget,
  platform: BuildPlatform,
  nativeArch: string,
): string {
  const arch = platform.split('/')[1] ?? '';
  return arch === nativeArch ? `${imageName}:${target}` : `${imageName}:${target}-${arch}`;
}

export function planBuild(request: BuildRequest, host: HostFacts): BuildPlan {
  const { targets, platforms } = validateBuildRequest(request.targets, request.platforms);
  const jobs: BuildJob[] = [];
  const skipped: SkippedJob[] = [];
  for (const platform of platforms) {
    const arch = platform.split('/')[1] ?? '';
    let reason: string | undefined;
    if (arch !== host.nativeArch) {
      const handler = QEMU_HANDLER[arch] ?? `qemu-${arch}`;
      if (!host.binfmtHandlers.includes(handler)) {
        reason = `no QEMU emulation for ${platform}: binfmt handler ${handler} is not registered (apt-get install -y qemu-user-static binfmt-support; update-binfmts --enable ${handler})`;
      } else if (!host.baseImageArchs.includes(arch)) {
        reason = `no ${platform} variant of ${request.baseImage} in the local engine (it cannot be pulled here; bootstrap one for ${arch} first)`;
      }
    }
    for (const target of targets) {
      if (reason) {
        skipped.push({ target, platform, reason });
        continue;
      }
      const tag = tagFor(request.imageName, target, platform, host.nativeArch);
      const { version, revision, created, source } = request.labels;
      const args = [
        'build',
        '--file',
        request.dockerfile,
        '--target',
        target,
        '--platform',
        platform,
        '--tag',
        tag,
        '--progress',
        'plain',
        '--build-arg',
        `VERSION=${version}`,
        '--build-arg',
        `REVISION=${revision}`,
        '--build-arg',
        `CREATED=${created}`,
        '--build-arg',
        `SOURCE=${source}`,
        ...(request.extraBuildArgs ?? []).flatMap((a) => ['--build-arg', a]),
        request.context,
      ];
      jobs.push({ target, platform, tag, args, env: { DOCKER_BUILDKIT: '1' } });
    }
  }
  return { jobs, skipped };
}
