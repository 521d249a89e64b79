import { describe, expect, it } from 'vitest';
// Through the folder's entry point, which is what callers import.
import {
  formatDuration,
  formatNotification,
  maskUrlCredentials,
  parseHttpUrl,
  redactUrl,
  toRequestTarget,
} from './index.js';
import type { Notification } from './index.js';

const base: Notification = {
  event: 'started',
  environment: 'production',
  app: 'its-camera-ai',
  version: '1.4.2',
  fromVersion: '1.4.1',
  strategy: 'canary',
  deploymentId: 'd-7',
};

describe('formatNotification', () => {
  const cases: [string, Partial<Notification>, string][] = [
    ['started', {}, '[production] its-camera-ai: deploying 1.4.2 (canary, replacing 1.4.1) — deployment d-7'],
    [
      'first deployment',
      { fromVersion: undefined },
      '[production] its-camera-ai: deploying 1.4.2 (canary, first deployment) — deployment d-7',
    ],
    [
      'succeeded with the verdict',
      {
        event: 'succeeded',
        durationMs: 184_000,
        sentence: 'canary passed: error rate 0.1 % vs 0.2 % (p = 0.61)',
      },
      '[production] its-camera-ai: 1.4.2 deployed (canary, replaced 1.4.1) in 3 min 4 s: canary passed: error rate 0.1 % vs 0.2 % (p = 0.61) — deployment d-7',
    ],
    [
      'failed',
      { event: 'failed', durationMs: 4_200, sentence: 'error rate 9 % vs 0.2 %' },
      '[production] its-camera-ai: deployment of 1.4.2 FAILED (canary, was 1.4.1) after 4.2 s: error rate 9 % vs 0.2 % — deployment d-7',
    ],
    [
      'rolled back',
      {
        event: 'rolled-back',
        version: '1.4.1',
        fromVersion: '1.4.2',
        strategy: 'blue-green',
        durationMs: 210,
      },
      '[production] its-camera-ai: ROLLED BACK to 1.4.1 (blue-green, from 1.4.2) in 0.2 s — deployment d-7',
    ],
    [
      'Slack control characters escaped, sentence on one line',
      { event: 'failed', sentence: 'p95 > 200 ms &\n  errors < 1 %' },
      '[production] its-camera-ai: deployment of 1.4.2 FAILED (canary, was 1.4.1): p95 &gt; 200 ms &amp; errors &lt; 1 % — deployment d-7',
    ],
    [
      'URL credentials in the sentence are masked',
      {
        event: 'failed',
        sentence: 'external "db" failed: postgres://app:hunter2@db:5432/its?sslmode=require refused',
      },
      '[production] its-camera-ai: deployment of 1.4.2 FAILED (canary, was 1.4.1): external "db" failed: postgres://***@db:5432/its?sslmode=*** refused — deployment d-7',
    ],
  ];
  it.each(cases)('%s', (_name, change, text) => {
    expect(formatNotification({ ...base, ...change })).toEqual({ text });
  });

  it('cuts a very long sentence', () => {
    const { text } = formatNotification({ ...base, event: 'failed', sentence: 'x'.repeat(5000) });
    expect(text.length).toBeLessThan(800);
    expect(text).toContain('x…');
  });

  it('formats durations for people', () => {
    expect([0, 9_949, 10_000, 119_400, 120_000, 3_725_000].map(formatDuration)).toEqual([
      '0.0 s',
      '9.9 s',
      '10 s',
      '119 s',
      '2 min 0 s',
      '62 min 5 s',
    ]);
  });
});

describe('redactUrl', () => {
  const cases: [string, string][] = [
    ['https://hooks.slack.com/services/T000/B000/XXXX', 'https://hooks.slack.com/services/***'],
    ['https://discord.com/api/webhooks/123/tok', 'https://discord.com/api/***'],
    ['https://chat.example.com/hooks/abc123', 'https://chat.example.com/hooks/***'],
    ['https://example.com/T0KEN', 'https://example.com/***'],
    ['http://127.0.0.1:9090', 'http://127.0.0.1:9090'],
    ['https://user:pass@prom.example.com:9090/', 'https://***@prom.example.com:9090'],
    [
      'https://example.com/a/b?token=s3cret&channel=ops#frag',
      'https://example.com/a/***?token=***&channel=***#***',
    ],
    ['hooks.slack.com/services/T000/B000/XXXX', '***'],
    ['https://', 'https://***'],
  ];
  it.each(cases)('%s', (url, shown) => expect(redactUrl(url)).toBe(shown));
});

describe('maskUrlCredentials', () => {
  it('keeps paths, masks user-info and query values of every URL in the text', () => {
    expect(
      maskUrlCredentials(
        'GET http://127.0.0.1:4567/health/ready → 503; proxy http://u:p@proxy:3128 and https://x.io/q?api_key=abc&x=1',
      ),
    ).toBe(
      'GET http://127.0.0.1:4567/health/ready → 503; proxy http://***@proxy:3128 and https://x.io/q?api_key=***&x=***',
    );
  });
  it('leaves text without URLs alone', () => {
    expect(maskUrlCredentials('no url: a@b, x://')).toBe('no url: a@b, x://');
  });
});

describe('toRequestTarget and parseHttpUrl', () => {
  it('moves user-info into a basic Authorization header', () => {
    const t = toRequestTarget(new URL('https://al%40ice:p%3Ass@prom:9090/api'));
    expect(t).toEqual({
      href: 'https://prom:9090/api',
      headers: { authorization: `Basic ${Buffer.from('al@ice:p:ss').toString('base64')}` },
    });
    expect(toRequestTarget(new URL('http://prom:9090/'))).toEqual({ href: 'http://prom:9090/', headers: {} });
  });
  it('accepts only http(s) URLs with a host', () => {
    expect(parseHttpUrl(' https://hooks.slack.com/services/x ').ok).toBe(true);
    expect(parseHttpUrl('mailto:ops@example.com')).toEqual({
      ok: false,
      reason: 'uses mailto: (expected http: or https:)',
    });
    expect(parseHttpUrl('not a url')).toEqual({
      ok: false,
      reason: 'is not a URL (expected http:// or https://…)',
    });
  });
});
