import { undo } from '../apply/execute-plan.js';
import type { Step } from '../plan/types.js';
import { who, type Session } from './session.js';
import type { DeployContext } from './types.js';

function isFinalize(step: unknown): boolean {
  return (step as { phase?: string }).phase === 'finalize';
}

/**
 * Finds deployments a killed command left half done and undoes the steps they had started, from
 * their journal; the runtime is read again afterwards. Says what it did.
 */
export async function recoverInterrupted(
  session: Session,
  ctx: DeployContext,
  ownId: string,
): Promise<string[]> {
  const notes: string[] = [];
  for (const d of session.store.unfinished(session.config.name)) {
    if (d.id === ownId) continue;
    const journal = session.store.journal(d.id);
    const started = journal
      .filter((j) => j.state !== 'undone')
      .map((j) => ({ seq: j.seq, undo: j.undo as Step[] }));
    const finalizing = journal.some((j) => j.state !== 'undone' && isFinalize(j.step));
    ctx.log(
      `found deployment ${d.id} (${d.version}, started ${d.startedAt} by ${d.who}, pid ${d.pid}) interrupted after ${journal.length} step(s)`,
    );
    if (finalizing) {
      // It had switched and was retiring the old set: the new version serves; leftovers are stray
      // containers the next plan removes.
      ctx.log('  it had already moved all traffic; completing it: leftovers are removed by this deployment');
      session.store.finishDeployment(
        d.id,
        'recovered',
        ctx.now(),
        'interrupted while retiring the previous version; completed by a later command',
        [],
      );
      notes.push(`completed interrupted deployment ${d.id}`);
      continue;
    }
    ctx.log('  cleaning up: undoing its steps so the previous version serves');
    const result = await undo(session.undoRuntime, started, {
      mark: (seq, state) => session.store.journalMark(d.id, seq, state),
    });
    session.store.finishDeployment(
      d.id,
      'interrupted',
      ctx.now(),
      `interrupted; cleaned up by a later command${result.undoErrors.length ? `: ${result.undoErrors.join('; ')}` : ''}`,
      [],
    );
    session.store.audit(
      ctx.now(),
      session.config.name,
      who(ctx.env),
      'recover',
      `undid ${started.length} step(s) of ${d.id}`,
    );
    notes.push(`cleaned up interrupted deployment ${d.id}`);
  }
  return notes;
}
