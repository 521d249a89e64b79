import type { CheckResult } from '../health/checks.js';
import { describeStep } from '../plan/render-plan.js';
import type { Plan, Step } from '../plan/types.js';
import { executeStep } from './execute-step.js';
import { CheckFailedError, type Runtime } from './runtime.js';

export interface Journal {
  start: (seq: number, step: Step, undo: Step[]) => void;
  mark: (seq: number, state: 'done' | 'undone') => void;
}

export interface ExecutionResult {
  ok: boolean;
  checks: CheckResult[];
  /** Set when a step failed or the command was interrupted. */
  failure?: { step: Step; error: Error; phase: string };
  rolledBack: boolean;
  undoErrors: string[];
  /** Finalize failures: the new version serves, but something old was not retired. */
  warnings: string[];
}

const errorOf = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));

/**
 * Runs a plan step by step with progress on stderr. A failure (or an interrupt) before finalize
 * runs the undo of every started step, newest first, with a runtime that cannot be interrupted: the
 * previous version must end up serving whatever happens.
 */
export async function executePlan(
  rt: Runtime,
  plan: Plan,
  journal: Journal,
  undoRuntime: Runtime,
): Promise<ExecutionResult> {
  const checks: CheckResult[] = [];
  const started: Array<{ seq: number; undo: Step[] }> = [];
  const warnings: string[] = [];
  const total = plan.steps.length;
  for (const [i, planned] of plan.steps.entries()) {
    const t0 = rt.now();
    if (planned.phase !== 'finalize' && rt.signal.aborted) {
      return {
        ...(await undo(undoRuntime, started, journal)),
        ok: false,
        checks,
        failure: {
          step: planned.step,
          error: new Error(`interrupted (${String(rt.signal.reason ?? 'signal')}) before step ${i + 1}`),
          phase: planned.phase,
        },
      };
    }
    rt.progress(`[${i + 1}/${total}] ${describeStep(planned.step)}`);
    journal.start(i, planned.step, planned.undo);
    started.push({ seq: i, undo: planned.undo });
    try {
      checks.push(...(await executeStep(planned.phase === 'finalize' ? undoRuntime : rt, planned.step)));
      journal.mark(i, 'done');
      if (rt.now() - t0 > 1000) rt.progress(`      done in ${((rt.now() - t0) / 1000).toFixed(1)} s`);
    } catch (caught) {
      const error = errorOf(caught);
      if (caught instanceof CheckFailedError)
        checks.push(...caught.results.filter((r) => !checks.includes(r)));
      if (planned.phase === 'finalize') {
        warnings.push(`${describeStep(planned.step)}: ${error.message}`);
        rt.progress(
          `      ! ${error.message} (the new version serves; retire it by hand or on the next deployment)`,
        );
        continue;
      }
      rt.progress(`      ✗ ${error.message}`);
      return {
        ...(await undo(undoRuntime, started, journal)),
        ok: false,
        checks,
        failure: { step: planned.step, error, phase: planned.phase },
      };
    }
  }
  return { ok: true, checks, rolledBack: false, undoErrors: [], warnings };
}

/** Undoes started steps, newest first; keeps going past errors so as much as possible is restored. */
export async function undo(
  rt: Runtime,
  started: Array<{ seq: number; undo: Step[] }>,
  journal: Pick<Journal, 'mark'>,
): Promise<{ rolledBack: boolean; undoErrors: string[]; warnings: string[] }> {
  const undoErrors: string[] = [];
  const todo = [...started].reverse().filter((s) => s.undo.length > 0);
  if (todo.length > 0) rt.progress('rolling back: the previous version keeps (or goes back to) serving');
  for (const entry of todo) {
    for (const step of entry.undo) {
      rt.progress(`  undo: ${describeStep(step)}`);
      try {
        await executeStep(rt, step);
      } catch (e) {
        undoErrors.push(`${describeStep(step)}: ${errorOf(e).message}`);
        rt.progress(`    ✗ ${errorOf(e).message}`);
      }
    }
    journal.mark(entry.seq, 'undone');
  }
  return { rolledBack: true, undoErrors, warnings: [] };
}
