import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StepFailedError } from '@its/core';
import { parseEnvironment } from '../config/environment-config.js';
import { type EnvironmentConfig } from '../config/environment-schema.js';
import type { DeployContext, DeployOptions, DeploySummary } from '../deployment/types.js';
import { deployStack, ensureApiKeys, renderStackSummary, type StackDeps } from './deploy-stack.js';
import { writeSecrets } from './stack-secrets.js';
import { planEnvironmentTeardown, renderTeardown } from './teardown.js';

function env(name: string, text: string): EnvironmentConfig {
  const parsed = parseEnvironment(`app: its\nimage: { repository: r }\n${text}`, name, `${name}.yml`);
  if (!parsed.config) throw new Error(parsed.errors.join('\n'));
  return parsed.config;
}

const root = env(
  'dev',
  'router: { port: 8080 }\nsecrets: { generate: [ADMIN_TOKEN] }\nstack: { tiers: [dev-web, dev-vision], apiKeys: [{ secret: VISION_API_KEY, name: vision-worker }] }\n',
);
const web = env('dev-web', 'router: { port: 3080 }\nnetwork: its-dev\nsecrets: { from: dev }\n');
const vision = env('dev-vision', 'router: { port: 8090 }\nnetwork: its-dev\nsecrets: { from: dev }\n');

function summary(o: DeployOptions, from?: string): DeploySummary {
  return {
    environment: o.environment,
    deploymentId: 'd',
    action: o.rollback ? 'rollback' : 'deploy',
    strategy: 'rolling',
    outcome: o.dryRun ? 'dry-run' : 'succeeded',
    from: from ? { version: from, digest: `sha256:${from}` } : undefined,
    version: o.version ?? '2.0.0',
    digest: `sha256:${o.version ?? '2.0.0'}`,
    image: 'r',
    durationMs: 1,
    checks: [],
    evidence: [],
    warnings: [],
    url: `http://127.0.0.1/${o.environment}`,
    plan: {
      strategy: 'rolling',
      environment: o.environment,
      from: undefined,
      to: { version: '', digest: '', image: '' },
      activeSlot: 'blue',
      targetSlot: 'blue',
      steps: [],
    },
  } as DeploySummary;
}

function harness(failOn?: string) {
  const stateDir = mkdtempSync(join(tmpdir(), 'its-stack-'));
  const calls: Array<{ environment: string; version?: string; rollback?: boolean; key?: string }> = [];
  const requests: string[] = [];
  const fakeFetch = (async (url: string, init: { method: string; headers: Record<string, string> }) => {
    requests.push(`${init.method} ${url} ${init.headers.authorization}`);
    if (url.endsWith('/api/v1/auth/check'))
      return new Response(null, { status: init.headers.authorization === 'Bearer good' ? 204 : 401 });
    return new Response(JSON.stringify({ key: 'fresh-key' }), { status: 201 });
  }) as unknown as typeof fetch;
  const deps: StackDeps = {
    loadEnvironment: async (name) => ({ 'dev-web': web, 'dev-vision': vision })[name]!,
    stateDirOf: () => stateDir,
    deployEnvironment: async (ctx, o) => {
      calls.push({
        environment: o.environment,
        ...(o.version ? { version: o.version } : {}),
        ...(o.rollback ? { rollback: true } : {}),
        ...(ctx.env.VISION_API_KEY ? { key: ctx.env.VISION_API_KEY } : {}),
      });
      if (o.environment === failOn && !o.rollback) throw new StepFailedError(`${o.environment} failed`);
      return summary(o.environment === 'dev' && !o.version ? { ...o, version: '2.0.0' } : o, '1.0.0');
    },
    statusEnvironment: async () => {
      throw new Error('unused');
    },
    fetch: fakeFetch,
  };
  const lines: string[] = [];
  const ctx: DeployContext = {
    cwd: stateDir,
    env: {},
    now: () => new Date(0),
    log: (l) => lines.push(l),
    signal: new AbortController().signal,
  };
  writeSecrets(join(stateDir, 'secrets.env'), { ADMIN_TOKEN: 'admin' });
  return { deps, ctx, calls, requests, stateDir, lines };
}

