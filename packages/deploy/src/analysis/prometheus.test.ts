import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '@its/core';
import {
  PromQuerySchema,
  PrometheusAnalysisSchema,
  checkPromPlaceholders,
  evaluatePromQueries,
  judgePromAnswer,
  renderPromQuery,
} from './prometheus.js';
import type { PromQuery } from './prometheus.js';

const vector = (...values: [Record<string, string>, string][]) =>
  JSON.stringify({
    status: 'success',
    data: {
      resultType: 'vector',
      result: values.map(([metric, v]) => ({ metric, value: [1764126000.123, v] })),
    },
  });
const scalar = (v: string) =>
  JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1764126000, v] } });

describe('judgePromAnswer', () => {
  const errorRate: PromQuery = { name: 'error-rate', query: 'q', max: 0.01 };
  const up: PromQuery = { name: 'up', query: 'q', min: 1 };
  const band: PromQuery = { name: 'p95', query: 'q', min: 0, max: 0.2 };
  const cases: [
    string,
    PromQuery,
    number,
    string,
    { verdict: string; value: number | null; sentence: string },
  ][] = [
    [
      'one sample under max',
      errorRate,
      200,
      vector([{}, '0.004']),
      { verdict: 'pass', value: 0.004, sentence: 'error-rate is 0.004, at most 0.01' },
    ],
    [
      'one sample over max',
      errorRate,
      200,
      vector([{}, '0.0123456']),
      { verdict: 'fail', value: 0.0123456, sentence: 'error-rate is 0.01235, above the maximum 0.01' },
    ],
    [
      'at min',
      up,
      200,
      vector([{ job: 'api' }, '1']),
      { verdict: 'pass', value: 1, sentence: 'up is 1, at least 1' },
    ],
    [
      'below min',
      up,
      200,
      vector([{ job: 'api' }, '0']),
      { verdict: 'fail', value: 0, sentence: 'up is 0, below the minimum 1' },
    ],
    [
      'inside a band',
      band,
      200,
      scalar('0.15'),
      { verdict: 'pass', value: 0.15, sentence: 'p95 is 0.15, between 0 and 0.2' },
    ],
    [
      '+Inf is a value (x/0)',
      errorRate,
      200,
      scalar('+Inf'),
      { verdict: 'fail', value: Infinity, sentence: 'error-rate is +Inf, above the maximum 0.01' },
    ],
    [
      '-Inf under min',
      up,
      200,
      scalar('-Inf'),
      { verdict: 'fail', value: -Infinity, sentence: 'up is -Inf, below the minimum 1' },
    ],
    [
      'empty vector: no values, never a pass',
      errorRate,
      200,
      vector(),
      {
        verdict: 'inconclusive',
        value: null,
        sentence:
          'no values found for error-rate: the query matched no series (a metric not exported yet, a label that does not match, or no traffic)',
      },
    ],
    [
      'NaN: no values',
      errorRate,
      200,
      vector([{}, 'NaN']),
      {
        verdict: 'inconclusive',
        value: null,
        sentence:
          'no values found for error-rate: the query returned NaN (typically 0/0: a ratio with no requests)',
      },
    ],
    [
      'several series: aggregate',
      up,
      200,
      vector([{ job: 'a' }, '1'], [{ job: 'b' }, '1'], [{ job: 'c' }, '1'], [{ job: 'd' }, '0']),
      {
        verdict: 'inconclusive',
        value: null,
        sentence:
          'up returned 4 series ({job="a"}, {job="b"}, {job="c"} and 1 more); a limit needs one number: aggregate the query with sum(…), max(…) or avg(…)',
      },
    ],
    [
      'range vector',
      up,
      200,
      JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }),
      {
        verdict: 'inconclusive',
        value: null,
        sentence:
          'up returned a range vector; write an instant query (wrap the [range] selector in rate(), avg_over_time() or max_over_time())',
      },
    ],
    [
      'string result',
      up,
      200,
      JSON.stringify({ status: 'success', data: { resultType: 'string', result: [1, 'x'] } }),
      { verdict: 'inconclusive', value: null, sentence: 'up returned a string, not a number' },
    ],
    [
      'native histogram sample',
      up,
      200,
      JSON.stringify({
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, histogram: [1, {}] }] },
      }),
      {
        verdict: 'inconclusive',
        value: null,
        sentence: 'up returned a native histogram sample, not a number: use histogram_quantile(…) or similar',
      },
    ],
    [
      'status error keeps Prometheus’s text',
      up,
      400,
      JSON.stringify({
        status: 'error',
        errorType: 'bad_data',
        error: '1:5: parse error: unclosed left parenthesis',
      }),
      {
        verdict: 'inconclusive',
        value: null,
        sentence: 'Prometheus rejected up (HTTP 400): bad_data: 1:5: parse error: unclosed left parenthesis',
      },
    ],
    [
      'HTTP error without JSON',
      up,
      502,
      '<html>\n<body>Bad Gateway</body></html>',
      {
        verdict: 'inconclusive',
        value: null,
        sentence: 'Prometheus answered HTTP 502 for up, not JSON: <html> <body>Bad Gateway</body></html>',
      },
    ],
    [
      'JSON that is not the query API',
      up,
      200,
      JSON.stringify({ hello: 'world' }),
      {
        verdict: 'inconclusive',
        value: null,
        sentence: expect.stringMatching(
          /^Prometheus's answer for up \(HTTP 200\) is not the query API's JSON \(status: .*\); is the URL a Prometheus server\?$/,
        ) as unknown as string,
      },
    ],
  ];
  it.each(cases)('%s', (_name, q, status, body, expected) => {
    expect(judgePromAnswer(q, 'the query', status, body)).toEqual({
      name: q.name,
      query: 'the query',
      ...expected,
    });
  });
});

