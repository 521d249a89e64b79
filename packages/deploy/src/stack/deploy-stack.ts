import { ConfigError, StepFailedError, isKnownError } from '@its/core';
import type { EnvironmentConfig } from '../config/environment-schema.js';
import type {
  ApiKeyOutcome,
  DeployContext,
  DeployOptions,
  DeploySummary,
  StackResult,
  StackStatus,
  StatusReport,
} from '../deployment/types.js';
import { planStack, routerUrl, type StackPlan } from './plan-stack.js';
import type { ApiKeyConfig } from '../config/environment-schema.js';
import { SECRETS_FILE, readSecretsFile, writeSecrets } from './stack-secrets.js';
import { join } from 'node:path';

/**
 * `itsctl deploy -e development` for a stack: the first environment (API + accessories), then the API
 * keys the tiers need, then each tier through the unchanged engine, all with the first one's version.
 * The engine's functions come in as dependencies (deployment/deploy.ts passes them; the unit tests pass
 * stand-ins), each environment's file loaded once and handed on.
 */

export interface StackDeps {
  loadEnvironment: (name: string) => Promise<EnvironmentConfig>;
  stateDirOf: (config: EnvironmentConfig) => string;
  deployEnvironment: (
    ctx: DeployContext,
    options: DeployOptions,
    config: EnvironmentConfig,
  ) => Promise<DeploySummary>;
  statusEnvironment: (ctx: DeployContext, config: EnvironmentConfig) => Promise<StatusReport>;
  fetch?: typeof fetch;
}

/** Loads the stack's files and checks them together; errors before anything changes. */
export async function loadStack(
  deps: Pick<StackDeps, 'loadEnvironment'>,
  root: EnvironmentConfig,
): Promise<{ tiers: EnvironmentConfig[]; plan: StackPlan }> {
  const tiers: EnvironmentConfig[] = [];
  for (const name of root.stack?.tiers ?? []) tiers.push(await deps.loadEnvironment(name));
  const plan = planStack(root, tiers);
  if (plan.errors.length > 0)
    throw new ConfigError(
      `${plan.errors.length} error(s) in the ${root.name} stack:\n  ${plan.errors.join('\n  ')}`,
      {
        fix: 'correct the environment files named above (packages/deploy/docs/deploy.md, "Stacks")',
      },
    );
  return { tiers, plan };
}

