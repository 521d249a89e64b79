/**
 * The browser's side of the wire contract: every response is validated with the shared zod schemas,
 * so a drift between API and dashboard shows up as a clear error naming the field, not as a blank chart.
 */
import {
  API_ROUTES,
  AggregateSeries,
  Camera,
  ErrorBody,
  Page,
  ReadinessReport,
  WorkerList,
  type AggregateQuery,
} from '@its/contracts';
import type { z } from 'zod';

export type ApiErrorKind = 'network' | 'http' | 'contract';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

const CameraPage = Page(Camera);
export type CameraPage = z.infer<typeof CameraPage>;

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(baseUrl: string, fetchFn: FetchLike = (i, init) => fetch(i, init)) {
  const base = baseUrl.replace(/\/+$/, '');

  async function getJson<S extends z.ZodTypeAny>(
    path: string,
    schema: S,
    opts: { signal?: AbortSignal; acceptStatus?: number[] } = {},
  ): Promise<z.infer<S>> {
    let res: Response;
    try {
      res = await fetchFn(`${base}${path}`, {
        headers: { accept: 'application/json' },
        signal: opts.signal ?? null,
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new ApiError('network', `cannot reach the API at ${base} (${(err as Error).message})`);
    }
    // A proxy's HTML error page is not JSON: treat it as "no body" and report the status instead.
    const body: unknown = await res.json().catch(() => null);
    if (!res.ok && !(opts.acceptStatus ?? []).includes(res.status)) {
      const e = ErrorBody.safeParse(body);
      throw new ApiError('http', e.success ? e.data.message : `${res.status} ${res.statusText}`, res.status);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const where = first ? `${first.path.join('.') || '(body)'}: ${first.message}` : 'unexpected shape';
      throw new ApiError('contract', `unexpected response from ${path}: ${where}`, res.status);
    }
    return parsed.data;
  }

  return {
    baseUrl: base,
    streamUrl: `${base}${API_ROUTES.stream}`,
    listCameras: (opts: { limit?: number; offset?: number; signal?: AbortSignal } = {}) =>
      getJson(
        `${API_ROUTES.cameras}?${toQuery({ limit: opts.limit ?? 200, offset: opts.offset ?? 0 })}`,
        CameraPage,
        opts,
      ),
    getCamera: (id: string, opts: { signal?: AbortSignal } = {}) =>
      getJson(API_ROUTES.camera(id), Camera, opts),
    getAggregates: (q: AggregateQuery, opts: { signal?: AbortSignal } = {}) =>
      getJson(`${API_ROUTES.aggregates}?${toQuery(q)}`, AggregateSeries, opts),
    // 503 is a *report* (one entry per failing check), not a transport failure.
    getReadiness: (opts: { signal?: AbortSignal } = {}) =>
      getJson(API_ROUTES.ready, ReadinessReport, { ...opts, acceptStatus: [503] }),
    /** Vision workers seen in the last hour, the cameras each holds, and enabled cameras nobody holds. */
    getWorkers: (opts: { signal?: AbortSignal } = {}) => getJson(API_ROUTES.workers, WorkerList, opts),
  };
}

export function toQuery(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  return q.toString();
}

export function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