describe('renderPromQuery', () => {
  it('substitutes variables', () => {
    expect(
      renderPromQuery('sum(rate(x{version="{{version}}",env="{{ environment }}"}[1m]))', {
        version: '1.4.2-rc.1',
        environment: 'staging',
      }),
    ).toEqual({ ok: true, text: 'sum(rate(x{version="1.4.2-rc.1",env="staging"}[1m]))' });
  });
  it('refuses a value that could inject PromQL and a name with no value, together', () => {
    expect(renderPromQuery('x{v="{{version}}",c="{{canary}}"}', { version: '1"} or vector(1) #' })).toEqual({
      ok: false,
      reason:
        '{{version}} = "1\\"} or vector(1) #" is refused: only letters, digits and . _ : - may enter a query; {{canary}} has no value (known: version)',
    });
  });
  it('says when a variable is empty (previous_version on a first deployment)', () => {
    expect(renderPromQuery('x{v="{{previous_version}}"}', { previous_version: '' })).toEqual({
      ok: false,
      reason: '{{previous_version}} is empty',
    });
  });
  it('does not take inherited properties for variables', () => {
    expect(renderPromQuery('{{constructor}}', {})).toEqual({
      ok: false,
      reason: '{{constructor}} has no value (known: none)',
    });
  });
});

describe('PromQuerySchema and PrometheusAnalysisSchema', () => {
  const messages = (r: {
    success: boolean;
    error?: { issues: { path: PropertyKey[]; message: string }[] };
  }) => r.error?.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) ?? [];
  it('needs a name, a query and at least one limit', () => {
    expect(PromQuerySchema.safeParse({ name: 'up', query: 'up', min: 1 }).success).toBe(true);
    // Every problem at once: the empty query and the missing limit.
    expect(messages(PromQuerySchema.safeParse({ name: 'up', query: ' ' }))).toEqual([
      'query: write a PromQL instant query, e.g. sum(rate(http_requests_total{code=~"5.."}[1m]))',
      '(root): set max, min or both: a query without a limit decides nothing',
    ]);
    expect(messages(PromQuerySchema.safeParse({ name: 'up', query: 'up' }))).toEqual([
      '(root): set max, min or both: a query without a limit decides nothing',
    ]);
    expect(messages(PromQuerySchema.safeParse({ name: 'up', query: 'up', min: 2, max: 1 }))).toEqual([
      'min: min is above max: no value could pass',
    ]);
    expect(messages(PromQuerySchema.safeParse({ name: 'up', query: 'up', min: 1, step: 2 }))[0]).toMatch(
      /step/,
    );
  });
  it('checks the section: URL, defaults, unique names', () => {
    const ok = PrometheusAnalysisSchema.parse({
      url: 'http://127.0.0.1:9090',
      queries: [{ name: 'up', query: 'up', min: 1 }],
    });
    expect(ok.timeoutMs).toBe(5000);
    expect(
      messages(
        PrometheusAnalysisSchema.safeParse({
          url: 'prometheus:9090',
          queries: [
            { name: 'a', query: 'up', min: 1 },
            { name: 'a', query: 'up', max: 1 },
          ],
        }),
      ),
    ).toEqual([
      'url: expected an http(s) URL, e.g. http://127.0.0.1:9090',
      'queries.1.name: "a" is used twice: names identify results',
    ]);
  });
  it('finds placeholders no variable fills, with field paths', () => {
    expect(
      checkPromPlaceholders(
        [
          { name: 'a', query: 'x{v="{{version}}"}', max: 1 },
          { name: 'b', query: 'x{v="{{canary_version}}",e="{{environment}}"}', max: 1 },
        ],
        ['version', 'environment'],
      ),
    ).toEqual(['queries.1.query: {{canary_version}} is not a variable (known: environment, version)']);
  });
});

