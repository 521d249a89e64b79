import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '@its/core';
import { createNotifier } from './slack-webhook.js';
import type { Notification } from './format-notification.js';

/**
 * The Slack stand-in: a real HTTP server on 127.0.0.1 that plays Slack's incoming-webhook endpoint.
 * It records every request and answers from a script (status and body, or never at all), which is
 * how the failure modes below are produced — Slack itself cannot be reached from here.
 */
type Reply = { status: number; body?: string } | 'never-answer';
interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

async function startSlackStandIn(script: Reply[] = []) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const reply = script.shift() ?? { status: 200, body: 'ok' };
      if (reply === 'never-answer') return;
      res.writeHead(reply.status, { 'content-type': 'text/plain' }).end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('the stand-in has no port');
  return {
    url: (path: string) => `http://127.0.0.1:${address.port}${path}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const SECRET_PATH = '/services/T0SECRET/B0SECRET/XXXXSECRETXXXX';
const SECRET_PARTS = ['T0SECRET', 'B0SECRET', 'XXXXSECRETXXXX'];

const failed: Notification = {
  event: 'failed',
  environment: 'staging',
  app: 'its-camera-ai',
  version: '1.4.2',
  fromVersion: '1.4.1',
  strategy: 'rolling',
  deploymentId: 'd-20261126-0001',
  sentence: 'health check "api" failed on its-camera-ai-staging-blue-0: GET /health → 503',
  durationMs: 12_400,
};

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

function capture() {
  const lines: string[] = [];
  return { lines, log: (line: string) => lines.push(line) };
}

function expectNoSecret(lines: string[], extra: string[] = []) {
  for (const line of lines) for (const part of [...SECRET_PARTS, ...extra]) expect(line).not.toContain(part);
}

describe('createNotifier (Slack stand-in on 127.0.0.1)', () => {
  it('posts the one-line message as Slack JSON to the webhook path', async () => {
    const slack = await startSlackStandIn();
    stop = slack.close;
    const { lines, log } = capture();
    const notifier = createNotifier({ SLACK_WEBHOOK_URL: slack.url(SECRET_PATH) }, log);
    const result = await notifier.notify(failed);
    expect(result).toEqual({ ok: true, attempts: 1 });
    expect(slack.received).toHaveLength(1);
    const [req] = slack.received;
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe(SECRET_PATH);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req!.body)).toEqual({
      text:
        '[staging] its-camera-ai: deployment of 1.4.2 FAILED (rolling, was 1.4.1) after 12 s: ' +
        'health check "api" failed on its-camera-ai-staging-blue-0: GET /health → 503 — deployment d-20261126-0001',
    });
    expect(lines).toEqual([]);
  });

  it('retries once after a 500 and then delivers', async () => {
    const slack = await startSlackStandIn([
      { status: 500, body: 'internal_error' },
      { status: 200, body: 'ok' },
    ]);
    stop = slack.close;
    const { lines, log } = capture();
    const notifier = createNotifier({ SLACK_WEBHOOK_URL: slack.url(SECRET_PATH) }, log, { retryDelayMs: 10 });
    const result = await notifier.notify({ ...failed, event: 'started' });
    expect(result).toEqual({ ok: true, attempts: 2 });
    expect(slack.received).toHaveLength(2);
    expect(slack.received[1]!.body).toBe(slack.received[0]!.body);
    expect(lines).toEqual([]);
  });

  it('gives up after two 500s: ok false, one log line with the URL redacted, no throw', async () => {
    const slack = await startSlackStandIn([
      { status: 500, body: 'internal_error' },
      { status: 503, body: 'service unavailable' },
      { status: 200, body: 'ok' },
    ]);
    stop = slack.close;
    const { lines, log } = capture();
    const notifier = createNotifier({ SLACK_WEBHOOK_URL: slack.url(SECRET_PATH) }, log, { retryDelayMs: 10 });
    const result = await notifier.notify(failed);
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(2);
    expect(slack.received).toHaveLength(2);
    expect(lines).toEqual([
      `notification failed not delivered: ${slack.url('/services/***')} answered 503: service unavailable (after one retry) (the deployment goes on)`,
    ]);
    expect(result.error).toContain('answered 503');
    expectNoSecret([...lines, result.error ?? '']);
  });

  it('does not retry a 4xx (Slack says the same on every try)', async () => {
    const slack = await startSlackStandIn([{ status: 403, body: 'invalid_token' }]);
    stop = slack.close;
    const { lines, log } = capture();
    const result = await createNotifier({ SLACK_WEBHOOK_URL: slack.url(SECRET_PATH) }, log).notify(failed);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(slack.received).toHaveLength(1);
    expect(lines).toEqual([
      `notification failed not delivered: ${slack.url('/services/***')} answered 403: invalid_token (the deployment goes on)`,
    ]);
  });

  it('connection refused: retried once, then one log line, ok false', async () => {
    const port = await freePort();
    const { lines, log } = capture();
    const notifier = createNotifier({ SLACK_WEBHOOK_URL: `http://127.0.0.1:${port}${SECRET_PATH}` }, log, {
      retryDelayMs: 10,
    });
    const result = await notifier.notify({ ...failed, event: 'rolled-back' });
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `notification rolled-back not delivered: http://127.0.0.1:${port}/services/*** cannot connect (ECONNREFUSED) (after one retry) (the deployment goes on)`,
    );
    expectNoSecret(lines);
  });

  it('a server that never answers is abandoned after the timeout, without a second post', async () => {
    const slack = await startSlackStandIn(['never-answer', 'never-answer']);
    stop = slack.close;
    const { lines, log } = capture();
    const notifier = createNotifier({ SLACK_WEBHOOK_URL: slack.url(SECRET_PATH) }, log, { timeoutMs: 300 });
    const started = performance.now();
    const result = await notifier.notify({ ...failed, event: 'succeeded' });
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(slack.received).toHaveLength(1);
    // Generous bound (shared 2-core machine): what matters is that it ends near 300 ms, not at 30 s.
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(5000);
    expect(lines).toEqual([
      `notification succeeded not delivered: ${slack.url('/services/***')} no answer within 300 ms (the deployment goes on)`,
    ]);
  });

  it('a malformed URL is reported once, clearly, without the value, and nothing is sent', async () => {
    const cases: [string, string][] = [
      [
        'hooks.slack.com/services/T0SECRET/B0SECRET/XXXXSECRETXXXX',
        'SLACK_WEBHOOK_URL is not a URL (expected http:// or https://…)',
      ],
      [
        'ftp://hooks.slack.com/services/T0SECRET/B0SECRET/XXXXSECRETXXXX',
        'SLACK_WEBHOOK_URL uses ftp: (expected http: or https:)',
      ],
    ];
    for (const [value, error] of cases) {
      const { lines, log } = capture();
      const notifier = createNotifier({ SLACK_WEBHOOK_URL: value }, log);
      expect(lines).toEqual([
        `${error}: deployment notifications are off for this run (the deployment goes on)`,
      ]);
      await expect(notifier.notify(failed)).resolves.toEqual({ ok: false, error, attempts: 0 });
      expect(lines).toHaveLength(1);
      expectNoSecret(lines);
    }
  });

  it('without SLACK_WEBHOOK_URL it is a silent no-op', async () => {
    const { lines, log } = capture();
    for (const env of [{}, { SLACK_WEBHOOK_URL: '' }, { SLACK_WEBHOOK_URL: '  ' }]) {
      await expect(createNotifier(env, log).notify(failed)).resolves.toEqual({ ok: true, attempts: 0 });
    }
    expect(lines).toEqual([]);
  });

  it('sends user-info as basic authentication and never prints it', async () => {
    const slack = await startSlackStandIn([{ status: 401, body: 'bad credentials' }]);
    stop = slack.close;
    const { lines, log } = capture();
    const url = slack.url('/hooks/s3cr3t-hook').replace('//', '//bot:pa55word@');
    const result = await createNotifier({ SLACK_WEBHOOK_URL: url }, log).notify(failed);
    expect(result.ok).toBe(false);
    expect(slack.received[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('bot:pa55word').toString('base64')}`,
    );
    expect(slack.received[0]!.path).toBe('/hooks/s3cr3t-hook');
    expect(lines[0]).toContain('//***@127.0.0.1:');
    expectNoSecret(lines, ['pa55word', 'bot:', 's3cr3t-hook']);
  });

  it('a bug while formatting (a caller passing a non-string sentence) still resolves with one log line', async () => {
    const slack = await startSlackStandIn();
    stop = slack.close;
    const { lines, log } = capture();
    const broken = { ...failed, sentence: 42 as unknown as string };
    const result = await createNotifier({ SLACK_WEBHOOK_URL: slack.url(SECRET_PATH) }, log).notify(broken);
    expect(result.ok).toBe(false);
    expect(slack.received).toHaveLength(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^notification failed not delivered: .*trim.* \(the deployment goes on\)$/);
  });

  it('a throwing fetch implementation still resolves with one log line', async () => {
    const { lines, log } = capture();
    const notifier = createNotifier({ SLACK_WEBHOOK_URL: `https://hooks.slack.com${SECRET_PATH}` }, log, {
      fetchImpl: () => {
        throw new Error(`broken client for https://hooks.slack.com${SECRET_PATH}`);
      },
      retryDelayMs: 0,
    });
    const result = await notifier.notify(failed);
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^notification failed not delivered: https:\/\/hooks\.slack\.com\/services\/\*\*\* cannot connect/,
    );
    expectNoSecret(lines);
  });
});
