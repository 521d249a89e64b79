import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '@its/core';
import { EnvironmentSchema } from '../config/environment-schema.js';
import { planRolling } from '../plan/plan-rolling.js';
import { findRepoRoot, stateDirFor } from './paths.js';
import { idleSince } from './plan-deployment.js';
import { planSettings, publicUrl } from './settings.js';
import { renderStatus } from './status.js';
import { renderSummary } from './summary.js';
import { newDeploymentId, selectStrategy, validateVersion } from './target.js';
import type { DeploySummary } from './types.js';

const config = {
  ...EnvironmentSchema.parse({
    app: 'app',
    image: { repository: 'r' },
    router: { port: 8080 },
    strategy: { default: 'blue-green' },
  }),
  name: 'staging',
};

describe('deploy options', () => {
  it('selects the requested strategy or the environment default; rejects unknown ones listing what exists', () => {
    expect(selectStrategy(config, undefined)).toBe('blue-green');
    expect(selectStrategy(config, 'rolling')).toBe('rolling');
    expect(() => selectStrategy(config, 'yolo')).toThrow(UsageError);
    expect(() => selectStrategy(config, 'yolo')).toThrow('unknown strategy "yolo"');
    expect(() => selectStrategy(config, 'yolo')).toThrow(
      expect.objectContaining({ fix: 'use one of: rolling, blue-green, canary' }),
    );
    expect(selectStrategy(config, 'canary')).toBe('canary');
  });

  it('a stop-first environment refuses strategies that run both versions at once', () => {
    const stopFirst = {
      ...config,
      strategy: { ...config.strategy, default: 'rolling' as const, order: 'stop-first' as const },
    };
    expect(selectStrategy(stopFirst, undefined)).toBe('rolling');
    expect(() => selectStrategy(stopFirst, 'canary')).toThrow(/strategy "canary" runs both versions at once/);
    expect(() => selectStrategy(stopFirst, 'blue-green')).toThrow(
      expect.objectContaining({ fix: 'use -s rolling (stop-first), or set strategy.order: start-first' }),
    );
    expect(planSettings(stopFirst).stopFirst).toBe(true);
  });

  it('rejects versions that are not image tags (shell metacharacters included)', () => {
    expect(() => validateVersion('1.2.3')).not.toThrow();
    expect(() => validateVersion('1.0;rm -rf /')).toThrow('version "1.0;rm -rf /" is not a valid image tag');
    expect(() => validateVersion('$(reboot)')).toThrow(UsageError);
  });

  it('makes short, sortable deployment ids', () => {
    expect(newDeploymentId(new Date('2026-01-01T00:00:00Z'), () => 0)).toMatch(/^[0-9a-z]{6}000$/);
    expect(newDeploymentId(new Date('2026-01-01T00:00:00Z'), () => 0.5)).not.toBe(
      newDeploymentId(new Date('2026-01-01T00:00:00Z'), () => 0),
    );
  });

  it('derives plan settings, URL and state directory from the environment', () => {
    expect(planSettings(config)).toEqual({
      environment: 'staging',
      app: 'app',
      replicas: 2,
      batchSize: 1,
      keepPreviousSeconds: 3600,
      drainTimeoutMs: 30000,
      migration: undefined,
      stopFirst: false,
      watchSeconds: 60,
      watch: {
        intervalMs: 2000,
        windowSeconds: 10,
        minSamples: 20,
        failAfter: 2,
        slo: { maxErrorRate: 0.05 },
      },
      canary: {
        replicas: 1,
        steps: [
          { weight: 5, pauseSeconds: 30 },
          { weight: 25, pauseSeconds: 30 },
          { weight: 50, pauseSeconds: 30 },
          { weight: 100, pauseSeconds: 0 },
        ],
        // The default: the canary is compared with a fresh baseline started beside it.
        baseline: 'fresh',
        // Each step's judgment, from strategy.canary (the defaults here), carried by the plan.
        judgment: {
          thresholds: {
            alpha: 0.05,
            minSamples: 50,
            power: 0.8,
            maxErrorRateIncrease: 0.01,
            minLatencyEffectMs: 5,
            minLatencyEffectRatio: 0.2,
            stratumMs: 1000,
            slo: {},
          },
          warmupSeconds: 5,
          maxExtensions: 3,
        },
      },
    });
    expect(publicUrl(config)).toBe('http://127.0.0.1:8080');
    const root = mkdtempSync(join(tmpdir(), 'its-root-'));
    mkdirSync(join(root, 'deploy', 'environments'), { recursive: true });
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    expect(findRepoRoot(join(root, 'a', 'b'))).toBe(root);
    const ctx = {
      cwd: join(root, 'a'),
      env: {},
      now: () => new Date(),
      log: () => {},
      signal: new AbortController().signal,
    };
    expect(stateDirFor(ctx, config)).toBe(join(root, '.state', 'deploy', 'staging'));
    expect(stateDirFor({ ...ctx, stateDir: '/s' }, config)).toBe('/s/staging');
    expect(stateDirFor(ctx, { ...config, stateDir: 'var/x' })).toBe(join(root, 'var/x'));
    expect(stateDirFor(ctx, { ...config, stateDir: '/abs' })).toBe('/abs');
  });
});

