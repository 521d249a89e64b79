import { canaryStepWeights, canaryTrafficShares, type StepServers } from './canary-weights.js';
import {
  addServerStep,
  planPreamble,
  removeOldSteps,
  retireSteps,
  specFor,
  startStep,
  watchSteps,
} from './plan-common.js';
import type {
  CanaryJudgment,
  ObservedReplica,
  ObservedState,
  Plan,
  PlannedStep,
  PlanSettings,
  ReplicaSpec,
  Slot,
  Target,
} from './types.js';
import {
  ALL_CHECKS,
  REPLICA_CHECKS,
  baselineReplicaName,
  baselineServerName,
  currentVersion,
  servingReplicas,
} from './types.js';

/**
 * Canary: start a few replicas of the new version beside the serving set in the same backend, prove
 * them with every check, then give them a growing share of the traffic by server weights, one step
 * at a time; after each step's pause the analysis compares canary and baseline on the requests they
 * served. By default the baseline is fresh: as many replicas of the serving version as the canary has,
 * started with it from the serving set's image, checked like it and weighted like it, so both sides
 * are equally cold and share the machine at the same moments (Kayenta's rule); the old set keeps the
 * rest of the traffic and is not a sample. Promotion (the 100 % step) removes the fresh baseline,
 * starts the rest of the new set, drains and stops the old one and watches. Every step before
 * finalize has an undo, so a failed analysis, check or watch returns all traffic to the old set: the
 * canary's (and baseline's) weight goes to 0 (drained), then they are removed.
 */
export function planCanary(observed: ObservedState, settings: PlanSettings, target: Target): Plan {
  const slot = observed.router.activeSlot;
  const old = servingReplicas(observed, slot);
  const steps: PlannedStep[] = planPreamble(observed, settings, target);
  const canaryCount = Math.min(settings.canary.replicas, settings.replicas);
  const canary = Array.from({ length: canaryCount }, (_, i) => specFor(settings, target, slot, i));
  // Nothing serves yet (a first deployment): no baseline to compare with, so no analysis either.
  const compare = old.length > 0;
  const mode = settings.canary.baseline;
  const fresh = compare && mode === 'fresh' ? freshBaseline(settings, target, slot, old, canaryCount) : [];
  const servers: { [K in keyof StepServers]: string[] } = {
    canary: canary.map((c) => c.server),
    baseline: fresh.map((b) => b.server),
    serving: old.map((o) => o.server),
  };
  const compared = mode === 'fresh' ? servers.baseline : servers.serving;
  for (const spec of [...canary, ...fresh]) steps.push(startStep(spec));
  steps.push({
    step: { kind: 'check-replicas', replicas: canary.map((s) => s.name), checks: ALL_CHECKS },
    phase: 'prepare',
    undo: [],
  });
  // The same checks as the canary: a baseline that is not healthy would make any canary look good.
  if (fresh.length > 0)
    steps.push({
      step: { kind: 'check-replicas', replicas: fresh.map((s) => s.name), checks: ALL_CHECKS },
      phase: 'prepare',
      undo: [],
    });
  const analysed = settings.canary.steps.filter((s) => s.weight < 100);
  const firstWeight = compare && analysed[0] ? analysed[0].weight : 100;
  let current = canaryStepWeights(firstWeight, mode, servers);
  const weightOf = (server: string) => current.find((w) => w.server === server)?.weight ?? 100;
  for (const spec of [...canary, ...fresh])
    steps.push(addServerStep(spec, 'shift', settings.drainTimeoutMs, weightOf(spec.server)));
  const full = servers.serving.map((server) => ({ server, weight: 100 }));
  if (compare) {
    steps.push(weightsStep(slot, current, full));
    for (const [i, s] of analysed.entries()) {
      if (i > 0) {
        const next = canaryStepWeights(s.weight, mode, servers);
        steps.push(weightsStep(slot, next, current));
        current = next;
      }
      steps.push({
        step: {
          kind: 'analyze-canary',
          slot,
          step: i + 1,
          of: analysed.length,
          weight: s.weight,
          pauseSeconds: s.pauseSeconds,
          canary: servers.canary,
          baseline: compared,
          baselineKind: mode,
          baselineReplicas: fresh.map((b) => b.name),
          serving: servers.serving,
          shares: canaryTrafficShares(s.weight, mode),
          judgment: judgmentFor(settings, target, observed),
        },
        phase: 'shift',
        undo: [],
      });
    }
  }
  // Promotion: the rest of the new set joins at full weight, the canary goes to full weight, the
  // fresh baseline leaves (drained, removed: it never outlives the analysis), and the old set is
  // drained and stopped (kept until finalize so an undo can restart it).
  const rest = Array.from({ length: settings.replicas - canaryCount }, (_, i) =>
    specFor(settings, target, slot, canaryCount + i),
  );
  for (const spec of rest) steps.push({ ...startStep(spec), phase: 'shift' });
  if (rest.length > 0)
    steps.push({
      step: { kind: 'check-replicas', replicas: rest.map((s) => s.name), checks: REPLICA_CHECKS },
      phase: 'shift',
      undo: [],
    });
  for (const spec of rest) steps.push(addServerStep(spec, 'shift', settings.drainTimeoutMs, 100));
  if (compare) {
    const promoted = servers.canary.map((server) => ({ server, weight: 100 }));
    const leaving = servers.baseline.map((server) => ({ server, weight: 0 }));
    steps.push(
      weightsStep(
        slot,
        [...promoted, ...leaving],
        current.filter((w) => servers.canary.includes(w.server) || servers.baseline.includes(w.server)),
      ),
    );
  }
  // Nothing to undo: a rollback after this point returns to the old set, which needs no baseline
  // (the journal's undo of its add-server and start finds it gone, and both are idempotent).
  for (const b of fresh)
    steps.push(
      {
        step: { kind: 'drain-server', slot, server: b.server, timeoutMs: settings.drainTimeoutMs },
        phase: 'shift',
        undo: [],
      },
      { step: { kind: 'remove-server', slot, server: b.server }, phase: 'shift', undo: [] },
      { step: { kind: 'remove-replica', replica: b.name }, phase: 'shift', undo: [] },
    );
  // Back in service at full weight if undone: the canary's undo drains it after this.
  for (const o of old)
    steps.push(
      ...retireSteps(slot, o, settings.drainTimeoutMs, [
        { kind: 'set-weights', slot, weights: [{ server: o.server, weight: 100 }] },
      ]),
    );
  steps.push(...watchSteps(settings, slot, [...canary, ...rest]));
  steps.push(...removeOldSteps(slot, old));
  return {
    strategy: 'canary',
    environment: settings.environment,
    from: currentVersion(observed),
    to: { version: target.version, digest: target.digest, image: target.image },
    activeSlot: slot,
    targetSlot: slot,
    steps,
    ...(compare
      ? {}
      : { note: 'nothing serves yet: no baseline to compare with, so the canary is promoted at once' }),
  };
}

