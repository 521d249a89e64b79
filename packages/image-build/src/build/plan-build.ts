/**
 * The build matrix as data: which `docker build` runs (argument arrays), which are skipped and why.
 * Pure: the host's architecture, QEMU registration and local base images are passed in.
 */
import { UsageError } from '@its/core';

export const BUILD_TARGETS = ['development', 'testing', 'production', 'gpu-production', 'edge'] as const;
export type BuildTarget = (typeof BUILD_TARGETS)[number];
export const BUILD_PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;
export type BuildPlatform = (typeof BUILD_PLATFORMS)[number];

export interface HostFacts {
  /** Docker's name for the engine's architecture: amd64 or arm64. */
  nativeArch: string;
  /** binfmt_misc handlers registered and enabled (e.g. qemu-aarch64). */
  binfmtHandlers: readonly string[];
  /**
   * Architectures for which both base images exist locally, under their platform names
   * (platformImage: `node:24-bookworm-slim` natively, `node:24-bookworm-slim-arm64` for arm64 on amd64):
   * they cannot be pulled on our machines.
   */
  baseImageArchs: readonly string[];
  /** Free bytes where the engine keeps images and build cache; undefined when it cannot be read. */
  dockerRootFreeBytes?: number | undefined;
  /** The engine's data directory (for messages), e.g. /var/lib/docker. */
  dockerRootDir?: string | undefined;
}

/**
 * An emulated build unpacks a whole second dependency tree and the runtime layers of another
 * architecture (measured: ≈ 3.5 GB for production + edge arm64); below this it would fail halfway.
 */
export const FOREIGN_BUILD_MIN_FREE_BYTES = 6 * 1024 ** 3;

export interface BuildRequest {
  targets: readonly string[];
  platforms: readonly string[];
  imageName: string;
  dockerfile: string;
  context: string;
  /** The target platform's Node base image, native name (default node:24-bookworm-slim). */
  baseImage: string;
  /** The target platform's Debian base image, native name (default debian:bookworm-slim). */
  debianImage?: string;
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

export const DEFAULT_NODE_IMAGE = 'node:24-bookworm-slim';
export const DEFAULT_DEBIAN_IMAGE = 'debian:bookworm-slim';

/**
 * The one naming rule for a foreign architecture's images in a local engine (Docker 20.10's image
 * store keeps one image per tag): the native name for the engine's own architecture, the architecture
 * as a tag suffix otherwise. `node:24-bookworm-slim` + arm64 on amd64 → `node:24-bookworm-slim-arm64`.
 */
export function platformImage(image: string, arch: string, nativeArch: string): string {
  return arch === nativeArch ? image : `${image}-${arch}`;
}

/** `its-camera-ai` + production + linux/amd64 on an amd64 host → `its-camera-ai:production`; foreign platforms get a suffix. */
export function tagFor(
  imageName: string,
  target: BuildTarget,
  platform: BuildPlatform,
  nativeArch: string,
): string {
  return platformImage(`${imageName}:${target}`, platform.split('/')[1] ?? '', nativeArch);
}

const gb = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GB`;

export function planBuild(request: BuildRequest, host: HostFacts): BuildPlan {
  const { targets, platforms } = validateBuildRequest(request.targets, request.platforms);
  const debianImage = request.debianImage ?? DEFAULT_DEBIAN_IMAGE;
  const jobs: BuildJob[] = [];
  const skipped: SkippedJob[] = [];
  for (const platform of platforms) {
    const arch = platform.split('/')[1] ?? '';
    const foreign = arch !== host.nativeArch;
    let reason: string | undefined;
    if (foreign) {
      const handler = QEMU_HANDLER[arch] ?? `qemu-${arch}`;
      if (!host.binfmtHandlers.includes(handler)) {
        reason = `no QEMU emulation for ${platform}: binfmt handler ${handler} is not registered (as root: apt-get install -y qemu-user-static binfmt-support; mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc if it is empty; update-binfmts --enable ${handler})`;
      } else if (!host.baseImageArchs.includes(arch)) {
        reason = `no ${platform} variant of ${request.baseImage} in the local engine (looked for ${platformImage(request.baseImage, arch, host.nativeArch)} and ${platformImage(debianImage, arch, host.nativeArch)}; they cannot be pulled here: scripts/bootstrap-base-images.sh --arch ${arch} creates them)`;
      } else if (
        host.dockerRootFreeBytes !== undefined &&
        host.dockerRootFreeBytes < FOREIGN_BUILD_MIN_FREE_BYTES
      ) {
        reason = `only ${gb(host.dockerRootFreeBytes)} free in ${host.dockerRootDir ?? "the engine's data directory"}; an emulated ${platform} build needs about ${gb(FOREIGN_BUILD_MIN_FREE_BYTES)} (free space: docker builder prune, docker image prune)`;
      }
    }
    // A foreign platform's base images go by their platform names; the build stages run on the
    // engine's own architecture from the native Node image (docker/Dockerfile, "Multi-architecture").
    const platformArgs = foreign
      ? [
          `NODE_IMAGE=${platformImage(request.baseImage, arch, host.nativeArch)}`,
          `DEBIAN_IMAGE=${platformImage(debianImage, arch, host.nativeArch)}`,
          `BUILD_NODE_IMAGE=${request.baseImage}`,
        ]
      : [];
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
        ...platformArgs.flatMap((a) => ['--build-arg', a]),
        ...(request.extraBuildArgs ?? []).flatMap((a) => ['--build-arg', a]),
        request.context,
      ];
      jobs.push({ target, platform, tag, args, env: { DOCKER_BUILDKIT: '1' } });
    }
  }
  return { jobs, skipped };
}
