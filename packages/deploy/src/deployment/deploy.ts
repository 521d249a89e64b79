import { UsageError } from '@its/core';
import { loadEnvironment } from '../config/environment-config.js';
import { deployStack, statusStack, type StackDeps } from '../stack/deploy-stack.js';
import { deployEnvironment } from './deploy-environment.js';
import { environmentsDir, stateDirFor } from './paths.js';
import { statusEnvironment } from './status.js';
import { validateVersion } from './target.js';
import type { DeployContext, DeployOptions, DeploySummary, StatusReport } from './types.js';

/** The stack deployer's engine: environments deployed and reported one at a time. */
function stackDeps(ctx: DeployContext): StackDeps {
  return {
    loadEnvironment: (name) => loadEnvironment(environmentsDir(ctx), name),
    stateDirOf: (config) => stateDirFor(ctx, config),
    deployEnvironment,
    statusEnvironment,
  };
}

/**
 * `itsctl deploy`: one environment, or, when its file lists `stack.tiers`, the whole stack. The
 * command line is checked here, once, before any file is read or written.
 */
export async function deploy(ctx: DeployContext, options: DeployOptions): Promise<DeploySummary> {
  if (options.version !== undefined) validateVersion(options.version);
  if (options.rollback && options.version !== undefined)
    throw new UsageError('--rollback returns to the previous version; it takes no -v', {
      fix: 'drop -v, or deploy that version without --rollback',
    });
  const config = await loadEnvironment(environmentsDir(ctx), options.environment);
  if (!config.stack) return deployEnvironment(ctx, options, config);
  return deployStack(ctx, options, config, stackDeps(ctx));
}

/** `itsctl status`: one environment, or every tier of a stack. */
export async function status(ctx: DeployContext, environment: string): Promise<StatusReport> {
  const config = await loadEnvironment(environmentsDir(ctx), environment);
  const first = await statusEnvironment(ctx, config);
  return config.stack ? statusStack(ctx, config, stackDeps(ctx), first) : first;
}