/**
 * As many replicas of the serving version as the canary has, from the image the serving set runs
 * (its majority version, pinned by the same digest), under this deployment's id.
 */
function freshBaseline(
  settings: PlanSettings,
  target: Target,
  slot: Slot,
  old: ObservedReplica[],
  count: number,
): ReplicaSpec[] {
  const serving = old.find((o) => o.version === majorityVersion(old)) ?? old[0]!;
  return Array.from({ length: count }, (_, i) => ({
    name: baselineReplicaName(settings.app, settings.environment, slot, target.deploymentId, i),
    server: baselineServerName(slot, target.deploymentId, i),
    slot,
    index: i,
    version: serving.version,
    image: serving.image,
    digest: serving.digest,
    deploymentId: target.deploymentId,
    baseline: true,
  }));
}

function majorityVersion(old: ObservedReplica[]): string | undefined {
  return currentVersion({
    replicas: old,
    router: { running: false, activeSlot: old[0]?.slot ?? 'blue', servers: [] },
  })?.version;
}

/**
 * A step's judgment: the environment's, with the PromQL variables of this deployment filled in
 * (environment, version, previous_version), so the plan names the exact queries that will run.
 */
function judgmentFor(settings: PlanSettings, target: Target, observed: ObservedState): CanaryJudgment {
  const { judgment } = settings.canary;
  if (!judgment.prometheus) return judgment;
  return {
    ...judgment,
    prometheus: {
      ...judgment.prometheus,
      vars: {
        ...judgment.prometheus.vars,
        environment: settings.environment,
        version: target.version,
        previous_version: currentVersion(observed)?.version ?? '',
      },
    },
  };
}

function weightsStep(
  slot: Slot,
  weights: Array<{ server: string; weight: number }>,
  before: Array<{ server: string; weight: number }>,
): PlannedStep {
  return {
    step: { kind: 'set-weights', slot, weights },
    phase: 'shift',
    undo: [{ kind: 'set-weights', slot, weights: before }],
  };
}
