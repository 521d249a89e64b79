import type { EnvironmentConfig } from '../config/environment-schema.js';
import type { PlanSettings } from '../plan/types.js';
import { routerUrl } from '../stack/plan-stack.js';

/**
 * What the planners read from an environment file, including how each canary step and the watch
 * are judged: the plan carries them, so a dry run shows them and the runner reads nothing else.
 */
export function planSettings(config: EnvironmentConfig): PlanSettings {
  const { canary } = config.strategy;
  const { baseline, warmupSeconds, stratumSeconds, ...judged } = canary.analysis;
  const { seconds: watchSeconds, ...watch } = config.watch;
  return {
    environment: config.name,
    app: config.app,
    replicas: config.replicas,
    batchSize: config.strategy.batchSize,
    keepPreviousSeconds: config.strategy.keepPreviousSeconds,
    drainTimeoutMs: config.router.drainTimeoutMs,
    migration: config.migrations?.command,
    stopFirst: config.strategy.order === 'stop-first',
    watchSeconds,
    watch,
    canary: {
      replicas: canary.replicas,
      steps: canary.steps,
      baseline,
      judgment: {
        thresholds: { ...judged, stratumMs: stratumSeconds * 1000 },
        warmupSeconds,
        maxExtensions: canary.maxExtensions,
        ...(canary.syntheticTraffic
          ? {
              syntheticTraffic: {
                // Through the environment's own router, as real traffic arrives.
                url: `http://${config.router.bind}:${config.router.port}${canary.syntheticTraffic.path}`,
                rps: canary.syntheticTraffic.rps,
                path: canary.syntheticTraffic.path,
              },
            }
          : {}),
        ...(canary.prometheus
          ? {
              prometheus: {
                url: canary.prometheus.url,
                timeoutMs: canary.prometheus.timeoutMs,
                queries: canary.prometheus.queries,
                vars: { environment: config.name },
              },
            }
          : {}),
      },
    },
  };
}

/** The environment's URL as printed in summaries and status (stack/plan-stack.ts's routerUrl). */
export function publicUrl(config: EnvironmentConfig): string {
  return routerUrl(config.router);
}
