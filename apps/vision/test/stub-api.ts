/**
 * A loopback stand-in for the API's ingestion routes that records what arrives, in order, and can be
 * taken down and brought back on the same port. Used where the test must see arrival order or make
 * the API fail on purpose; the end-to-end test uses the real API.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Camera, CrossingEvent, IntervalAggregate } from '@its/contracts';

export interface StubApi {
  url: string;
  received: Array<{ path: string; body: unknown }>;
  events: Map<string, CrossingEvent>;
  aggregates: Map<string, IntervalAggregate>;
  statuses: unknown[];
  cameras: Camera[];
  /** Answer the next `n` ingestion requests with this status. */
  failNext(n: number, status: number): void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startStubApi(apiKey: string): Promise<StubApi> {
  let server: Server | null = null;
  let port = 0;
  let failures = { n: 0, status: 500 };
  const api: StubApi = {
    url: '',
    received: [],
    events: new Map(),
    aggregates: new Map(),
    statuses: [],
    cameras: [],
    failNext(n, status) {
      failures = { n, status };
    },
    async down() {
      const s = server;
      server = null;
      if (s) await new Promise<void>((r) => s.close(() => r()) && s.closeAllConnections());
    },
    async up() {
      const s = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const reply = (status: number, json: unknown) => {
            res.writeHead(status, { 'content-type': 'application/json' });
            res.end(JSON.stringify(json));
          };
          if (req.headers.authorization !== `Bearer ${apiKey}`)
            return reply(401, { statusCode: 401, error: 'Unauthorized', message: 'bad key' });
          const path = (req.url ?? '').split('?')[0]!;
          if (req.method === 'GET' && path === '/api/v1/cameras') {
            return reply(200, { items: api.cameras, total: api.cameras.length, limit: 500, offset: 0 });
          }
          if (failures.n > 0) {
            failures.n--;
            return reply(failures.status, {
              statusCode: failures.status,
              error: 'Injected',
              message: 'injected failure',
            });
          }
          const parsed = JSON.parse(body) as Record<string, unknown>;
          api.received.push({ path, body: parsed });
          if (path === '/api/v1/ingest/events') {
            let accepted = 0;
            for (const e of parsed.events as CrossingEvent[]) {
              if (api.events.has(e.id)) continue;
              api.events.set(e.id, e);
              accepted++;
            }
            return reply(200, { accepted, duplicates: (parsed.events as unknown[]).length - accepted });
          }
          if (path === '/api/v1/ingest/aggregates') {
            for (const a of parsed.aggregates as IntervalAggregate[])
              api.aggregates.set(`${a.cameraId}|${a.intervalStart}|${a.lane}|${a.class}`, a);
            return reply(200, { accepted: (parsed.aggregates as unknown[]).length, duplicates: 0 });
          }
          if (path === '/api/v1/ingest/status') {
            api.statuses.push(parsed);
            return reply(200, { accepted: 1, duplicates: 0 });
          }
          reply(404, { statusCode: 404, error: 'Not Found', message: path });
        });
      });
      await new Promise<void>((r) => s.listen(port, '127.0.0.1', () => r()));
      port = (s.address() as AddressInfo).port;
      api.url = `http://127.0.0.1:${port}`;
      server = s;
    },
    close: () => api.down(),
  };
  await api.up();
  return api;
}
