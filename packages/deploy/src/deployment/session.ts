import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { ConfigError } from '@its/core';
import { DockerEngine, resolveEngineTarget } from '@its/docker-engine';
import type { EvidenceEntry } from '../apply/evidence.js';
import { abortableSleep, createRouter, type Runtime } from '../apply/runtime.js';
import { loadEnvironment, parseEnvFile } from '../config/environment-config.js';
import { type EnvironmentConfig } from '../config/environment-schema.js';
import { DeployStore } from '../state/deploy-store.js';
import {
  interpolateSecrets,
  loadSecrets,
  secretsFix,
  unresolvedSecretsError,
} from '../stack/stack-secrets.js';
import { environmentsDir, findRepoRoot, stateDirFor } from './paths.js';
import { createPreflight, type Preflight } from './preflight.js';
import type { DeployContext } from './types.js';

/** One command's view of one environment: its config, engine, store and runtime, built once. */
export interface Session {
  config: EnvironmentConfig;
  engine: DockerEngine;
  store: DeployStore;
  /** The runtime steps run with: interrupted by the command's signal. */
  runtime: Runtime;
  /** The same, for undo and finalize: never interrupted (the old version must end up serving). */
  undoRuntime: Runtime;
  stateDir: string;
  /** Accessories' environments with their ${SECRET} references resolved. */
  accessoryEnv: Record<string, Record<string, string>>;
  /** The analysis evidence this session's deployment produced, in order (also kept in the store). */
  evidence: EvidenceEntry[];
}

/** One env file's variables; a missing file is a ConfigError that says how to create it. */
function readEnvFile(file: string, root: string): Record<string, string> {
  const path = isAbsolute(file) ? file : join(root, file);
  if (!existsSync(path))
    throw new ConfigError(`envFiles: ${file} does not exist`, {
      fix: `create it (see ${file}.example) or remove it from envFiles`,
    });
  return parseEnvFile(readFileSync(path, 'utf8'));
}

/** The replicas' environment before interpolation: env files in order, then the file's own env. */
async function replicaEnv(
  config: EnvironmentConfig,
  root: string,
  preflight: Preflight,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  // Each file is a precondition of its own, so a dry run names every missing one.
  for (const file of config.envFiles)
    Object.assign(
      out,
      await preflight.check(
        () => readEnvFile(file, root),
        () => ({}),
      ),
    );
  return { ...out, ...config.env };
}

/**
 * Builds everything a command on an environment needs — engine, store, router client, the replicas'
 * environment with secrets resolved, and the runtime — once and complete; nothing changes yet.
 * Evidence produced under `deploymentId` is kept in the store as soon as it exists.
 */
export async function openSession(
  ctx: DeployContext,
  config: EnvironmentConfig,
  deploymentId: string,
  preflight: Preflight = createPreflight(false, ctx.log),
): Promise<Session> {
  const engine = new DockerEngine(
    resolveEngineTarget(ctx.env.DOCKER_HOST, ctx.env.ITS_SSH_COMMAND, ctx.env.DOCKER_API_VERSION),
  );
  const stateDir = stateDirFor(ctx, config);
  const routerDir = join(stateDir, 'router');
  const now = () => Date.now();
  const plainSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const router = createRouter(routerDir, plainSleep, now);
  // ${NAME} references resolve from the environment, env files and <state>/secrets.env (stack-secrets.ts).
  const fileEnv = await replicaEnv(config, findRepoRoot(ctx.cwd), preflight);
  const secretsDir = config.secrets.from
    ? stateDirFor(ctx, await loadEnvironment(environmentsDir(ctx), config.secrets.from))
    : stateDir;
  const secrets = loadSecrets({
    secretsDir,
    generate: config.secrets.generate,
    processEnv: ctx.env,
    fileEnv,
  });
  const resolvedEnv = interpolateSecrets(config, fileEnv, secrets.vars);
  // A dry run names each unresolved reference (left as ${NAME} in its plan); a deploy stops here.
  if (resolvedEnv.missing.length > 0)
    preflight.fail(
      unresolvedSecretsError(resolvedEnv.missing, secrets.file),
      resolvedEnv.missing.map((m) => new ConfigError(m, { fix: secretsFix(secrets.file) })),
    );
  const store = new DeployStore(join(stateDir, 'deploy.sqlite'));
  const evidence: EvidenceEntry[] = [];
  const base = {
    config,
    engine,
    router,
    routerDir,
    replicaEnv: resolvedEnv.replicaEnv,
    progress: ctx.log,
    now,
    evidence: (entry: EvidenceEntry) => {
      evidence.push(entry);
      store.addEvidence(deploymentId, entry);
    },
    // Shared by the runtime and the undo runtime: one command, one router.
    joinedAt: new Map<string, number>(),
  };
  return {
    config,
    engine,
    store,
    runtime: { ...base, sleep: abortableSleep(ctx.signal), signal: ctx.signal },
    undoRuntime: { ...base, sleep: plainSleep, signal: new AbortController().signal },
    stateDir,
    accessoryEnv: resolvedEnv.accessoryEnv,
    evidence,
  };
}

/** Who deploys, for locks and history: ITS_DEPLOY_USER, else the login. */
export function who(env: Record<string, string | undefined>): string {
  try {
    return env.ITS_DEPLOY_USER ?? env.USER ?? userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Whether a lock holder's process (on this host) still lives. */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};
