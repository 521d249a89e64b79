/**
 * Prometheus metrics, one registry per app instance (tests build many apps in one process).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PoolStats } from './db/db.js';

export function createMetrics(opts: { version: string; poolStats: () => PoolStats; dbKind: string }) {
  const registry = new Registry();
  // Process CPU/memory, GC and event-loop lag (nodejs_eventloop_lag_*).
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route template, method, status code and app version',
    labelNames: ['route', 'method', 'status_code', 'version'] as const,
    // Dense below 200 ms: the seed's response-time objective.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'its_db_pool_connections',
    help: 'Database connections by state (total, idle, waiting clients)',
    labelNames: ['state', 'store'] as const,
    registers: [registry],
    collect() {
      const s = opts.poolStats();
      this.set({ state: 'total', store: opts.dbKind }, s.total);
      this.set({ state: 'idle', store: opts.dbKind }, s.idle);
      this.set({ state: 'waiting', store: opts.dbKind }, s.waiting);
    },
  });
  const ingested = new Counter({
    name: 'its_ingest_items_total',
    help: 'Ingested items by kind (events, aggregates, status) and outcome (accepted, duplicate)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  });
  const sseClients = new Gauge({
    name: 'its_sse_clients',
    help: 'Open Server-Sent Events connections',
    registers: [registry],
  });
  const sseRefused = new Counter({
    name: 'its_sse_clients_refused_total',
    help: 'Live-stream connections refused (503) because SSE_MAX_CLIENTS were open',
    registers: [registry],
  });
  const sseDropped = new Counter({
    name: 'its_sse_clients_dropped_total',
    help: 'Live-stream clients dropped because more than SSE_CLIENT_BUFFER_BYTES waited for them',
    registers: [registry],
  });
  return {
    registry,
    observeRequest(route: string, method: string, statusCode: number, seconds: number) {
      httpDuration.observe(
        { route, method, status_code: String(statusCode), version: opts.version },
        seconds,
      );
    },
    countIngest(kind: 'events' | 'aggregates' | 'status', accepted: number, duplicates: number) {
      ingested.inc({ kind, outcome: 'accepted' }, accepted);
      if (duplicates > 0) ingested.inc({ kind, outcome: 'duplicate' }, duplicates);
    },
    sseClients,
    sseRefused,
    sseDropped,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