/** A stand-in for a broken or slow Prometheus (the real one is in prometheus.int.test.ts). */
async function startStandIn(
  reply: (url: URL, headers: IncomingHttpHeaders) => { status: number; body: string } | 'never-answer',
) {
  const seen: { url: URL; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    seen.push({ url, headers: req.headers });
    const r = reply(url, req.headers);
    if (r === 'never-answer') return;
    res.writeHead(r.status, { 'content-type': 'application/json' }).end(r.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no port');
  stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { base: `http://127.0.0.1:${address.port}`, seen };
}

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

describe('evaluatePromQueries (loopback stand-ins for failure modes)', () => {
  const up: PromQuery = { name: 'up', query: 'up{env="{{environment}}"}', min: 1 };

  it('sends an instant query with variables, timeout and time; basic auth from user-info; keeps a sub-path', async () => {
    const p = await startStandIn(() => ({ status: 200, body: vector([{}, '1']) }));
    const base = p.base.replace('//', '//ops:s3cret@') + '/prom';
    const [r] = await evaluatePromQueries(base, [up], {
      vars: { environment: 'staging' },
      timeoutMs: 1500,
      now: () => new Date('2026-11-26T03:00:00.250Z'),
    });
    expect(r).toEqual({
      name: 'up',
      query: 'up{env="staging"}',
      verdict: 'pass',
      value: 1,
      sentence: 'up is 1, at least 1',
    });
    const { url, headers } = p.seen[0]!;
    expect(url.pathname).toBe('/prom/api/v1/query');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      query: 'up{env="staging"}',
      timeout: '1500ms',
      time: '1795662000.250',
    });
    expect(headers.authorization).toBe(`Basic ${Buffer.from('ops:s3cret').toString('base64')}`);
  });

  it('a server that never answers: inconclusive after the timeout', async () => {
    const p = await startStandIn(() => 'never-answer');
    const [r] = await evaluatePromQueries(p.base, [up], { vars: { environment: 'staging' }, timeoutMs: 200 });
    expect(r).toMatchObject({
      verdict: 'inconclusive',
      value: null,
      sentence: `Prometheus at ${p.base} did not answer up within 200 ms`,
    });
  });

  it('an HTTP error page: inconclusive with the status', async () => {
    const p = await startStandIn(() => ({ status: 503, body: 'Service Unavailable' }));
    const [r] = await evaluatePromQueries(p.base, [up], { vars: { environment: 'staging' } });
    expect(r).toMatchObject({
      verdict: 'inconclusive',
      sentence: 'Prometheus answered HTTP 503 for up, not JSON: Service Unavailable',
    });
  });

  it('connection refused: inconclusive, credentials not printed', async () => {
    const port = await freePort();
    const [r] = await evaluatePromQueries(`http://ops:s3cret@127.0.0.1:${port}`, [up], {
      vars: { environment: 'x' },
    });
    expect(r).toMatchObject({
      verdict: 'inconclusive',
      sentence: `cannot reach Prometheus at http://***@127.0.0.1:${port} for up (ECONNREFUSED)`,
    });
  });

  it('a refused variable or a bad URL: inconclusive, nothing sent', async () => {
    const p = await startStandIn(() => ({ status: 200, body: vector([{}, '1']) }));
    const [r] = await evaluatePromQueries(p.base, [up], { vars: { environment: 'a"}or vector(1)' } });
    expect(r).toMatchObject({ verdict: 'inconclusive', query: up.query });
    expect(r!.sentence).toMatch(/^up was not sent: \{\{environment\}\} = .* is refused/);
    const [s] = await evaluatePromQueries('ftp://prom:9090', [up], { vars: { environment: 'x' } });
    expect(s).toMatchObject({
      verdict: 'inconclusive',
      sentence: 'the Prometheus URL uses ftp: (expected http: or https:); up was not queried',
    });
    expect(p.seen).toHaveLength(0);
  });
});