describe('summaries', () => {
  const plan = planRolling(
    { replicas: [], router: { running: true, activeSlot: 'blue', servers: [] } },
    planSettings(config),
    { version: '1.1.0', image: 'img', digest: 'sha256:b', deploymentId: 'd' },
  );
  const summary: DeploySummary = {
    environment: 'staging',
    deploymentId: 'd',
    action: 'deploy',
    strategy: 'rolling',
    outcome: 'succeeded',
    from: { version: '1.0.0', digest: 'sha256:a' },
    version: '1.1.0',
    digest: 'sha256:b',
    image: 'img',
    durationMs: 12_345,
    url: 'http://127.0.0.1:8080',
    plan,
    warnings: ['x not removed'],
    evidence: [],
    checks: [
      { check: 'container', target: 'r0', ok: true, durationMs: 1, attempts: 1, reason: 'healthy' },
      { check: 'api', target: 'r0', ok: true, durationMs: 1, attempts: 1, reason: 'ok' },
    ],
  };

  it('prints version, digest, strategy, duration and checks', () => {
    expect(renderSummary(summary)).toBe(
      [
        'deployed staging: 1.0.0 → 1.1.0',
        '  digest:   sha256:b',
        '  strategy: rolling',
        '  duration: 12.3 s',
        '  checks:   2 passed (container, api)',
        '  url:      http://127.0.0.1:8080',
        '  warning:  x not removed',
      ].join('\n'),
    );
    const step = {
      kind: 'canary-step',
      step: 1,
      of: 2,
      weight: 25,
      verdict: 'pass',
      sentence: 'latency: same',
    };
    const watch = { kind: 'watch', verdict: 'pass', sentence: 'p95 12 ms <= 200 ms' };
    expect(
      renderSummary({ ...summary, evidence: [step, watch] as unknown as DeploySummary['evidence'] }).split(
        '\n',
      ),
    ).toEqual(
      expect.arrayContaining([
        '  canary 1/2 at 25 %: pass — latency: same',
        '  watch:     pass — p95 12 ms <= 200 ms',
      ]),
    );
    expect(renderSummary({ ...summary, outcome: 'dry-run' })).toMatch(/\(dry run: nothing was changed\)$/);
    expect(
      renderSummary({ ...summary, action: 'rollback', from: undefined, checks: [], warnings: [] }),
    ).toMatch(/^rolled back staging: 1\.1\.0\n[\s\S]*none run/);
  });

  it('renders status', () => {
    const text = renderStatus({
      environment: 'staging',
      url: 'http://127.0.0.1:8080',
      router: { running: true, activeSlot: 'blue' },
      serving: { version: '1.0.0', digest: 'sha256:a' },
      replicas: [
        {
          id: 'i',
          name: 'app-staging-blue-d-0',
          server: 'b-d-0',
          slot: 'blue',
          version: '1.0.0',
          digest: 'sha256:a',
          deploymentId: 'd',
          index: 0,
          running: true,
          router: 'ready UP, 0 session(s)',
        },
        {
          id: 'j',
          name: 'app-staging-blue-e-baseline-0',
          server: 'b-e-base-0',
          slot: 'blue',
          version: '1.0.0',
          digest: 'sha256:a',
          deploymentId: 'e',
          index: 0,
          running: true,
          baseline: true,
          router: 'ready UP, weight 50, 0 session(s)',
        },
      ],
      lock: undefined,
      last: {
        id: 'd',
        environment: 'staging',
        who: 'ana',
        action: 'deploy',
        version: '1.0.0',
        digest: 'sha256:a',
        image: 'i',
        strategy: 'rolling',
        fromVersion: null,
        fromDigest: null,
        startedAt: 't',
        endedAt: 't2',
        outcome: 'succeeded',
        reason: null,
        checks: [],
        pid: 1,
        host: 'h',
      },
    });
    expect(text).toBe(
      [
        'staging: serving 1.0.0 (sha256:a) at http://127.0.0.1:8080',
        '  router: running, traffic on slot blue',
        '  app-staging-blue-d-0: 1.0.0 slot blue (live), running, router: ready UP, 0 session(s)',
        '  app-staging-blue-e-baseline-0: 1.0.0 slot blue (live), fresh canary baseline (removed when the canary ends), running, router: ready UP, weight 50, 0 session(s)',
        '  lock: free',
        '  last deployment: d deploy 1.0.0 succeeded at t',
      ].join('\n'),
    );
    expect(
      renderStatus({
        environment: 'e',
        url: 'u',
        router: { running: false, activeSlot: 'blue' },
        serving: undefined,
        replicas: [],
        lock: {
          environment: 'e',
          holder: 'bo',
          pid: 2,
          host: 'h',
          reason: 'r',
          deploymentId: 'd',
          acquiredAt: 'a',
          expiresAt: 'x',
        },
        last: undefined,
      }),
    ).toContain('lock: held by bo (pid 2 on h) since a: r');
    const kept = renderStatus({
      environment: 'e',
      url: 'u',
      router: { running: true, activeSlot: 'green' },
      serving: undefined,
      replicas: [],
      lock: undefined,
      last: undefined,
      kept: { slot: 'blue', version: '1.0.0', until: '2026-01-01T01:00:00.000Z' },
    });
    expect(kept).toContain(
      'kept for rollback: 1.0.0 in slot blue, until 2026-01-01T01:00:00.000Z (then `itsctl retire`)',
    );
  });
});

describe('the kept set window', () => {
  it('starts at the end of the last successful switch', () => {
    const row = (strategy: string, outcome: string, endedAt: string | null) =>
      ({ strategy, outcome, endedAt }) as never;
    expect(
      idleSince([
        row('rolling', 'succeeded', 't0'),
        row('blue-green', 'rolled-back', '2026-01-01T00:00:00Z'),
        row('rollback-flip', 'succeeded', '2026-01-02T00:00:00Z'),
      ]),
    ).toEqual(new Date('2026-01-02T00:00:00Z'));
    expect(idleSince([row('rolling', 'succeeded', 't0')])).toBeUndefined();
  });
});
