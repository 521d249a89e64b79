import {
  addServerStep,
  planPreamble,
  removeOldSteps,
  retireSteps,
  specFor,
  startStep,
  watchSteps,
} from './plan-common.js';
import type { ObservedState, Plan, PlannedStep, PlanSettings, Target } from './types.js';
import { ALL_CHECKS, REPLICA_CHECKS, currentVersion, servingReplicas } from './types.js';

/**
 * Rolling, start-first (or stop-first when settings.stopFirst): per batch, start the new replicas, check them, add them to the router, then
 * drain and stop as many old ones. Old containers are only stopped (not removed) until the end, so
 * the undo of every step restores the previous replica set exactly; finalize removes them.
 */
export function planRolling(observed: ObservedState, settings: PlanSettings, target: Target): Plan {
  const slot = observed.router.activeSlot;
  const old = servingReplicas(observed, slot);
  const steps: PlannedStep[] = planPreamble(observed, settings, target);
  const batches = Math.ceil(settings.replicas / settings.batchSize);
  let oldCursor = 0;
  const all = [];
  for (let b = 0; b < batches; b++) {
    const specs = [];
    for (let i = b * settings.batchSize; i < Math.min(settings.replicas, (b + 1) * settings.batchSize); i++)
      specs.push(specFor(settings, target, slot, i));
    const bring: PlannedStep[] = specs.map((spec) => startStep(spec));
    // The first batch proves the version (all five checks); later batches prove each replica.
    bring.push({
      step: {
        kind: 'check-replicas',
        replicas: specs.map((s) => s.name),
        checks: b === 0 ? ALL_CHECKS : REPLICA_CHECKS,
      },
      phase: 'prepare',
      undo: [],
    });
    for (const spec of specs) bring.push(addServerStep(spec, 'shift', settings.drainTimeoutMs));
    // The last batch retires every old replica left, so scaling down happens here too.
    const retireCount =
      b === batches - 1 ? old.length - oldCursor : Math.min(specs.length, old.length - oldCursor);
    const retire = old
      .slice(oldCursor, oldCursor + Math.max(0, retireCount))
      .flatMap((o) => retireSteps(slot, o, settings.drainTimeoutMs));
    // Stop-first (singletons such as a worker that must never run twice): the old batch stops before
    // the new one starts; every step is still undone in reverse, so a failed check restarts the old.
    if (settings.stopFirst)
      steps.push(
        ...retire.map((r) => ({ ...r, phase: 'shift' as const })),
        ...bring.map((x) => ({ ...x, phase: 'shift' as const })),
      );
    else steps.push(...bring, ...retire);
    oldCursor += Math.max(0, retireCount);
    all.push(...specs);
  }
  steps.push(...watchSteps(settings, slot, all));
  steps.push(...removeOldSteps(slot, old));
  return {
    strategy: 'rolling',
    environment: settings.environment,
    from: currentVersion(observed),
    to: { version: target.version, digest: target.digest, image: target.image },
    activeSlot: slot,
    targetSlot: slot,
    steps,
  };
}
