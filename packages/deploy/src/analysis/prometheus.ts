import { z } from 'zod';
import { maskUrlCredentials, parseHttpUrl, redactUrl, toRequestTarget } from '../notify/url-secrets.js';

/**
 * PromQL checks beside the built-in canary comparison, modelled on Argo Rollouts' AnalysisTemplate
 * with the Prometheus provider: each query must come back as one number, which passes when it is
 * within `min`/`max`. Missing data is never a pass — nor a failure: an empty vector, NaN, several
 * series, an error or a timeout is *inconclusive* with the reason (Flagger #883 and Argo Rollouts
 * #180/#4479 show what goes wrong when "no values" is read as success or as failure).
 *
 * Interpreting an answer (`judgePromAnswer`) and rendering a query (`renderPromQuery`) are pure;
 * `evaluatePromQueries` does the HTTP and never throws.
 */

export const PromQuerySchema = z
  .strictObject({
    /** Names the check in evidence, logs and notifications. */
    name: z.string().trim().min(1, 'name the check, e.g. error-rate'),
    /**
     * A PromQL instant query that yields one number (aggregate with sum/max/avg). `{{name}}` is
     * replaced by the caller's variable of that name (the canary passes environment, version,
     * previous_version); values are restricted so they cannot inject PromQL.
     */
    query: z
      .string()
      .trim()
      .min(1, 'write a PromQL instant query, e.g. sum(rate(http_requests_total{code=~"5.."}[1m]))'),
    /** Passes when the value is at most this. */
    max: z.number().optional(),
    /** Passes when the value is at least this. */
    min: z.number().optional(),
  })
  .refine((q) => q.max !== undefined || q.min !== undefined, {
    message: 'set max, min or both: a query without a limit decides nothing',
  })
  .refine((q) => q.max === undefined || q.min === undefined || q.min <= q.max, {
    message: 'min is above max: no value could pass',
    path: ['min'],
  });

export type PromQuery = z.input<typeof PromQuerySchema>;

/** The `prometheus` section an environment file can hold (strategy.canary.prometheus). */
export const PrometheusAnalysisSchema = z.strictObject({
  /** Base URL of the Prometheus server (its /api/v1/query is appended); user:password@ is sent as basic auth. */
  url: z.string().refine((u) => parseHttpUrl(u).ok, 'expected an http(s) URL, e.g. http://127.0.0.1:9090'),
  /** Per query. 5 s: an SLO query slower than that is itself a problem worth hearing about. */
  timeoutMs: z.number().int().min(1).default(5000),
  queries: z
    .array(PromQuerySchema)
    .min(1, 'list at least one query, or remove the prometheus section')
    .superRefine((queries, ctx) => {
      const seen = new Set<string>();
      queries.forEach((q, i) => {
        if (seen.has(q.name))
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `"${q.name}" is used twice: names identify results`,
          });
        seen.add(q.name);
      });
    }),
});

export type PromVerdict = 'pass' | 'fail' | 'inconclusive';

export interface PromResult {
  name: string;
  /** The query as sent (variables substituted), or as written when it could not be rendered. */
  query: string;
  verdict: PromVerdict;
  /** The number judged; null when there was none (inconclusive). */
  value: number | null;
  sentence: string;
}

export interface EvaluateOptions {
  /** Per query; default 5000 ms. Also sent to Prometheus as `timeout` so it stops evaluating too. */
  timeoutMs?: number;
  /** Evaluation instant (`time=`); without it Prometheus uses its own clock. */
  now?: () => Date;
  /** Values for {{name}} placeholders. */
  vars?: Record<string, string>;
  fetchImpl?: typeof fetch;
}

