/**
 * The worker's HTTP client for the API's ingestion contract (@its/contracts). Failures are sorted into
 * "try again later" (network, 5xx, 401/403 while a key is being rotated, 408, 429) and "never"
 * (other 4xx: the batch itself is bad).
 */
import {
  API_ROUTES,
  Camera,
  ErrorBody,
  IngestResult,
  LiveEvent,
  Page,
  WorkerLeases,
  type AggregateBatch,
  type WorkerHeartbeat,
  type CameraStatusReport,
  type CrossingEventBatch,
} from '@its/contracts';
import { ApiRejectedError, ApiUnavailableError } from './errors.js';

export interface ApiClient {
  listCameras(): Promise<Camera[]>;
  postEvents(batch: CrossingEventBatch): Promise<IngestResult>;
  postAggregates(batch: AggregateBatch): Promise<IngestResult>;
  postStatus(report: CameraStatusReport): Promise<void>;
  /** Registers or renews this worker and returns its camera leases; ApiRejectedError 404: the API has no leases. */
  heartbeat(hb: WorkerHeartbeat, timeoutMs?: number): Promise<WorkerLeases>;
  /**
   * Follows the API's live stream and calls `onChange` for every camera created, edited or removed,
   * reconnecting (1–10 s apart) until `signal` aborts. Resolves when it stops.
   */
  watchCameraChanges(onChange: (cameraId: string) => void, signal: AbortSignal): Promise<void>;
}

export interface ApiClientOptions {
  baseUrl: string;
  apiKey: string;
  /** 10 s per request: a batch is small; a hung API must not hold the delivery loop. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const CameraPage = Page(Camera);
const RETRYABLE = new Set([401, 403, 408, 429]);

export function createApiClient(options: ApiClientOptions): ApiClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;

  const request = async (
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    requestTimeoutMs = timeoutMs,
  ): Promise<unknown> => {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ApiUnavailableError(`${method} ${path}: ${cause}`);
    }
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : null;
    if (res.ok) return json;
    const parsed = ErrorBody.safeParse(json);
    const message = `${method} ${path}: HTTP ${res.status}${parsed.success ? ` ${parsed.data.message}` : ''}`;
    if (res.status >= 500 || RETRYABLE.has(res.status)) throw new ApiUnavailableError(message);
    throw new ApiRejectedError(res.status, message);
  };

  return {
    async listCameras() {
      const cameras: Camera[] = [];
      for (let offset = 0; ;) {
        const page = CameraPage.parse(
          await request('GET', `${API_ROUTES.cameras}?limit=500&offset=${offset}`),
        );
        cameras.push(...(page.items as Camera[]));
        offset += page.items.length;
        if (page.items.length === 0 || offset >= page.total) return cameras;
      }
    },
    async postEvents(batch) {
      return IngestResult.parse(await request('POST', API_ROUTES.ingestEvents, batch));
    },
    async postAggregates(batch) {
      return IngestResult.parse(await request('POST', API_ROUTES.ingestAggregates, batch));
    },
    async postStatus(report) {
      await request('POST', API_ROUTES.ingestStatus, report);
    },
    async heartbeat(hb, requestTimeoutMs) {
      return WorkerLeases.parse(await request('POST', API_ROUTES.workerHeartbeat, hb, requestTimeoutMs));
    },
    async watchCameraChanges(onChange, signal) {
      let failures = 0;
      while (!signal.aborted) {
        try {
          const res = await doFetch(`${base}${API_ROUTES.stream}`, {
            headers: { authorization: `Bearer ${options.apiKey}`, accept: 'text/event-stream' },
            signal,
          });
          if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
          failures = 0;
          const decoder = new TextDecoder();
          let pending = '';
          let eventType = '';
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            pending += decoder.decode(chunk, { stream: true });
            const lines = pending.split('\n');
            pending = lines.pop() ?? '';
            for (const line of lines) {
              // SSE: `event: <type>` then `data: <json>`, a blank line between events.
              if (line === '') eventType = '';
              else if (line.startsWith('event:')) eventType = line.slice(6).trim();
              else if (line.startsWith('data:') && eventType === 'camera-changed') {
                try {
                  const ev = LiveEvent.safeParse({ type: eventType, data: JSON.parse(line.slice(5)) });
                  if (ev.success && ev.data.type === 'camera-changed') onChange(ev.data.data.cameraId);
                } catch {
                  // Not JSON: not an event of ours.
                }
              }
            }
          }
        } catch {
          // Aborted, refused or cut: reconnect below unless stopping.
        }
        if (signal.aborted) return;
        failures++;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(10_000, 1000 * failures));
          t.unref();
          signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
        });
      }
    },
  };
}
