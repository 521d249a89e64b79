/**
 * Publishing: the local image goes to `<image>/development` under each tag, through Debian's docker
 * client (argument arrays, never a shell string). The registry's digest is the image's identity from
 * here on.
 */
import { execFile } from 'node:child_process';
import { StepFailedError, UsageError } from '@its/core';
import { environmentRepository } from '../promotion/environments.js';
import { isValidTag } from './reference.js';
import { RegistryUnreachableError } from './registry-errors.js';

export interface PublishPlan {
  targets: string[];
  /** docker argument lists, in order. */
  commands: string[][];
}

export function planPublish(input: {
  localRef: string;
  registry: string;
  image: string;
  tags: string[];
}): PublishPlan {
  const bad = input.tags.filter((t) => !isValidTag(t));
  if (input.tags.length === 0 || bad.length) {
    throw new UsageError(
      input.tags.length === 0 ? '--tag: give at least one tag' : `--tag ${bad.join(', ')}: not valid tags`,
      { fix: 'tags are letters, digits, _ . - (at most 128), e.g. v1.2.3' },
    );
  }
  const repository = `${input.registry}/${environmentRepository(input.image, 'development')}`;
  const targets = input.tags.map((t) => `${repository}:${t}`);
  return {
    targets,
    commands: [...targets.map((t) => ['tag', input.localRef, t]), ...targets.map((t) => ['push', t])],
  };
}

/** `v1: digest: sha256:… size: 528` — the last line docker push prints on success. */
export function parsePushDigest(output: string): string | undefined {
  return output.match(/digest: (sha256:[a-f0-9]{64})/)?.[1];
}

export type DockerRunner = (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

/** Runs `/usr/bin/docker` (DOCKER_BIN overrides: another client may come first on PATH). */
export function createDockerRunner(bin = process.env.DOCKER_BIN ?? '/usr/bin/docker'): DockerRunner {
  return (args) =>
    new Promise((resolve) => {
      execFile(bin, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({
          code,
          stdout: String(stdout),
          stderr: String(stderr || (error && !stderr ? error.message : '')),
        });
      });
    });
}

export async function publishImage(
  plan: PublishPlan,
  deps: { docker: DockerRunner; registry: string },
): Promise<{ digest: string; references: string[] }> {
  const digests = new Set<string>();
  for (const args of plan.commands) {
    const res = await deps.docker(args);
    if (res.code !== 0) {
      const text = `${res.stderr}${res.stdout}`.trim();
      if (/connection refused|no such host|i\/o timeout|dial tcp/i.test(text)) {
        throw new RegistryUnreachableError(deps.registry, new Error(text.split('\n').pop()));
      }
      throw new StepFailedError(
        `docker ${args.join(' ')} failed (exit ${res.code}): ${text.split('\n').slice(-3).join(' ')}`,
        {
          fix:
            args[0] === 'tag'
              ? 'check that the local image exists: /usr/bin/docker images'
              : 'check the registry and credentials (docker login)',
        },
      );
    }
    if (args[0] === 'push') {
      const digest = parsePushDigest(res.stdout);
      if (!digest) throw new StepFailedError(`docker ${args.join(' ')} printed no digest`);
      digests.add(digest);
    }
  }
  if (digests.size !== 1)
    throw new StepFailedError(`pushes returned different digests: ${[...digests].join(', ')}`);
  const digest = [...digests][0]!;
  const repository = plan.targets[0]!.replace(/:[^:/]+$/, '');
  return { digest, references: [...plan.targets, `${repository}@${digest}`] };
}
