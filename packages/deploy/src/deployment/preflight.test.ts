import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, InternalError, StepFailedError, UsageError } from '@its/core';
import { EnvironmentSchema } from '../config/environment-schema.js';
import { planRolling } from '../plan/plan-rolling.js';
import { lockTakeover, type LockRecord } from '../state/deploy-store.js';
import { interpolateSecrets } from '../stack/stack-secrets.js';
import { createPreflight, describeProblem, renderWouldFail } from './preflight.js';
import { openSession } from './session.js';
import { planSettings } from './settings.js';
import { renderSummary } from './summary.js';
import { UNRESOLVED_DIGEST, missingPublicKeys, unresolvedTarget } from './target.js';
import type { DeployContext, DeploySummary } from './types.js';

const production = {
  ...EnvironmentSchema.parse({
    app: 'app',
    image: {
      repository: '127.0.0.1:5000/app/production',
      source: 'registry',
      requireSignature: true,
      publicKeys: ['deploy/keys/a.pub', '/etc/keys/b.pub'],
    },
    router: { port: 8280 },
    envFiles: ['.env.production', '.env.shared'],
    env: { API_KEY: '${API_KEY}', LOG_LEVEL: 'warn' },
    accessories: { db: { image: 'pg', port: 5432, env: { POSTGRES_PASSWORD: '${PW}' } } },
  }),
  name: 'production',
};

describe('preflight: a dry run lists what would stop the deploy; a deploy stops at it', () => {
  it('a dry run notes each failing precondition once, says it as it goes, and goes on with the fallback', async () => {
    const said: string[] = [];
    const preflight = createPreflight(true, (l) => said.push(l));
    const missing = new ConfigError('envFiles: .env.production does not exist', { fix: 'create it' });
    expect(
      await preflight.check(
        () => ({ A: '1' }),
        () => ({}),
      ),
    ).toEqual({ A: '1' });
    expect(
      await preflight.check(
        () => {
          throw missing;
        },
        (problem) => ({ problem }),
      ),
    ).toEqual({ problem: 'envFiles: .env.production does not exist (fix: create it)' });
    await preflight.check(
      () =>
        Promise.reject(new UsageError('version "9.9.9" is not in r', { fix: 'versions that exist: 1.0.0' })),
      () => undefined,
    );
    preflight.fail(missing);
    preflight.fail(new StepFailedError('x'), [new ConfigError('one'), new ConfigError('two', { fix: 'f' })]);
    expect(preflight.problems).toEqual([
      'envFiles: .env.production does not exist (fix: create it)',
      'version "9.9.9" is not in r (fix: versions that exist: 1.0.0)',
      'one',
      'two (fix: f)',
    ]);
    expect(said).toEqual(preflight.problems.map((p) => `would fail: ${p}`));
  });

  it('a deploy raises the precondition’s own error, unchanged, and notes nothing', async () => {
    const preflight = createPreflight(false, () => {});
    const missing = new ConfigError('envFiles: .env.production does not exist');
    await expect(
      preflight.check(
        () => {
          throw missing;
        },
        () => ({}),
      ),
    ).rejects.toBe(missing);
    expect(() => preflight.fail(missing, [new ConfigError('item')])).toThrow(missing);
    expect(preflight.problems).toEqual([]);
  });

  it('a bug is never a precondition: raised in a dry run too', async () => {
    const preflight = createPreflight(true, () => {});
    await expect(
      preflight.check(
        () => Promise.reject(new TypeError('x is undefined')),
        () => 1,
      ),
    ).rejects.toThrow(TypeError);
    await expect(
      preflight.check(
        () => Promise.reject(new InternalError('bug')),
        () => 1,
      ),
    ).rejects.toThrow('bug');
    expect(preflight.problems).toEqual([]);
  });

  it('renders the list the summary ends with; nothing when nothing is missing', () => {
    expect(renderWouldFail([])).toEqual([]);
    expect(renderWouldFail(['a (fix: b)', 'c'])).toEqual([
      'the real deploy would stop before changing anything: 2 thing(s) missing or failing',
      '  would fail: a (fix: b)',
      '  would fail: c',
    ]);
    expect(describeProblem(new ConfigError('2 wrong:\n  x\n  y', { fix: 'f' }))).toBe(
      '2 wrong:   x   y (fix: f)',
    );
  });
});

describe('what a dry run plans with when it cannot know', () => {
  it('an unresolved version: the tag itself, its digest said to be unknown', () => {
    expect(unresolvedTarget(production, '1.0.0')).toEqual({
      version: '1.0.0',
      image: '127.0.0.1:5000/app/production:1.0.0',
      digest: UNRESOLVED_DIGEST,
    });
  });

  it('names every signature public key that is not there, relative to the repository or absolute', () => {
    const root = mkdtempSync(join(tmpdir(), 'its-keys-'));
    writeFileSync(join(root, 'package.json'), '{}');
    const seen: string[] = [];
    const missing = missingPublicKeys(production, root, (p) => {
      seen.push(p);
      return p === '/etc/keys/b.pub';
    });
    expect(seen).toEqual([join(root, 'deploy/keys/a.pub'), '/etc/keys/b.pub']);
    expect(missing.map((e) => e.message)).toEqual(['image.publicKeys: deploy/keys/a.pub does not exist']);
    expect(missing[0]).toBeInstanceOf(ConfigError);
    expect(missing[0]!.fix).toMatch(/itsctl sign keygen/);
    expect(
      missingPublicKeys(
        { ...production, image: { ...production.image, requireSignature: false } },
        root,
        () => false,
      ),
    ).toEqual([]);
  });

  it('every unresolved ${NAME} with its field path, the rest interpolated', () => {
    expect(interpolateSecrets(production, { A: 'x', API_KEY: '${API_KEY}' }, { PW: 'p' })).toEqual({
      replicaEnv: { A: 'x', API_KEY: '${API_KEY}' },
      accessoryEnv: { db: { POSTGRES_PASSWORD: 'p' } },
      missing: ['env.API_KEY: ${API_KEY} is not set'],
    });
  });

  it('a lock is reported only while its holder lives and it has not expired', () => {
    const lock: LockRecord = {
      environment: 'production',
      holder: 'ana',
      pid: 4242,
      host: 'build-1',
      reason: 'deploy 1.4.2',
      deploymentId: 'd',
      acquiredAt: '2026-01-01T00:00:00.000Z',
      expiresAt: '2026-01-01T00:30:00.000Z',
    };
    const at = (iso: string, alive: boolean, hostname = 'build-1') => ({
      isAlive: () => alive,
      hostname,
      now: () => new Date(iso),
    });
    expect(lockTakeover(lock, at('2026-01-01T00:10:00Z', true))).toBeUndefined();
    expect(lockTakeover(lock, at('2026-01-01T00:10:00Z', false, 'elsewhere'))).toBeUndefined();
    expect(lockTakeover(lock, at('2026-01-01T00:10:00Z', false))).toBe(
      'its holder (pid 4242 on build-1) is no longer running',
    );
    expect(lockTakeover(lock, at('2026-01-01T00:31:00Z', true))).toBe(
      'it expired at 2026-01-01T00:30:00.000Z',
    );
  });
});

