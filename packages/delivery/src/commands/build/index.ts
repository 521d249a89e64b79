/**
 * `itsctl build [--target T …] [--platform P …] [--json]`: builds docker/Dockerfile's targets for each
 * platform on the local engine (BuildKit through Debian's docker client) and prints a summary table.
 */
import { resolve } from 'node:path';
import { StepFailedError } from '@its/core';
import { type CommandModule, collect, log, wantsJson, writeResult } from '../../cli/io.js';
import {
  BUILD_PLATFORMS,
  BUILD_TARGETS,
  DEFAULT_DEBIAN_IMAGE,
  DEFAULT_NODE_IMAGE,
  planBuild,
  validateBuildRequest,
} from '@its/image-build/plan';

interface Options {
  target?: string[];
  platform?: string[];
  imageName?: string;
  version?: string;
  revision?: string;
  source?: string;
  dockerfile: string;
  context: string;
  baseImage: string;
  debianImage: string;
  buildArg?: string[];
  skipUnavailable?: boolean;
}

/** `--platform linux/amd64,linux/arm64` and repeated flags both work, as with docker buildx. */
function splitList(values: readonly string[] | undefined): string[] | undefined {
  return values
    ?.flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

export const buildCommand: CommandModule = {
  register(program, io) {
    program
      .command('build')
      .summary('build the Dockerfile targets × platforms on the local engine')
      .description(
        `Builds docker/Dockerfile's targets (${BUILD_TARGETS.join(', ')}) for each platform
(${BUILD_PLATFORMS.join(', ')}), one at a time, with BuildKit and Debian's docker client, then prints
target, platform, size, duration and cache hits. A foreign platform builds through QEMU only when its
binfmt handler is registered, base images for it exist locally (scripts/bootstrap-base-images.sh --arch
arm64) and the engine's disk has room; otherwise the command stops before building anything and says
why (--skip-unavailable lists such platforms as skipped and builds the rest). Foreign platforms compile
on the engine's own architecture and run only their runtime steps emulated (docker/Dockerfile); their
images are tagged with the architecture as a suffix (its-camera-ai:edge-arm64), ready for
\`itsctl registry publish\` and \`itsctl registry index\`.`,
      )
      .option('--target <target>', `a target to build; repeatable (default: all five)`, collect)
      .option(
        '--platform <platform>',
        'a platform, or several separated by commas; repeatable (default: linux/amd64)',
        collect,
      )
      .option('--image-name <name>', 'image repository (default: $IMAGE_NAME or its-camera-ai)')
      .option('--version <version>', 'OCI version label (default: $VERSION or the root package.json version)')
      .option('--revision <sha>', 'OCI revision label (default: $GITHUB_SHA or unknown)')
      .option('--source <url>', 'OCI source label (default: $SOURCE_URL or the project URL)')
      .option('--dockerfile <file>', 'Dockerfile', 'docker/Dockerfile')
      .option('--context <dir>', 'build context', '.')
      .option(
        '--base-image <image>',
        "the Node base image (a foreign platform's: this name + -ARCH)",
        DEFAULT_NODE_IMAGE,
      )
      .option(
        '--debian-image <image>',
        "the Debian base image (a foreign platform's: this name + -ARCH)",
        DEFAULT_DEBIAN_IMAGE,
      )
      .option('--skip-unavailable', 'build what can be built; list the platforms that cannot as skipped')
      .option('--build-arg <KEY=VALUE>', 'extra build argument (never a secret); repeatable', collect)
      .addHelpText(
        'after',
        `
Examples:
  $ itsctl build                                          all five targets for linux/amd64
  $ itsctl build --target production --target edge --json
  $ itsctl build --target production --target edge --platform linux/amd64,linux/arm64`,
      )
      .action(async (options: Options, command) => {
        // Bad input is reported before anything touches Docker.
        const targets = splitList(options.target) ?? [...BUILD_TARGETS];
        const platforms = splitList(options.platform) ?? ['linux/amd64'];
        validateBuildRequest(targets, platforms);
        // Loaded here, not at the top: registering every command stays cheap (`itsctl --help`).
        const [
          { createDockerRunner, ensureDockerRunning, resolveDockerCli },
          { readHostFacts, runBuildPlan, renderBuildSummary },
        ] = await Promise.all([import('@its/docker-engine'), import('@its/image-build')]);
        const cli = resolveDockerCli(io.env, { purpose: 'build' });
        const env = { ...process.env, ...io.env };
        const docker = createDockerRunner(cli, env);
        await ensureDockerRunning(docker);
        const host = await readHostFacts(docker, options.baseImage, options.debianImage);
        const plan = planBuild(
          {
            targets,
            platforms,
            imageName: options.imageName ?? io.env.IMAGE_NAME ?? 'its-camera-ai',
            dockerfile: resolve(io.cwd, options.dockerfile),
            context: resolve(io.cwd, options.context),
            baseImage: options.baseImage,
            debianImage: options.debianImage,
            labels: {
              version: options.version ?? io.env.VERSION ?? '0.0.0-dev',
              revision: options.revision ?? io.env.GITHUB_SHA ?? 'unknown',
              created: io.now().toISOString(),
              source: options.source ?? io.env.SOURCE_URL ?? 'https://github.com/its-camera-ai/its-camera-ai',
            },
            extraBuildArgs: options.buildArg ?? [],
          },
          host,
        );
        if (plan.skipped.length > 0 && !options.skipUnavailable) {
          // Every reason at once, before anything is built (a half-built matrix helps nobody).
          const reasons = [...new Set(plan.skipped.map((s) => `${s.platform}: ${s.reason}`))];
          throw new StepFailedError(
            `cannot build ${reasons.length === 1 ? 'this platform' : 'these platforms'}, nothing was built:\n  ${reasons.join('\n  ')}`,
            {
              fix: 'fix the cause above, or pass --skip-unavailable to build the other platforms',
            },
          );
        }
        const started = performance.now();
        const rows = await runBuildPlan({
          docker,
          plan,
          now: () => performance.now(),
          progress: (line) => log(io, line),
          env,
        });
        const table = renderBuildSummary(rows);
        if (!wantsJson(command)) log(io, '');
        writeResult(
          io,
          command,
          { engine: host, durationMs: Math.round(performance.now() - started), builds: rows },
          table,
        );
        const failed = rows.filter((r) => r.status === 'failed');
        if (failed.length) {
          throw new StepFailedError(
            `${failed.length} build(s) failed: ${failed.map((r) => `${r.target} ${r.platform}`).join(', ')}`,
            {
              fix: 'the progress output above ends with each failing step and its error',
            },
          );
        }
      });
  },
};
