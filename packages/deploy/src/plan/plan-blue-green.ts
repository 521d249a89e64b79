import { addServerStep, planPreamble, specFor, startStep, watchSteps } from './plan-common.js';
import type { ObservedState, Plan, PlannedStep, PlanSettings, Target } from './types.js';
import { ALL_CHECKS, currentVersion, otherSlot, servingReplicas } from './types.js';

/**
 * Blue-green: retire whatever still sits in the idle slot (the set kept from the previous switch),
 * start the full new set there, run every check, register it (the idle backend gets no traffic),
 * switch 100 % in one router step, then keep the old set for the window or retire it at once.
 */
export function planBlueGreen(observed: ObservedState, settings: PlanSettings, target: Target): Plan {
  const active = observed.router.activeSlot;
  const idle = otherSlot(active);
  const steps: PlannedStep[] = planPreamble(observed, settings, target);
  for (const kept of servingReplicas(observed, idle)) {
    steps.push({
      step: { kind: 'remove-server', slot: idle, server: kept.server },
      phase: 'prepare',
      undo: [],
    });
    steps.push({ step: { kind: 'remove-replica', replica: kept.name }, phase: 'prepare', undo: [] });
  }
  const specs = Array.from({ length: settings.replicas }, (_, i) => specFor(settings, target, idle, i));
  for (const spec of specs) steps.push(startStep(spec));
  steps.push({
    step: { kind: 'check-replicas', replicas: specs.map((s) => s.name), checks: ALL_CHECKS },
    phase: 'prepare',
    undo: [],
  });
  for (const spec of specs) steps.push(addServerStep(spec, 'prepare', settings.drainTimeoutMs));
  steps.push({
    step: { kind: 'switch-slot', from: active, to: idle },
    phase: 'shift',
    undo: [{ kind: 'switch-slot', from: idle, to: active }],
  });
  steps.push(...watchSteps(settings, idle, specs));
  const old = servingReplicas(observed, active);
  if (settings.keepPreviousSeconds === 0 || old.length === 0) {
    for (const o of old) {
      steps.push({
        step: { kind: 'drain-server', slot: active, server: o.server, timeoutMs: settings.drainTimeoutMs },
        phase: 'finalize',
        undo: [],
      });
      steps.push({
        step: { kind: 'remove-server', slot: active, server: o.server },
        phase: 'finalize',
        undo: [],
      });
      steps.push({ step: { kind: 'remove-replica', replica: o.name }, phase: 'finalize', undo: [] });
    }
  } else {
    steps.push({
      step: { kind: 'retain-slot', slot: active, seconds: settings.keepPreviousSeconds },
      phase: 'finalize',
      undo: [],
    });
  }
  return {
    strategy: 'blue-green',
    environment: settings.environment,
    from: currentVersion(observed),
    to: { version: target.version, digest: target.digest, image: target.image },
    activeSlot: active,
    targetSlot: idle,
    steps,
  };
}
