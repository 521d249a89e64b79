import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { EnvironmentConfig } from '../config/environment-schema.js';
import type { DeployContext } from './types.js';

/** The repository: the nearest directory above cwd with deploy/environments (else cwd itself). */
export function findRepoRoot(cwd: string): string {
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, 'deploy', 'environments'))) return dir;
    const parent = resolve(dir, '..');
    if (parent === dir) return resolve(cwd);
    dir = parent;
  }
}

export function environmentsDir(ctx: DeployContext): string {
  return ctx.environmentsDir ?? join(findRepoRoot(ctx.cwd), 'deploy', 'environments');
}

/** Where an environment's store, router files and secrets live. */
export function stateDirFor(ctx: DeployContext, config: EnvironmentConfig): string {
  const root = findRepoRoot(ctx.cwd);
  if (ctx.stateDir) return join(ctx.stateDir, config.name);
  if (config.stateDir) return isAbsolute(config.stateDir) ? config.stateDir : join(root, config.stateDir);
  return join(root, '.state', 'deploy', config.name);
}
