import { canaryWeights } from '../router/router-log.js';
import {
  addServerStep,
  planPreamble,
  removeOldSteps,
  retireSteps,
  specFor,
  startStep,
  watchSteps,
} from './plan-common.js';
import type { ObservedState, Plan, PlannedStep, PlanSettings, Slot, Target } from './types.js';
import { ALL_CHECKS, REPLICA_CHECKS, currentVersion, servingReplicas } from './types.js';

/**
 * Canary: start a few replicas of the new version beside the serving set in the same backend, prove
 * them with every check, then give them a growing share of the traffic by server weights, one step
 * at a time; after each step's pause the analysis compares canary and baseline on the requests they
 * served. Promotion (the 100 % step) starts the rest of the new set, drains and stops the old one and
 * watches. Every step before finalize has an undo, so a failed analysis, check or watch returns all
 * traffic to the old set: the canary's weight goes to 0 (drained), then it is removed.
 */
export function planCanary(observed: ObservedState, settings: PlanSettings, target: Target): Plan {
  const slot = observed.router.activeSlot;
  const old = servingReplicas(observed, slot);
  const steps: PlannedStep[] = planPreamble(observed, settings, target);
  const canaryCount = Math.min(settings.canary.replicas, settings.replicas);
  const canary = Array.from({ length: canaryCount }, (_, i) => specFor(settings, target, slot, i));
  const baselineServers = old.map((o) => o.server);
  const canaryServers = canary.map((c) => c.server);
  for (const spec of canary) steps.push(startStep(spec));
  steps.push({
    step: { kind: 'check-replicas', replicas: canary.map((s) => s.name), checks: ALL_CHECKS },
    phase: 'prepare',
    undo: [],
  });
  const analysed = settings.canary.steps.filter((s) => s.weight < 100);
  // Nothing serves yet (a first deployment): no baseline to compare with, so no analysis either.
  const compare = old.length > 0;
  const firstWeight = compare && analysed[0] ? analysed[0].weight : 100;
  let current = canaryWeights(firstWeight, canaryServers, baselineServers);
  const weightOf = (server: string) => current.find((w) => w.server === server)?.weight ?? 100;
  for (const spec of canary)
    steps.push(addServerStep(spec, 'shift', settings.drainTimeoutMs, weightOf(spec.server)));
  const full = baselineServers.map((server) => ({ server, weight: 100 }));
  if (compare) {
    steps.push(weightsStep(slot, current, full));
    for (const [i, s] of analysed.entries()) {
      if (i > 0) {
        const next = canaryWeights(s.weight, canaryServers, baselineServers);
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
          canary: canaryServers,
          baseline: baselineServers,
        },
        phase: 'shift',
        undo: [],
      });
    }
  }
  // Promotion: the rest of the new set joins at full weight, the canary goes to full weight, and the
  // old set is drained and stopped (kept until finalize so an undo can restart it).
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
    const promoted = canaryServers.map((server) => ({ server, weight: 100 }));
    steps.push(
      weightsStep(
        slot,
        promoted,
        current.filter((w) => canaryServers.includes(w.server)),
      ),
    );
  }
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
