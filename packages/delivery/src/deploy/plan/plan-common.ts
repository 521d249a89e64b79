import type { ObservedState, PlannedStep, PlanSettings, ReplicaSpec, Slot, Target } from './types.js';
import { replicaName, serverName, strayReplicas } from './types.js';

/** Steps every plan starts with: a router to talk to, leftovers removed, the migration run. */
export function planPreamble(observed: ObservedState, settings: PlanSettings, target: Target): PlannedStep[] {
  const steps: PlannedStep[] = [];
  if (!observed.router.running) steps.push({ step: { kind: 'ensure-router' }, phase: 'prepare', undo: [] });
  for (const stray of strayReplicas(observed))
    steps.push({ step: { kind: 'remove-replica', replica: stray.name }, phase: 'prepare', undo: [] });
  if (settings.migration)
    steps.push({
      step: { kind: 'run-migration', image: target.image, command: settings.migration },
      phase: 'prepare',
      undo: [],
    });
  return steps;
}

export function specFor(settings: PlanSettings, target: Target, slot: Slot, index: number): ReplicaSpec {
  return {
    name: replicaName(settings.app, settings.environment, slot, target.deploymentId, index),
    server: serverName(slot, target.deploymentId, index),
    slot,
    index,
    version: target.version,
    image: target.image,
    digest: target.digest,
    deploymentId: target.deploymentId,
  };
}

/** Start a replica; its undo removes it. */
export function startStep(spec: ReplicaSpec): PlannedStep {
  return {
    step: { kind: 'start-replica', replica: spec },
    phase: 'prepare',
    undo: [{ kind: 'remove-replica', replica: spec.name }],
  };
}

/** Register a replica with the router; its undo drains it first so no request is cut. */
export function addServerStep(
  spec: ReplicaSpec,
  phase: PlannedStep['phase'],
  drainTimeoutMs: number,
  weight?: number,
): PlannedStep {
  return {
    step: {
      kind: 'add-server',
      slot: spec.slot,
      server: spec.server,
      replica: spec.name,
      ...(weight === undefined ? {} : { weight }),
    },
    phase,
    undo: [
      { kind: 'drain-server', slot: spec.slot, server: spec.server, timeoutMs: drainTimeoutMs },
      { kind: 'remove-server', slot: spec.slot, server: spec.server },
    ],
  };
}

/**
 * The post-switch watch: health checks and SLOs on the new replicas for a while after traffic moved.
 * It belongs to the shift phase, so a failure there undoes the switch like any other shift step.
 */
export function watchSteps(settings: PlanSettings, slot: Slot, specs: ReplicaSpec[]): PlannedStep[] {
  if (settings.watchSeconds <= 0 || specs.length === 0) return [];
  return [
    {
      step: {
        kind: 'watch',
        slot,
        seconds: settings.watchSeconds,
        servers: specs.map((s) => s.server),
        replicas: specs.map((s) => s.name),
      },
      phase: 'shift',
      undo: [],
    },
  ];
}
