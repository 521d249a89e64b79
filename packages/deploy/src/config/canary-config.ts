import { z } from 'zod';
import { PrometheusAnalysisSchema, checkPromPlaceholders } from '../analysis/prometheus.js';

/** Variables a PromQL query may use; the canary planner fills them in (plan/plan-canary.ts). */
export const PROM_VARIABLES = ['environment', 'version', 'previous_version'] as const;

/**
 * The environment file's canary and post-switch watch sections (strategy.canary, watch). Every
 * default says why; cross-field rules (steps end at 100 %, weights rise) are checked here so their
 * messages carry the field path like every other error.
 */

const seconds = z.number().min(0);
const ratio = z.number().min(0).max(1);

const SloSchema = z.strictObject({
  /** Absolute limits on the new version's side; unset means not judged. */
  p95Ms: z.number().positive().optional(),
  p99Ms: z.number().positive().optional(),
  maxErrorRate: ratio.optional(),
});

export const AnalysisSchema = z
  .strictObject({
    /** 0.05: the usual false-alarm rate for one comparison. */
    alpha: z.number().gt(0).lt(1).default(0.05),
    /** Requests per side below which nothing is judged (inconclusive). */
    minSamples: z.number().int().min(1).default(50),
    /** Power wanted from the error-rate test: fewer requests than it needs is inconclusive. */
    power: z.number().gt(0).lt(1).default(0.8),
    /** An error-rate increase smaller than this never fails (absolute: 0.01 = 1 percentage point). */
    maxErrorRateIncrease: z.number().gt(0).max(1).default(0.01),
    /** A median latency shift under 5 ms, or under 20 %, never fails however significant. */
    minLatencyEffectMs: z.number().min(0).default(5),
    minLatencyEffectRatio: z.number().min(0).default(0.2),
    /**
     * What the canary is compared with. `fresh` (default): as many replicas of the serving version as
     * the canary has, started beside it from the serving set's image digest, with the same env,
     * command and checks, and given the canary's weight — both sides equally cold, equally loaded and
     * sharing the machine at the same moments (Kayenta's rule). `serving`: the long-running serving
     * replicas themselves (cheaper, but a warm set judged against a cold one on a busy host fails
     * healthy versions). Fresh baseline replicas never outlive the canary.
     */
    baseline: z.enum(['fresh', 'serving']).default('fresh'),
    /**
     * A new replica's first seconds in the router (a cold process: JIT, caches, connections) count for
     * neither side; 5 s covers the test service's and the product's warm-up with room to spare. The
     * first step's pause should be longer, or it is extended until enough samples exist.
     */
    warmupSeconds: z.number().min(0).max(600).default(5),
    /**
     * Latency is compared within windows of this many seconds of accept time (van Elteren's stratified
     * test), so load that comes and goes hits both sides alike; 1 s is short against load swings and
     * long enough to hold samples of both sides at a few requests/s. 0 compares the whole step at once.
     */
    stratumSeconds: z.number().min(0).max(60).default(1),
    slo: SloSchema.prefault({}),
  })
  .prefault({});

const CanaryStepSchema = z.strictObject({
  /** Share of the traffic the new version gets at this step, in percent. */
  weight: z.number().gt(0).max(100),
  /** How long the step lasts before its analysis (and each extension when inconclusive). */
  pauseSeconds: seconds.default(30),
});

export const CanarySchema = z
  .strictObject({
    steps: z
      .array(CanaryStepSchema)
      .min(1)
      .default([
        { weight: 5, pauseSeconds: 30 },
        { weight: 25, pauseSeconds: 30 },
        { weight: 50, pauseSeconds: 30 },
        { weight: 100, pauseSeconds: 0 },
      ])
      .superRefine((steps, ctx) => {
        const last = steps[steps.length - 1];
        if (last && last.weight !== 100)
          ctx.addIssue({
            code: 'custom',
            path: [steps.length - 1, 'weight'],
            message: `the last step must be 100 (it is ${last.weight}): a canary ends fully promoted`,
          });
        steps.forEach((s, i) => {
          if (i > 0 && s.weight <= steps[i - 1]!.weight)
            ctx.addIssue({
              code: 'custom',
              path: [i, 'weight'],
              message: `weights must rise: ${s.weight} follows ${steps[i - 1]!.weight}`,
            });
          if (s.weight < 100 && s.pauseSeconds < 1)
            ctx.addIssue({
              code: 'custom',
              path: [i, 'pauseSeconds'],
              message: 'a step below 100 % needs at least 1 s of traffic to analyse',
            });
        });
      }),
    /** Replicas of the new version during analysis; the rest start at promotion. */
    replicas: z.number().int().min(1).default(1),
    /** Inconclusive analysis holds the step this many more pauses, then fails with that reason. */
    maxExtensions: z.number().int().min(0).default(3),
    analysis: AnalysisSchema,
    /**
     * Optional bounded load through the router during analysis, for environments whose real traffic
     * is too thin to judge; the evidence says the samples were synthetic.
     */
    syntheticTraffic: z
      .strictObject({
        rps: z.number().gt(0).max(1000),
        path: z.string().startsWith('/').default('/'),
      })
      .optional(),
    /** Optional PromQL checks run beside the built-in comparison (Argo Rollouts' AnalysisTemplate). */
    prometheus: PrometheusAnalysisSchema.superRefine((p, ctx) => {
      // A misspelt {{placeholder}} is caught here, not in the middle of a canary step.
      for (const problem of checkPromPlaceholders(p.queries, PROM_VARIABLES)) {
        const at = problem.indexOf(': ');
        ctx.addIssue({
          code: 'custom',
          path: problem.slice(0, at).split('.'),
          message: problem.slice(at + 2),
        });
      }
    }).optional(),
  })
  .prefault({});

export const WatchSchema = z
  .strictObject({
    /** How long health checks and SLOs keep running after traffic moved; 0 turns the watch off. */
    seconds: seconds.default(60),
    /** Between two rounds of checks. */
    intervalMs: z.number().int().min(100).default(2000),
    /** SLOs are judged over this trailing window of router traffic. */
    windowSeconds: z.number().gt(0).default(10),
    /** Fewer requests than this in the window: the SLOs are not judged that round (health checks still are). */
    minSamples: z.number().int().min(1).default(20),
    /** Consecutive failed health rounds that roll back (1 = the first). */
    failAfter: z.number().int().min(1).default(2),
    slo: SloSchema.prefault({ maxErrorRate: 0.05 }),
  })
  .prefault({});

export type CanaryConfig = z.output<typeof CanarySchema>;
export type WatchConfig = z.output<typeof WatchSchema>;
export type AnalysisConfig = z.output<typeof AnalysisSchema>;
