import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ConfigError, IMAGE_TAG, UsageError, splitRegistry } from '@its/core';
import { registryAuthHeader, type DockerEngine } from '@its/docker-engine';
import { RegistryClient, readDockerConfig, resolveCredentials, verifyImageSignature } from '@its/registry';
import { STRATEGIES, type EnvironmentConfig, type Strategy } from '../config/environment-schema.js';
import type { Target } from '../plan/types.js';
import { findRepoRoot } from './paths.js';

/** Picks the planner the options call for; no I/O. */
export function selectStrategy(config: EnvironmentConfig, requested: string | undefined): Strategy {
  const strategy = requested ?? config.strategy.default;
  if (!(STRATEGIES as readonly string[]).includes(strategy))
    throw new UsageError(`unknown strategy "${strategy}"`, { fix: `use one of: ${STRATEGIES.join(', ')}` });
  if (config.strategy.order === 'stop-first' && strategy !== 'rolling')
    throw new UsageError(
      `strategy "${strategy}" runs both versions at once, which ${config.name}'s strategy.order: stop-first forbids`,
      { fix: 'use -s rolling (stop-first), or set strategy.order: start-first' },
    );
  return strategy as Strategy;
}

export function validateVersion(version: string): void {
  if (!IMAGE_TAG.test(version))
    throw new UsageError(`version "${version}" is not a valid image tag`, {
      fix: 'use letters, digits, ".", "-" and "_" only (at most 128 characters), e.g. 1.4.2 or 1.4.2-rc.1',
    });
}

export function newDeploymentId(now: Date, random: () => number = Math.random): string {
  return `${now.getTime().toString(36).slice(-6)}${Math.floor(random() * 36 ** 3)
    .toString(36)
    .padStart(3, '0')}`;
}

/** A resolved version: what a plan deploys, before it has a deployment id. */
export type ResolvedTarget = Omit<Target, 'deploymentId'>;

/** The digest a dry run plans with when the version could not be resolved. */
export const UNRESOLVED_DIGEST = 'digest unknown';

/**
 * What a dry run plans with when the version cannot be resolved (no engine, no registry, no such
 * tag): the tag itself, never pinned; the plan says so (pure).
 */
export function unresolvedTarget(config: EnvironmentConfig, version: string): ResolvedTarget {
  return { version, image: `${config.image.repository}:${version}`, digest: UNRESOLVED_DIGEST };
}

/** The signature public keys a file names that are not there, each as the error a deploy raises. */
export function missingPublicKeys(
  config: EnvironmentConfig,
  cwd: string,
  exists: (path: string) => boolean = existsSync,
): ConfigError[] {
  if (!config.image.requireSignature) return [];
  const root = findRepoRoot(cwd);
  return config.image.publicKeys
    .filter((k) => !exists(isAbsolute(k) ? k : join(root, k)))
    .map(
      (k) =>
        new ConfigError(`image.publicKeys: ${k} does not exist`, {
          fix: `put the PEM public key of the key images are signed with there (a new pair: \`itsctl sign keygen --out <dir>\`), or name the right file in image.publicKeys`,
        }),
    );
}

/**
 * Finds the version's image and pins it by digest: on this engine (image.source: local) or in the
 * registry (pulled, its signature verified first when required). Unknown versions list what exists.
 * The version was validated at the edge (deploy()).
 */
export async function resolveTarget(
  engine: DockerEngine,
  config: EnvironmentConfig,
  version: string,
  cwd: string,
  env: Record<string, string | undefined> = {},
  options: { pull?: boolean } = {},
): Promise<ResolvedTarget> {
  const repo = config.image.repository;
  if (config.image.source === 'local') {
    if (config.image.requireSignature)
      throw new ConfigError(
        `image.requireSignature: signatures are checked in a registry; set image.source: registry for ${config.name}`,
      );
    const image = await engine.inspectImage(`${repo}:${version}`);
    if (!image) {
      const tags = await engine.listLocalTags(repo);
      throw new UsageError(`version "${version}" of ${repo} is not on this engine`, {
        fix:
          tags.length > 0
            ? `versions that exist: ${tags.join(', ')}`
            : `no ${repo} image exists here; build one (itsctl build) or tag one`,
      });
    }
    const digest = image.RepoDigests?.find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? image.Id;
    return { version, image: image.Id, digest };
  }
  const where = splitRegistry(repo);
  if (where.registry === undefined)
    throw new ConfigError(
      `image.repository: "${repo}" names no registry host (expected HOST[:PORT]/PATH) while image.source is registry`,
    );
  // The same credentials for our manifest reads and the engine's pull (X-Registry-Auth), when configured.
  const credentials = resolveCredentials({
    registry: where.registry,
    env,
    dockerConfig: await readDockerConfig(env),
  });
  const client = new RegistryClient({ registry: where.registry, credentials });
  const descriptor = await client.headManifest(where.path, version);
  if (!descriptor) {
    const tags = (await client.listTags(where.path)).filter((t) => !t.startsWith('sha256-')).sort();
    throw new UsageError(`version "${version}" is not in ${repo}`, {
      fix:
        tags.length > 0
          ? `versions that exist: ${tags.join(', ')}`
          : `${repo} has no tags; publish one (itsctl publish)`,
    });
  }
  if (config.image.requireSignature) {
    const missing = missingPublicKeys(config, cwd);
    if (missing.length > 0) throw missing[0]!;
    const keys = config.image.publicKeys.map((k) =>
      readFileSync(isAbsolute(k) ? k : join(findRepoRoot(cwd), k), 'utf8'),
    );
    // Refuses unsigned or wrongly signed images before anything runs (@its/registry's signing).
    await verifyImageSignature(client, where.path, descriptor.digest, keys);
  }
  const pinned = `${repo}@${descriptor.digest}`;
  // A dry run resolves and verifies, but pulls nothing: the engine's images stay as they are.
  if (options.pull !== false && !(await engine.inspectImage(pinned)))
    await engine.pullImage(
      repo,
      version,
      credentials ? registryAuthHeader(credentials, where.registry) : undefined,
    );
  return { version, image: pinned, digest: descriptor.digest };
}
