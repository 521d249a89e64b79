/**
 * Secrets that live inside URLs. A Slack webhook's path is its password (anyone holding
 * https://hooks.slack.com/services/T…/B…/X… can post to the channel), and Prometheus or proxy URLs
 * may carry user:password@ or ?token=. Whatever is printed (logs, reasons, notification text) goes
 * through these functions first; whatever is sent moves user-info into a header, because fetch
 * refuses URLs that embed credentials. What counts as secret is @its/core's redactUrl's decision;
 * these only choose how much of a URL this package shows.
 */
import { redactUrl as redactUrlSecrets, redactUrlsInText } from '@its/core';

/**
 * For printing a URL that may be secret as a whole (a webhook): scheme and host stay so the reader
 * knows where it points; the path after its first segment, user-info, query values and fragment are
 * masked. https://hooks.slack.com/services/T000/B000/XXXX → https://hooks.slack.com/services/***.
 * A string that is not a URL keeps at most its scheme: it may be a secret with a typo.
 */
export function redactUrl(url: string): string {
  return redactUrlSecrets(url, { path: 'first-segment' });
}

/**
 * For free text that may quote URLs (an error reason, a verdict sentence): every URL keeps its path,
 * which is what makes a reason useful (GET http://…/health/ready → 503), but loses user-info and
 * every query value (nobody vetted which parameters such a URL carries).
 */
export function maskUrlCredentials(text: string): string {
  return redactUrlsInText(text, { values: 'all' });
}

export interface RequestTarget {
  /** The URL without user-info. */
  href: string;
  /** An Authorization header when the URL carried user:password@. */
  headers: Record<string, string>;
}

/** fetch throws on URLs with user-info; HTTP basic authentication is what such a URL means. */
export function toRequestTarget(url: URL): RequestTarget {
  if (url.username === '' && url.password === '') return { href: url.href, headers: {} };
  const bare = new URL(url.href);
  bare.username = '';
  bare.password = '';
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return {
    href: bare.href,
    headers: { authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` },
  };
}

/** Parses an http(s) URL, or says in a few words what is wrong without quoting it (it may be secret). */
export function parseHttpUrl(raw: string): { ok: true; url: URL } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { ok: false, reason: 'is not a URL (expected http:// or https://…)' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, reason: `uses ${url.protocol} (expected http: or https:)` };
  return { ok: true, url };
}
