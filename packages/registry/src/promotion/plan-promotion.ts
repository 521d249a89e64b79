import { nextEnvironment, previousEnvironment, type Environment } from './environments.js';
import type { GateRecord } from './record-store.js';

export type PromotionVerdict =
  { allowed: true; evidence: GateRecord[] } | { allowed: false; reasons: string[]; fix: string };

/**
 * Whether `digest` may enter `to` coming from `from`: environments are passed in order, and the image
 * needs at least one passing gate or deploy record in `from`, with no gate or deploy there whose latest
 * result is a failure (a later pass of the same name clears an earlier failure). Every reason is
 * reported at once.
 */
export function assessPromotion(input: {
  digest: string;
  from: Environment;
  to: Environment;
  records: GateRecord[];
}): PromotionVerdict {
  const { digest, from, to } = input;
  const reasons: string[] = [];
  if (nextEnvironment(from) !== to) {
    const expectedFrom = previousEnvironment(to);
    reasons.push(
      expectedFrom
        ? `${to} takes images from ${expectedFrom}, not from ${from}`
        : `nothing is promoted into ${to}; images enter it through \`itsctl publish\``,
    );
  }
  const evidence = input.records.filter(
    (r) => r.digest === digest && r.environment === from && (r.kind === 'gate' || r.kind === 'deploy'),
  );
  const latestByName = new Map<string, GateRecord>();
  for (const r of evidence) {
    const key = `${r.kind}:${r.name}`;
    const seen = latestByName.get(key);
    if (!seen || seen.at <= r.at) latestByName.set(key, r);
  }
  const latest = [...latestByName.values()];
  const failing = latest.filter((r) => r.result === 'fail');
  for (const r of failing) {
    reasons.push(`${r.kind} ${r.name} failed in ${from} at ${r.at}${r.detail ? ` (${r.detail})` : ''}`);
  }
  if (!latest.some((r) => r.result === 'pass')) {
    reasons.push(`${digest} has no passing gate or deploy record in ${from}`);
  }
  if (reasons.length === 0) return { allowed: true, evidence: latest };
  return {
    allowed: false,
    reasons,
    fix:
      `run ${from}'s gates against this digest, or record a result with ` +
      `\`itsctl record --env ${from} --digest ${digest} --kind gate --name <gate> --result pass\``,
  };
}
