import type {
  ObservedReplica,
  ObservedState,
  PlannedStep,
  PlanSettings,
  ReplicaSpec,
  Slot,
  Step,
  Target,
} from './types.js';
import { leftoverBaselines, replicaName, serverName, strayReplicas } from './types.js';

/** Steps every plan starts with: a router to talk to, leftovers removed, the migration run. */
export function planPreamble(observed: ObservedState, settings: PlanSettings, target: Target): PlannedStep[] {
  const steps: PlannedStep[] = [];
  if (!observed.router.running) steps.push({ step: { kind: 'ensure-router' }, phase: 'prepare', undo: [] });
  const strays = strayReplicas(observed);
  for (const stray of strays)
    steps.push({ step: { kind: 'remove-replica', replica: stray.name }, phase: 'prepare', undo: [] });
  // A fresh canary baseline a killed canary left behind may still take traffic: drained, then removed.
  for (const b of leftoverBaselines(observed).filter((b) => !strays.includes(b)))
    steps.push(
      ...[
        { kind: 'drain-server', slot: b.slot, server: b.server, timeoutMs: settings.drainTimeoutMs } as const,
        { kind: 'remove-server', slot: b.slot, server: b.server } as const,
        { kind: 'remove-replica', replica: b.name } as const,
      ].map((step): PlannedStep => ({ step, phase: 'prepare', undo: [] })),
    );
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
        judgment: settings.watch,
      },
      phase: 'shift',
      undo: [],
    },
  ];
}

/**
 * Takes an old replica out of service: drain it, then stop it (kept until finalize). The undo puts it
 * back (`restoreFirst` runs before it is made ready again, e.g. a canary plan's weight reset).
 */
export function retireSteps(
  slot: Slot,
  old: ObservedReplica,
  drainTimeoutMs: number,
  restoreFirst: Step[] = [],
): PlannedStep[] {
  return [
    {
      step: { kind: 'drain-server', slot, server: old.server, timeoutMs: drainTimeoutMs },
      phase: 'shift',
      undo: [...restoreFirst, { kind: 'ready-server', slot, server: old.server }],
    },
    {
      step: { kind: 'stop-replica', replica: old.name },
      phase: 'shift',
      undo: [{ kind: 'restart-replica', replica: old.name }],
    },
  ];
}

/** Finalize: the old replicas leave the router and the engine once the new set serves. */
export function removeOldSteps(slot: Slot, old: ObservedReplica[]): PlannedStep[] {
  return old.flatMap((o): PlannedStep[] => [
    { step: { kind: 'remove-server', slot, server: o.server }, phase: 'finalize', undo: [] },
    { step: { kind: 'remove-replica', replica: o.name }, phase: 'finalize', undo: [] },
  ]);
}