describe('deployStack', () => {
  it('deploys the first environment, makes sure of the API key, then each tier with the same version', async () => {
    const h = harness();
    const s = await deployStack(h.ctx, { environment: 'dev' }, root, h.deps);
    expect(h.calls).toEqual([
      { environment: 'dev' },
      { environment: 'dev-web', version: '2.0.0' },
      { environment: 'dev-vision', version: '2.0.0' },
    ]);
    expect(h.requests).toEqual(['POST http://127.0.0.1:8080/api/v1/admin/api-keys Bearer admin']);
    expect(readFileSync(join(h.stateDir, 'secrets.env'), 'utf8')).toContain('VISION_API_KEY=fresh-key');
    expect(s.stack?.tiers.map((t) => t.environment)).toEqual(['dev', 'dev-web', 'dev-vision']);
    expect(s.stack?.apiKeys).toEqual([
      { secret: 'VISION_API_KEY', name: 'vision-worker', action: 'created' },
    ]);
    const text = renderStackSummary(s.stack!).join('\n');
    expect(text).toContain('http://127.0.0.1/dev-web');
    expect(text).not.toContain('fresh-key');
  });

  it('keeps a stored key the API still accepts, and creates a new one when it does not', async () => {
    const h = harness();
    writeSecrets(join(h.stateDir, 'secrets.env'), { VISION_API_KEY: 'good' });
    const kept = await ensureApiKeys(
      h.deps.fetch!,
      'http://a',
      root.stack!.apiKeys,
      join(h.stateDir, 'secrets.env'),
      {},
      () => {},
    );
    expect(kept[0]!.action).toBe('kept');
    writeSecrets(join(h.stateDir, 'secrets.env'), { VISION_API_KEY: 'revoked' });
    const made = await ensureApiKeys(
      h.deps.fetch!,
      'http://a',
      root.stack!.apiKeys,
      join(h.stateDir, 'secrets.env'),
      {},
      () => {},
    );
    expect(made[0]!.action).toBe('created');
    expect(h.requests).toEqual([
      'GET http://a/api/v1/auth/check Bearer good',
      'GET http://a/api/v1/auth/check Bearer revoked',
      'POST http://a/api/v1/admin/api-keys Bearer admin',
    ]);
  });

  it('a failed tier returns the tiers deployed before it to their previous version, newest first', async () => {
    const h = harness('dev-vision');
    await expect(deployStack(h.ctx, { environment: 'dev' }, root, h.deps)).rejects.toThrow(
      'dev-vision failed',
    );
    expect(h.calls.slice(3)).toEqual([
      { environment: 'dev-web', rollback: true },
      { environment: 'dev', rollback: true },
    ]);
  });

  it('a dry run creates no key; the tiers plan with a placeholder', async () => {
    const h = harness();
    const s = await deployStack(h.ctx, { environment: 'dev', dryRun: true }, root, h.deps);
    expect(h.requests).toEqual([]);
    expect(h.calls[1]).toMatchObject({ environment: 'dev-web', key: '[created by the deploy]' });
    expect(s.stack?.apiKeys[0]!.action).toBe('planned');
  });

  it('refuses a stack whose tiers disagree before deploying anything', async () => {
    const h = harness();
    const lonely = env('dev-web', 'router: { port: 3080 }\n');
    await expect(
      deployStack(h.ctx, { environment: 'dev' }, root, { ...h.deps, loadEnvironment: async () => lonely }),
    ).rejects.toThrow(/its network is its-dev-web, not the stack's its-dev/);
    expect(h.calls).toEqual([]);
  });
});

describe('planEnvironmentTeardown', () => {
  const c = (name: string, role: string) => ({
    Id: name,
    Names: [`/${name}`],
    Image: 'i',
    State: 'running',
    Labels: { 'its.role': role },
  });
  const observed = {
    containers: [c('pg', 'accessory'), c('r1', 'replica'), c('router', 'router'), c('r0', 'replica')],
    volumes: ['its-dev-postgres'],
    network: 'its-dev',
  };

  it('removes the router first and the database last, keeps the volume without --volumes', () => {
    const plan = planEnvironmentTeardown('dev', observed, false, true);
    expect(plan.containers.map((x) => x.name)).toEqual(['router', 'r0', 'r1', 'pg']);
    expect(plan).toMatchObject({ networks: ['its-dev'], volumes: [], keptVolumes: ['its-dev-postgres'] });
    expect(renderTeardown({ environment: 'dev', done: false, environments: [plan] })).toContain(
      'kept volume its-dev-postgres (--volumes removes it)',
    );
  });

  it('removes the volume with --volumes; a tier leaves the shared network to the first environment', () => {
    expect(planEnvironmentTeardown('dev', observed, true, true)).toMatchObject({
      volumes: ['its-dev-postgres'],
      keptVolumes: [],
    });
    expect(planEnvironmentTeardown('dev-web', observed, false, false).networks).toEqual([]);
  });
});
