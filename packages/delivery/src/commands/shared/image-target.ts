/** How `itsctl sign image|verify` and `itsctl sbom` name the image they work on. */
import { Option } from 'commander';
import { UsageError } from '@its/core';
import { ENVIRONMENTS, isDigest, type Environment } from '@its/registry/names';

export interface ImageTargetOptions {
  env: Environment;
  tag?: string;
  digest?: string;
}

/** The tag or digest to resolve in the environment's repository (a digest wins). */
export function imageReference(options: ImageTargetOptions): string {
  const ref = options.digest ?? options.tag;
  if (!ref) throw new UsageError('--tag or --digest: say which image');
  if (options.digest && !isDigest(options.digest))
    throw new UsageError(`--digest ${options.digest}: should be sha256:<64 hex>`);
  return ref;
}

/** `--env <env>`: the environment repository, development by default. */
export const environmentRepositoryOption = () =>
  new Option('--env <env>', 'environment repository').choices([...ENVIRONMENTS]).default('development');
