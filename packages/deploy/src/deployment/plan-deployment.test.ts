import { describe, expect, it } from 'vitest';
import { UsageError } from '@its/core';
import { EnvironmentSchema } from '../config/environment-schema.js';
import { renderPlan } from '../plan/render-plan.js';
import type { ObservedState, Step } from '../plan/types.js';
import type { DeploymentRecord } from '../state/deploy-store.js';
import { planDeployment } from './plan-deployment.js';
import { planSettings } from './settings.js';

const config = {
  ...EnvironmentSchema.parse({
    app: 'app',
    image: { repository: 'r' },
    router: { port: 8080 },
    strategy: {
      default: 'canary',
      canary: {
        steps: [{ weight: 20, pauseSeconds: 10 }, { weight: 100 }],
        analysis: { maxErrorRateIncrease: 0.02, slo: { p95Ms: 300 } },
        syntheticTraffic: { rps: 20, path: '/health' },
        prometheus: {
          url: 'http://127.0.0.1:9090',
          queries: [
            {
              name: 'errors',
              query: 'sum(rate(http_errors_total{version="{{version}}",env="{{environment}}"}[1m]))',
              max: 0.5,
            },
            { name: 'vs-previous', query: 'x{version="{{previous_version}}"}', min: 1 },
          ],
        },
      },
    },
  }),
  name: 'staging',
};

const serving: ObservedState = {
  replicas: [0, 1].map((i) => ({
    id: `c${i}`,
    name: `app-staging-blue-d1-${i}`,
    server: `b-d1-${i}`,
    slot: 'blue' as const,
    version: '1.0.0',
    image: 'r@sha256:old',
    digest: 'sha256:old',
    deploymentId: 'd1',
    index: i,
    running: true,
  })),
  router: {
    running: true,
    activeSlot: 'blue',
    servers: [0, 1].map((i) => ({
      slot: 'blue' as const,
      server: `b-d1-${i}`,
      address: `10.0.0.${i}:8000`,
      state: 'ready' as const,
      status: 'UP',
      weight: 100,
      sessions: 0,
    })),
  },
};

const request = {
  strategy: 'canary' as const,
  settings: planSettings(config),
  deploymentId: 'd2',
  target: { version: '1.1.0', image: 'r@sha256:new', digest: 'sha256:new' },
  history: [] as DeploymentRecord[],
  now: new Date('2026-12-07T12:00:00Z'),
};

type Analyze = Extract<Step, { kind: 'analyze-canary' }>;

describe('planDeployment', () => {
  it('a canary step carries everything that judges it, PromQL variables filled in for this deployment', () => {
    const plan = planDeployment(serving, request);
    const analyses = plan.steps.map((s) => s.step).filter((s): s is Analyze => s.kind === 'analyze-canary');
    expect(analyses).toHaveLength(1);
    expect(analyses[0]!.judgment).toEqual({
      thresholds: expect.objectContaining({
        maxErrorRateIncrease: 0.02,
        slo: { p95Ms: 300 },
        stratumMs: 1000,
      }),
      warmupSeconds: 5,
      maxExtensions: 3,
      syntheticTraffic: { url: 'http://127.0.0.1:8080/health', rps: 20, path: '/health' },
      prometheus: {
        url: 'http://127.0.0.1:9090',
        timeoutMs: 5000,
        queries: config.strategy.canary.prometheus!.queries,
        vars: { environment: 'staging', version: '1.1.0', previous_version: '1.0.0' },
      },
    });
  });

  it('the rendered plan (what --dry-run prints) shows weights, pauses, thresholds and the exact queries', () => {
    const text = renderPlan(planDeployment(serving, request));
    expect(text).toMatch(/canary step 1\/1: 20 % of traffic to b-d2-0 for 10 s/);
    expect(text).toMatch(/judged by: error rate fails above \+2 % \(one-sided, α 0\.05, power 0\.8\)/);
    expect(text).toMatch(
      /latency fails when the median is ≥ 5 ms and ≥ 20 % slower \(compared within 1-s windows\)/,
    );
    expect(text).toMatch(/SLOs: p95 ≤ 300 ms; fewer than 50 requests per side is inconclusive/);
    expect(text).toMatch(
      /warm-up: each new replica's first 5 s excluded; inconclusive holds the step up to 3 × 10 s more/,
    );
    expect(text).toMatch(/synthetic traffic: 20 rps of GET http:\/\/127\.0\.0\.1:8080\/health/);
    expect(text).toContain(
      'prometheus errors: sum(rate(http_errors_total{version="1.1.0",env="staging"}[1m])) must be ≤ 0.5',
    );
    expect(text).toContain('prometheus vs-previous: x{version="1.0.0"} must be ≥ 1');
    expect(text).toMatch(/watch .* for 60 s after the switch[^\n]*\n\s+judged by: API check every 2000 ms/);
  });

  it('a first deployment has no previous version: a query that needs one is shown as inconclusive', () => {
    const empty: ObservedState = { replicas: [], router: { running: true, activeSlot: 'blue', servers: [] } };
    const text = renderPlan(planDeployment(empty, request));
    // Nothing serves: no baseline, no analysis step at all.
    expect(text).not.toMatch(/canary step/);
    expect(text).toMatch(/note: nothing serves yet/);
  });

  it('a rollback goes to the last successful other version, and says when there is none', () => {
    const done = (version: string, digest: string): DeploymentRecord =>
      ({
        version,
        digest,
        image: `r@${digest}`,
        outcome: 'succeeded',
        strategy: 'rolling',
      }) as DeploymentRecord;
    const back = planDeployment(serving, {
      ...request,
      strategy: 'rolling',
      target: undefined,
      history: [done('1.0.0', 'sha256:old'), done('0.9.0', 'sha256:older')],
    });
    expect(back.to).toEqual({ version: '0.9.0', digest: 'sha256:older', image: 'r@sha256:older' });
    expect(() =>
      planDeployment(serving, { ...request, target: undefined, history: [done('1.0.0', 'sha256:old')] }),
    ).toThrow(UsageError);
  });
});
