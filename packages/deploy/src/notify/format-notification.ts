import { maskUrlCredentials } from './url-secrets.js';

/**
 * What a deployment tells its chat channel, and how it reads there. Pure: the notifier sends what
 * this returns.
 */

export type DeployEvent = 'started' | 'succeeded' | 'failed' | 'rolled-back';

export interface Notification {
  event: DeployEvent;
  environment: string;
  app: string;
  /**
   * The version this event is about: the one being deployed (started, succeeded, failed), or the one
   * that serves again after a rollback (rolled-back).
   */
  version: string;
  /** What served before: the version replaced, or for rolled-back the version abandoned. */
  fromVersion?: string;
  strategy: string;
  deploymentId: string;
  /** The verdict's sentence (why it failed, what the analysis found). */
  sentence?: string;
  durationMs?: number;
}

/** Slack shows at most 40,000 characters, but a sentence longer than this is a log, not a message. */
const MAX_SENTENCE = 600;

/** Slack's mrkdwn gives &, < and > a meaning; everything else shows as written. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

function oneLine(sentence: string): string {
  const flat = maskUrlCredentials(sentence).replace(/\s+/g, ' ').trim();
  return flat.length > MAX_SENTENCE ? `${flat.slice(0, MAX_SENTENCE - 1)}…` : flat;
}

/**
 * One line: environment, app, outcome, versions, strategy, duration, the verdict's sentence and the
 * deployment id to look up in `itsctl history`. URL credentials in the sentence are masked.
 */
export function formatNotification(n: Notification): { text: string } {
  const from = n.fromVersion;
  const took =
    n.durationMs === undefined
      ? ''
      : ` ${n.event === 'failed' ? 'after' : 'in'} ${formatDuration(n.durationMs)}`;
  let head: string;
  switch (n.event) {
    case 'started':
      head = `deploying ${n.version} (${n.strategy}${from ? `, replacing ${from}` : ', first deployment'})`;
      break;
    case 'succeeded':
      head = `${n.version} deployed (${n.strategy}${from ? `, replaced ${from}` : ''})${took}`;
      break;
    case 'failed':
      head = `deployment of ${n.version} FAILED (${n.strategy}${from ? `, was ${from}` : ''})${took}`;
      break;
    case 'rolled-back':
      head = `ROLLED BACK to ${n.version} (${n.strategy}${from ? `, from ${from}` : ''})${took}`;
      break;
  }
  const sentence = n.sentence && n.sentence.trim() !== '' ? `: ${oneLine(n.sentence)}` : '';
  return {
    text: escapeSlack(`[${n.environment}] ${n.app}: ${head}${sentence} — deployment ${n.deploymentId}`),
  };
}
