import { formatNotification } from './format-notification.js';
import type { Notification } from './format-notification.js';
import { maskUrlCredentials, parseHttpUrl, redactUrl, toRequestTarget } from './url-secrets.js';

// The whole notification API from one module, as deploy.ts imports it.
export { formatNotification } from './format-notification.js';
export type { DeployEvent, Notification } from './format-notification.js';
export { redactUrl } from './url-secrets.js';

/**
 * Deployment notifications to a Slack-compatible incoming webhook (SLACK_WEBHOOK_URL; Mattermost,
 * Rocket.Chat and Discord's /slack endpoint accept the same `{ "text": … }` body). A notification is
 * a courtesy: nothing here throws, a failure costs one log line, and the time it can take is bounded
 * (two attempts of `timeoutMs` at most), so a dead chat server never fails or stalls a deployment.
 */

export interface NotifyResult {
  ok: boolean;
  error?: string;
  /** HTTP requests made: 0 when notifications are off or the URL is malformed. */
  attempts?: number;
}

export interface Notifier {
  notify(n: Notification): Promise<NotifyResult>;
}

export interface NotifierOptions {
  /** Per attempt. 3 s: Slack answers in well under a second; longer means it is in trouble. */
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
  /** Pause before the one retry; 300 ms lets a restarting proxy come back without holding the deploy. */
  retryDelayMs?: number;
}

type Attempt = { ok: true } | { ok: false; reason: string; retry: boolean };

const SNIPPET = 200;

function describeFailure(error: unknown, timeoutMs: number): Attempt {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    // Not retried: the request may have arrived, and a second post would show the message twice.
    return { ok: false, reason: `no answer within ${timeoutMs} ms`, retry: false };
  const cause =
    error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return { ok: false, reason: `cannot connect (${detail})`, retry: true };
}

async function postOnce(
  fetchImpl: typeof fetch,
  target: { href: string; headers: Record<string, string> },
  body: string,
  timeoutMs: number,
): Promise<Attempt> {
  try {
    const res = await fetchImpl(target.href, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...target.headers },
      body,
      // A redirect would carry the message somewhere the operator did not configure.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = (await res.text()).replace(/\s+/g, ' ').trim().slice(0, SNIPPET);
    if (res.status >= 200 && res.status < 300) return { ok: true };
    const said = text === '' ? '' : `: ${text}`;
    // 5xx is the server's trouble and may pass; 4xx (Slack's invalid_token, no_service,
    // channel_is_archived) will be the same on every try.
    return { ok: false, reason: `answered ${res.status}${said}`, retry: res.status >= 500 };
  } catch (error) {
    return describeFailure(error, timeoutMs);
  }
}

/**
 * The notifier for this environment: a no-op without SLACK_WEBHOOK_URL; with a malformed one, a
 * notifier that reports why on every call and says so once in the log right away.
 */
export function createNotifier(
  env: Record<string, string | undefined>,
  log: (line: string) => void,
  opts: NotifierOptions = {},
): Notifier {
  const raw = env.SLACK_WEBHOOK_URL?.trim() ?? '';
  if (raw === '') return { notify: () => Promise.resolve({ ok: true, attempts: 0 }) };
  const parsed = parseHttpUrl(raw);
  if (!parsed.ok) {
    const error = `SLACK_WEBHOOK_URL ${parsed.reason}`;
    log(`${error}: deployment notifications are off for this run (the deployment goes on)`);
    return { notify: () => Promise.resolve({ ok: false, error, attempts: 0 }) };
  }
  const target = toRequestTarget(parsed.url);
  const shown = redactUrl(parsed.url.href);
  const timeoutMs = opts.timeoutMs ?? 3000;
  const retryDelayMs = opts.retryDelayMs ?? 300;
  const fetchImpl = opts.fetchImpl ?? fetch;
  // Belt and braces: a reason is built from the server's answer and error codes, never from the URL,
  // but anything printed is scrubbed of the part redactUrl hides anyway. Too short a part is left
  // alone: replacing every "/a" in a line would garble it and hide nothing worth hiding.
  const segments = parsed.url.pathname.split('/').filter((s) => s !== '');
  const hidden = (segments.length === 1 ? segments : segments.slice(1)).join('/');
  const scrub = (line: string) => {
    const masked = maskUrlCredentials(line);
    return hidden.length >= 6 ? masked.split(hidden).join('***') : masked;
  };

  return {
    async notify(n: Notification): Promise<NotifyResult> {
      try {
        const body = JSON.stringify(formatNotification(n));
        let attempt = await postOnce(fetchImpl, target, body, timeoutMs);
        let attempts = 1;
        if (!attempt.ok && attempt.retry) {
          await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
          attempt = await postOnce(fetchImpl, target, body, timeoutMs);
          attempts = 2;
        }
        if (attempt.ok) return { ok: true, attempts };
        const tries = attempts === 2 ? ' (after one retry)' : '';
        const error = scrub(`${shown} ${attempt.reason}${tries}`);
        log(`notification ${n.event} not delivered: ${error} (the deployment goes on)`);
        return { ok: false, error, attempts };
      } catch (error) {
        // Only a bug can land here (formatting, a broken fetchImpl); it still must not fail a deploy.
        const reason = scrub(error instanceof Error ? error.message : String(error));
        log(`notification ${n.event} not delivered: ${reason} (the deployment goes on)`);
        return { ok: false, error: reason };
      }
    },
  };
}