async function bearerRequest(
  http: typeof fetch,
  url: string,
  token: string,
  init: { method: string; body?: string },
): Promise<{ status: number; text: string }> {
  try {
    const res = await http(url, {
      method: init.method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
      ...(init.body ? { body: init.body } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, text: await res.text() };
  } catch (error) {
    throw new StepFailedError(`cannot reach ${url}: ${(error as Error).message}`);
  }
}

/**
 * Makes sure each API key secret holds a key the API accepts: an existing one is checked
 * (204 kept), otherwise one is created through the admin endpoint and written to the secrets file.
 * Keys are never printed.
 */
/** The key check's URL, asking for the key's scopes when it names any. */
export function checkUrl(apiUrl: string, k: Pick<ApiKeyConfig, 'checkPath' | 'scopes'>): string {
  if (k.scopes.length === 0) return `${apiUrl}${k.checkPath}`;
  const sep = k.checkPath.includes('?') ? '&' : '?';
  return `${apiUrl}${k.checkPath}${sep}scopes=${encodeURIComponent(k.scopes.join(','))}`;
}

export async function ensureApiKeys(
  http: typeof fetch,
  apiUrl: string,
  keys: readonly ApiKeyConfig[],
  secretsFile: string,
  processEnv: Record<string, string | undefined>,
  log: (line: string) => void,
): Promise<ApiKeyOutcome[]> {
  const out: ApiKeyOutcome[] = [];
  for (const k of keys) {
    const stored = readSecretsFile(secretsFile);
    const existing = processEnv[k.secret] ?? stored[k.secret];
    if (existing) {
      const check = await bearerRequest(http, checkUrl(apiUrl, k), existing, { method: 'GET' });
      if (check.status >= 200 && check.status < 300) {
        out.push({ secret: k.secret, name: k.name, action: 'kept' });
        continue;
      }
      // 403: a valid key without a scope asked for (e.g. kept from before the API had scopes).
      const why = check.status === 403 ? `lacks a scope of ${k.scopes.join(', ')}` : `is not accepted`;
      if (processEnv[k.secret])
        throw new ConfigError(`${k.secret} (set in the environment) ${why} by the API: ${check.status}`, {
          fix: `unset ${k.secret} so the stack creates one, or set a valid key${k.scopes.length > 0 ? ` with the scopes ${k.scopes.join(', ')}` : ''}`,
        });
      log(`  ▸ API key ${k.secret}: the stored key ${why} (${check.status}); creating a new one`);
    }
    const admin = processEnv[k.adminTokenSecret] ?? stored[k.adminTokenSecret];
    if (!admin)
      throw new ConfigError(`stack.apiKeys: ${k.adminTokenSecret} is not set`, {
        fix: `list ${k.adminTokenSecret} in secrets.generate of the stack's first environment, and pass it to the API as ADMIN_TOKEN`,
      });
    const created = await bearerRequest(http, `${apiUrl}${k.createPath}`, admin, {
      method: 'POST',
      body: JSON.stringify(k.scopes.length > 0 ? { name: k.name, scopes: k.scopes } : { name: k.name }),
    });
    let key: unknown;
    try {
      key = (JSON.parse(created.text) as { key?: unknown }).key;
    } catch {
      key = undefined;
    }
    if ((created.status !== 201 && created.status !== 200) || typeof key !== 'string' || key === '')
      throw new StepFailedError(
        `creating API key ${k.name}: POST ${k.createPath} answered ${created.status}${created.status === 401 || created.status === 403 ? ' (the API does not accept the admin token)' : ''}`,
      );
    writeSecrets(secretsFile, { [k.secret]: key });
    log(`  ✓ API key ${k.secret}: created "${k.name}" (kept in ${secretsFile})`);
    out.push({ secret: k.secret, name: k.name, action: 'created' });
  }
  return out;
}

/**
 * Deploys the stack. A failed tier rolls back itself (the engine); the tiers deployed before it in
 * this run are then returned to their previous version (`--rollback`), newest first, so the stack
 * never stays half new. Then the error is raised.
 */
export async function deployStack(
  ctx: DeployContext,
  options: DeployOptions,
  root: EnvironmentConfig,
  deps: StackDeps,
): Promise<DeploySummary> {
  const startedAt = ctx.now().getTime();
  const { tiers, plan } = await loadStack(deps, root);
  const done: DeploySummary[] = [];
  ctx.log(`stack ${root.name}: ${plan.tiers.map((t) => t.environment).join(' → ')}`);
  const first = await deps.deployEnvironment(ctx, options, root);
  done.push(first);
  const version = first.version;
  const secretsFile = join(deps.stateDirOf(root), SECRETS_FILE);
  let apiKeys: ApiKeyOutcome[] = [];
  const tierEnv: Record<string, string | undefined> = { ...ctx.env };
  try {
    const keys = root.stack?.apiKeys ?? [];
    if (options.dryRun) {
      apiKeys = keys.map((k) => ({ secret: k.secret, name: k.name, action: 'planned' }));
      // A first dry run has no key yet: the tiers' plans show where it will go.
      for (const k of keys)
        tierEnv[k.secret] ??= readSecretsFile(secretsFile)[k.secret] ?? '[created by the deploy]';
    } else if (keys.length > 0) {
      apiKeys = await ensureApiKeys(
        deps.fetch ?? fetch,
        routerUrl(root.router),
        keys,
        secretsFile,
        ctx.env,
        ctx.log,
      );
    }
    for (const tier of tiers) {
      ctx.log(`\nstack ${root.name}: tier ${tier.name} (${version})`);
      const summary = await deps.deployEnvironment(
        { ...ctx, env: tierEnv },
        {
          environment: tier.name,
          ...(options.rollback ? {} : { version }),
          ...(options.strategy !== undefined ? { strategy: options.strategy } : {}),
          rollback: options.rollback === true,
          dryRun: options.dryRun === true,
        },
        tier,
      );
      done.push(summary);
    }
  } catch (error) {
    if (!options.dryRun && !options.rollback) await rollBackEarlier(ctx, deps, done, [root, ...tiers]);
    throw error;
  }
  return { ...first, stack: { tiers: done, apiKeys, durationMs: ctx.now().getTime() - startedAt } };
}

async function rollBackEarlier(
  ctx: DeployContext,
  deps: StackDeps,
  done: DeploySummary[],
  configs: EnvironmentConfig[],
): Promise<void> {
  for (const d of [...done].reverse()) {
    if (d.outcome !== 'succeeded' || !d.from || d.from.digest === d.digest) continue;
    const config = configs.find((c) => c.name === d.environment)!;
    ctx.log(`stack: returning ${d.environment} to ${d.from.version} (a later tier failed)`);
    try {
      await deps.deployEnvironment(ctx, { environment: d.environment, rollback: true }, config);
    } catch (error) {
      ctx.log(
        `stack: rollback of ${d.environment} failed: ${isKnownError(error) ? error.message : String(error)}`,
      );
    }
  }
}

export async function statusStack(
  ctx: DeployContext,
  root: EnvironmentConfig,
  deps: StackDeps,
  first: StatusReport,
): Promise<StatusReport> {
  const { tiers } = await loadStack(deps, root);
  const reports = [first];
  for (const t of tiers) reports.push(await deps.statusEnvironment(ctx, t));
  return { ...first, stack: { tiers: reports } };
}

/** The summary's lines for a stack: every tier's version and URL. */
export function renderStackSummary(stack: StackResult): string[] {
  return [
    `  stack:    ${stack.tiers.length} tiers in ${(stack.durationMs / 1000).toFixed(1)} s`,
    ...stack.tiers.map(
      (t) =>
        `    ${t.environment.padEnd(24)} ${t.version.padEnd(12)} ${t.url}${t.outcome === 'dry-run' ? ' (dry run)' : ''}`,
    ),
    ...stack.apiKeys.map((k) => `    API key ${k.secret} (${k.name}): ${k.action}`),
  ];
}

export function renderStackStatus(stack: StackStatus, render: (s: StatusReport) => string): string[] {
  return stack.tiers.slice(1).map((t) => render(t));
}