/** Letters, digits and . _ : - cover versions, tags and environment names, and cannot close a string. */
export const PROM_VAR_VALUE = /^[A-Za-z0-9._:-]+$/;
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Substitutes {{name}} placeholders, refusing unknown names and values that could change the query. */
export function renderPromQuery(
  query: string,
  vars: Record<string, string>,
): { ok: true; text: string } | { ok: false; reason: string } {
  const problems: string[] = [];
  const text = query.replace(PLACEHOLDER, (whole, name: string) => {
    const value = Object.hasOwn(vars, name) ? vars[name] : undefined;
    if (value === undefined) {
      const known = Object.keys(vars).sort();
      problems.push(`{{${name}}} has no value (known: ${known.length > 0 ? known.join(', ') : 'none'})`);
      return whole;
    }
    if (value === '') {
      // e.g. previous_version on a first deployment: there is nothing to compare with.
      problems.push(`{{${name}}} is empty`);
      return whole;
    }
    if (!PROM_VAR_VALUE.test(value)) {
      const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
      problems.push(`{{${name}}} = ${shown} is refused: only letters, digits and . _ : - may enter a query`);
      return whole;
    }
    return value;
  });
  return problems.length > 0 ? { ok: false, reason: problems.join('; ') } : { ok: true, text };
}

/** For config checks before anything runs: field-path messages for placeholders no variable will fill. */
export function checkPromPlaceholders(queries: readonly PromQuery[], varNames: readonly string[]): string[] {
  const known = new Set(varNames);
  const problems: string[] = [];
  queries.forEach((q, i) => {
    for (const [, name] of q.query.matchAll(PLACEHOLDER))
      if (!known.has(name!))
        problems.push(
          `queries.${i}.query: {{${name}}} is not a variable (known: ${[...known].sort().join(', ')})`,
        );
  });
  return problems;
}

const SampleSchema = z.tuple([z.number(), z.string()]);
const AnswerSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({
        resultType: z.literal('vector'),
        result: z.array(
          z.object({ metric: z.record(z.string(), z.string()).default({}), value: SampleSchema.optional() }),
        ),
      }),
      z.object({ resultType: z.literal('scalar'), result: SampleSchema }),
      z.object({ resultType: z.literal('string'), result: SampleSchema }),
      z.object({ resultType: z.literal('matrix'), result: z.array(z.unknown()) }),
    ]),
  }),
  z.object({
    status: z.literal('error'),
    errorType: z.string().default('error'),
    error: z.string().default(''),
  }),
]);

/** Prometheus writes special floats as strings: "NaN", "+Inf", "-Inf". */
function parseSampleValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return text === 'NaN' ? NaN : Number(text);
}

function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}

function formatLabels(metric: Record<string, string>): string {
  const pairs = Object.entries(metric).map(([k, v]) => `${k}="${v}"`);
  return `{${pairs.join(', ')}}`;
}

const snippet = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 200);

/** Pass/fail for one number against its limits; the sentence names the value and the limit. */
export function compareToLimits(q: PromQuery, value: number): { verdict: 'pass' | 'fail'; sentence: string } {
  const shown = formatValue(value);
  if (q.max !== undefined && value > q.max)
    return { verdict: 'fail', sentence: `${q.name} is ${shown}, above the maximum ${q.max}` };
  if (q.min !== undefined && value < q.min)
    return { verdict: 'fail', sentence: `${q.name} is ${shown}, below the minimum ${q.min}` };
  const limits =
    q.min !== undefined && q.max !== undefined
      ? `between ${q.min} and ${q.max}`
      : q.max !== undefined
        ? `at most ${q.max}`
        : `at least ${q.min}`;
  return { verdict: 'pass', sentence: `${q.name} is ${shown}, ${limits}` };
}

/**
 * What one answer of /api/v1/query means for one check. Pure. Only a single finite-or-infinite
 * number is judged; everything else is inconclusive with a reason that says what to change.
 */
