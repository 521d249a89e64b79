import { planBlueGreen } from './plan-blue-green.js';
import { planRolling } from './plan-rolling.js';
import type { ObservedState, Plan, PlannedStep, PlanSettings, Target } from './types.js';
import { currentVersion, otherSlot, servingReplicas } from './types.js';

export interface RollbackInput {
  strategy: 'rolling' | 'blue-green';
  /** The version to return to (from history), with its image; undefined when history has none. */
  previous: Target | undefined;
}

/**
 * Rollback: when the idle slot still runs a complete set (kept by blue-green), a traffic flip back to
 * it — instant, nothing starts. Otherwise a redeploy of the previous digest through the same strategy.
 * Returns undefined when there is nothing to return to.
 */
export function planRollback(
  observed: ObservedState,
  settings: PlanSettings,
  input: RollbackInput,
): Plan | undefined {
  const active = observed.router.activeSlot;
  const idle = otherSlot(active);
  const kept = servingReplicas(observed, idle);
  const current = currentVersion(observed);
  const keptVersion = kept[0];
  if (
    kept.length > 0 &&
    keptVersion &&
    (current === undefined ||
      keptVersion.digest !== current.digest ||
      keptVersion.version !== current.version)
  ) {
    const steps: PlannedStep[] = [
      ...(observed.router.running
        ? []
        : [{ step: { kind: 'ensure-router' }, phase: 'prepare', undo: [] } satisfies PlannedStep]),
      // A replica kept for an hour may have died since: prove the kept set answers before the flip.
      {
        step: { kind: 'check-replicas', replicas: kept.map((r) => r.name), checks: ['container', 'api'] },
        phase: 'prepare',
        undo: [],
      },
      ...kept.map((r): PlannedStep => ({
        step: { kind: 'ready-server', slot: idle, server: r.server },
        phase: 'prepare',
        undo: [],
      })),
      {
        step: { kind: 'switch-slot', from: active, to: idle },
        phase: 'shift',
        undo: [{ kind: 'switch-slot', from: idle, to: active }],
      },
      {
        step: { kind: 'retain-slot', slot: active, seconds: settings.keepPreviousSeconds },
        phase: 'finalize',
        undo: [],
      },
    ];
    return {
      strategy: 'rollback-flip',
      environment: settings.environment,
      from: current,
      to: { version: keptVersion.version, digest: keptVersion.digest, image: keptVersion.image },
      activeSlot: active,
      targetSlot: idle,
      steps,
    };
  }
  if (!input.previous) return undefined;
  // No watch on the way back: a rollback that "failed" its watch would return to the broken version.
  const redeploy = { ...settings, migration: undefined, watchSeconds: 0 };
  return input.strategy === 'blue-green'
    ? planBlueGreen(observed, redeploy, input.previous)
    : planRolling(observed, redeploy, input.previous);
}
