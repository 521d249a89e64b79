import type { ObservedState, PlannedStep, PlanSettings } from './types.js';
import { otherSlot, servingReplicas } from './types.js';

/**
 * Whether the set kept in the idle slot has outlived its rollback window. `idleSince` is when traffic
 * left it (the end of the last switch); unknown means "keep": retiring is never a guess.
 */
export function keptSetExpired(settings: PlanSettings, idleSince: Date | undefined, now: Date): boolean {
  if (!idleSince) return false;
  return now.getTime() - idleSince.getTime() >= settings.keepPreviousSeconds * 1000;
}

/** Retire the idle slot's kept set: it gets no traffic, so no drain is needed and nothing to undo. */
export function planRetireIdle(observed: ObservedState): PlannedStep[] {
  // Its steps talk to the router: with the router down, the kept set waits for a later run.
  if (!observed.router.running) return [];
  const idle = otherSlot(observed.router.activeSlot);
  return servingReplicas(observed, idle).flatMap((r): PlannedStep[] => [
    { step: { kind: 'remove-server', slot: idle, server: r.server }, phase: 'prepare', undo: [] },
    { step: { kind: 'remove-replica', replica: r.name }, phase: 'prepare', undo: [] },
  ]);
}