describe("a dry run's session", () => {
  const context = (): DeployContext => {
    const root = mkdtempSync(join(tmpdir(), 'its-dry-run-'));
    writeFileSync(join(root, '.env.shared'), 'LOG_LEVEL=info\n');
    return {
      cwd: root,
      env: {},
      now: () => new Date('2026-01-01T00:00:00Z'),
      log: () => {},
      signal: new AbortController().signal,
      stateDir: join(root, 'state'),
    };
  };

  it('names every missing env file and every unresolved secret, and still opens', async () => {
    const preflight = createPreflight(true, () => {});
    const session = await openSession(context(), production, 'd', preflight);
    session.store.close();
    expect(preflight.problems).toEqual([
      'envFiles: .env.production does not exist (fix: create it (see .env.production.example) or remove it from envFiles)',
      expect.stringMatching(/^env\.API_KEY: \$\{API_KEY\} is not set \(fix: set them in the environment/),
      expect.stringMatching(/^accessories\.db\.env\.POSTGRES_PASSWORD: \$\{PW\} is not set \(fix: /),
    ]);
    expect(session.runtime.replicaEnv).toEqual({ LOG_LEVEL: 'warn', API_KEY: '${API_KEY}' });
  });

  it('a deploy stops at the first missing env file, with the same message as before', async () => {
    await expect(openSession(context(), production, 'd')).rejects.toMatchObject({
      name: 'ConfigError',
      message: 'envFiles: .env.production does not exist',
      fix: 'create it (see .env.production.example) or remove it from envFiles',
    });
    const ctx = context();
    writeFileSync(join(ctx.cwd, '.env.production'), '');
    await expect(openSession(ctx, production, 'd')).rejects.toThrow(
      /^2 secret reference\(s\) cannot be resolved:\n {2}env\.API_KEY: \$\{API_KEY\} is not set\n {2}accessories\.db\.env\.POSTGRES_PASSWORD: \$\{PW\} is not set$/,
    );
  });
});

describe("a dry run's summary", () => {
  const config = {
    ...EnvironmentSchema.parse({ app: 'app', image: { repository: 'r' }, router: { port: 8080 } }),
    name: 'staging',
  };
  const plan = planRolling(
    { replicas: [], router: { running: false, activeSlot: 'blue', servers: [] } },
    planSettings(config),
    { ...unresolvedTarget(config, '1.1.0'), deploymentId: 'd' },
  );
  const summary: DeploySummary = {
    environment: 'staging',
    deploymentId: 'd',
    action: 'deploy',
    strategy: 'rolling',
    outcome: 'dry-run',
    from: undefined,
    version: '1.1.0',
    digest: UNRESOLVED_DIGEST,
    image: 'r:1.1.0',
    durationMs: 1,
    url: 'http://127.0.0.1:8080',
    plan,
    warnings: [],
    evidence: [],
    checks: [],
    wouldFail: ['envFiles: .env.staging does not exist (fix: create it)', 'registry r is unreachable'],
  };

  it('prints the plan, then repeats every "would fail" at the end', () => {
    const lines = renderSummary(summary).split('\n');
    expect(lines[0]).toBe('plan: rolling of staging: (nothing running) → 1.1.0 (digest unknown)');
    expect(lines.slice(-4)).toEqual([
      '(dry run: nothing was changed)',
      'the real deploy would stop before changing anything: 2 thing(s) missing or failing',
      '  would fail: envFiles: .env.staging does not exist (fix: create it)',
      '  would fail: registry r is unreachable',
    ]);
    expect(renderSummary({ ...summary, wouldFail: [] })).toMatch(/\(dry run: nothing was changed\)$/);
  });

  it("a stack's list names each tier's environment", () => {
    const web = { ...summary, environment: 'staging-web', wouldFail: ['env.API_KEY: ${K} is not set'] };
    const text = renderSummary({
      ...summary,
      stack: { tiers: [summary, web], apiKeys: [], durationMs: 1 },
    });
    expect(text.split('\n').slice(-4)).toEqual([
      'the real deploy would stop before changing anything: 3 thing(s) missing or failing',
      '  would fail: staging: envFiles: .env.staging does not exist (fix: create it)',
      '  would fail: staging: registry r is unreachable',
      '  would fail: staging-web: env.API_KEY: ${K} is not set',
    ]);
  });
});