export function judgePromAnswer(q: PromQuery, query: string, httpStatus: number, body: string): PromResult {
  const inconclusive = (sentence: string): PromResult => ({
    name: q.name,
    query,
    verdict: 'inconclusive',
    value: null,
    sentence,
  });
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return inconclusive(
      `Prometheus answered HTTP ${httpStatus} for ${q.name}, not JSON: ${snippet(body) || '(empty body)'}`,
    );
  }
  const parsed = AnswerSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return inconclusive(
      `Prometheus's answer for ${q.name} (HTTP ${httpStatus}) is not the query API's JSON (${issue?.path.join('.') || 'body'}: ${issue?.message}); is the URL a Prometheus server?`,
    );
  }
  const answer = parsed.data;
  if (answer.status === 'error')
    return inconclusive(
      `Prometheus rejected ${q.name} (HTTP ${httpStatus}): ${answer.errorType}: ${answer.error}`,
    );
  const data = answer.data;
  let sample: [number, string] | undefined;
  switch (data.resultType) {
    case 'matrix':
      return inconclusive(
        `${q.name} returned a range vector; write an instant query (wrap the [range] selector in rate(), avg_over_time() or max_over_time())`,
      );
    case 'string':
      return inconclusive(`${q.name} returned a string, not a number`);
    case 'scalar':
      sample = data.result;
      break;
    case 'vector': {
      const series = data.result;
      if (series.length === 0)
        return inconclusive(
          `no values found for ${q.name}: the query matched no series (a metric not exported yet, a label that does not match, or no traffic)`,
        );
      if (series.length > 1) {
        const some = series.slice(0, 3).map((s) => formatLabels(s.metric));
        const more = series.length > 3 ? ` and ${series.length - 3} more` : '';
        return inconclusive(
          `${q.name} returned ${series.length} series (${some.join(', ')}${more}); a limit needs one number: aggregate the query with sum(…), max(…) or avg(…)`,
        );
      }
      sample = series[0]!.value;
      if (sample === undefined)
        return inconclusive(
          `${q.name} returned a native histogram sample, not a number: use histogram_quantile(…) or similar`,
        );
      break;
    }
  }
  const value = parseSampleValue(sample[1]);
  if (Number.isNaN(value))
    return inconclusive(
      `no values found for ${q.name}: the query returned NaN (typically 0/0: a ratio with no requests)`,
    );
  const judged = compareToLimits(q, value);
  return { name: q.name, query, verdict: judged.verdict, value, sentence: judged.sentence };
}

async function runQuery(
  base: URL,
  q: PromQuery,
  query: string,
  opts: { timeoutMs: number; time?: Date; fetchImpl: typeof fetch },
): Promise<PromResult> {
  const url = new URL('api/v1/query', base);
  url.searchParams.set('query', query);
  url.searchParams.set('timeout', `${opts.timeoutMs}ms`);
  if (opts.time) url.searchParams.set('time', (opts.time.getTime() / 1000).toFixed(3));
  const target = toRequestTarget(url);
  const shown = redactUrl(base.href);
  try {
    const res = await opts.fetchImpl(target.href, {
      headers: { accept: 'application/json', ...target.headers },
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    return judgePromAnswer(q, query, res.status, await res.text());
  } catch (error) {
    const inconclusive = (sentence: string): PromResult => ({
      name: q.name,
      query,
      verdict: 'inconclusive',
      value: null,
      sentence: maskUrlCredentials(sentence),
    });
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
      return inconclusive(`Prometheus at ${shown} did not answer ${q.name} within ${opts.timeoutMs} ms`);
    const cause =
      error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
    const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
    return inconclusive(`cannot reach Prometheus at ${shown} for ${q.name} (${detail})`);
  }
}

/**
 * Runs every query against {baseUrl}/api/v1/query (instant queries, in parallel) and judges each.
 * Never throws: a bad URL, a refused variable or an unreachable server make the affected results
 * inconclusive, which holds a canary step and never promotes it.
 */
export async function evaluatePromQueries(
  baseUrl: string,
  queries: readonly PromQuery[],
  opts: EvaluateOptions = {},
): Promise<PromResult[]> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const vars = opts.vars ?? {};
  const parsed = parseHttpUrl(baseUrl);
  const time = opts.now?.();
  const fetchImpl = opts.fetchImpl ?? fetch;
  return Promise.all(
    queries.map((q) => {
      const inconclusive = (query: string, sentence: string): PromResult => ({
        name: q.name,
        query,
        verdict: 'inconclusive',
        value: null,
        sentence,
      });
      if (!parsed.ok)
        return inconclusive(q.query, `the Prometheus URL ${parsed.reason}; ${q.name} was not queried`);
      const rendered = renderPromQuery(q.query, vars);
      if (!rendered.ok) return inconclusive(q.query, `${q.name} was not sent: ${rendered.reason}`);
      // A trailing slash makes the base a directory, so a Prometheus under a sub-path keeps it.
      const base = new URL(parsed.url.href.endsWith('/') ? parsed.url.href : `${parsed.url.href}/`);
      return runQuery(base, q, rendered.text, { timeoutMs, time, fetchImpl });
    }),
  );
}
