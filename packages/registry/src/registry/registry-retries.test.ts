/**
 * Retries of 429 and 5xx against a stand-in registry: an HTTP server on 127.0.0.1 that answers each
 * route from a script (one answer per request, the last one repeated), so rate limits and outages that
 * a real docker-registry never produces can be played. The client's waits go through an injected
 * sleep that advances an injected clock: the tests assert the waits asked for, never wall time.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeDigest } from './digest.js';
import { OCI_MANIFEST } from './media-types.js';
import { RegistryClient, type RegistryClientOptions } from './registry-client.js';
import { RegistryRequestError, RegistryRetriesExhaustedError } from './registry-errors.js';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

interface StandIn {
  host: string;
  /** Route key `METHOD /path` (no query) → the answers, in order; the last one repeats. */
  script: Map<string, Answer[]>;
  seen: Array<{ method: string; path: string; bytes: number }>;
  close(): Promise<void>;
}

async function startStandInRegistry(): Promise<StandIn> {
  const script = new Map<string, Answer[]>();
  const seen: StandIn['seen'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
      const method = req.method ?? 'GET';
      seen.push({ method, path, bytes: Buffer.concat(chunks).length });
      const answers = script.get(`${method} ${path}`);
      const answer = answers ? (answers.length > 1 ? answers.shift()! : answers[0]!) : { status: 404 };
      res.writeHead(answer.status, answer.headers ?? {}).end(method === 'HEAD' ? undefined : answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    script,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] }));
const manifestOk: Answer = {
  status: 200,
  headers: { 'content-type': OCI_MANIFEST, 'docker-content-digest': computeDigest(manifest) },
  body: manifest.toString(),
};
const unavailable: Answer = {
  status: 503,
  headers: { 'content-type': 'application/json' },
  body: '{"errors":[{"code":"UNAVAILABLE","message":"backend restarting"}]}',
};
const START = Date.parse('2026-11-26T01:00:00Z');

let registry: StandIn;
let clock: number;
let sleeps: number[];
let logged: string[];

beforeEach(async () => {
  registry = await startStandInRegistry();
  clock = START;
  sleeps = [];
  logged = [];
});
afterEach(async () => {
  await registry.close();
});

function client(options: Partial<RegistryClientOptions> = {}): RegistryClient {
  return new RegistryClient({
    registry: registry.host,
    log: (line) => logged.push(line),
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => clock,
    random: () => 0.5,
    ...options,
  });
}

const requests = (method: string, path: string) =>
  registry.seen.filter((r) => r.method === method && r.path === path).length;

describe('retries against a stand-in registry', () => {
  it('waits as long as a 429 says in Retry-After (seconds), then succeeds', async () => {
    registry.script.set('GET /v2/app/manifests/v1', [
      { status: 429, headers: { 'retry-after': '2' }, body: '{"errors":[{"code":"TOOMANYREQUESTS"}]}' },
      manifestOk,
    ]);
    const fetched = await client().getManifest('app', 'v1');
    expect(fetched.digest).toBe(computeDigest(manifest));
    expect(requests('GET', '/v2/app/manifests/v1')).toBe(2);
    expect(sleeps).toEqual([2000]);
    expect(logged).toEqual([
      `registry ${registry.host}: GET /v2/app/manifests/v1 answered 429; retry 1 of 3 in 2 s (Retry-After)`,
    ]);
  });

  it('reads Retry-After as an HTTP date, against the injected clock', async () => {
    registry.script.set('GET /v2/app/manifests/v1', [
      { status: 429, headers: { 'retry-after': new Date(START + 3000).toUTCString() } },
      manifestOk,
    ]);
    await client().getManifest('app', 'v1');
    expect(sleeps).toEqual([3000]);
  });

  it('backs off exponentially with jitter through two 503s, then succeeds', async () => {
    const digest = computeDigest(Buffer.from('blob'));
    registry.script.set(`HEAD /v2/app/blobs/${digest}`, [unavailable, unavailable, { status: 200 }]);
    expect(await client().hasBlob('app', digest)).toBe(true);
    expect(requests('HEAD', `/v2/app/blobs/${digest}`)).toBe(3);
    // random 0.5: half the ceiling plus a quarter; ceilings 500 then 1000 ms.
    expect(sleeps).toEqual([375, 750]);
    expect(logged).toHaveLength(2);
    expect(logged[1]).toBe(
      `registry ${registry.host}: HEAD /v2/app/blobs/${digest} answered 503; retry 2 of 3 in 0.8 s (back-off)`,
    );
  });

  it('gives up on a 500 that never ends, naming the registry, the request and the attempts', async () => {
    registry.script.set('GET /v2/app/manifests/v1', [
      {
        status: 500,
        headers: { 'content-type': 'application/json' },
        body: '{"errors":[{"code":"UNKNOWN"}]}',
      },
    ]);
    const error = await client()
      .getManifest('app', 'v1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryRetriesExhaustedError);
    expect((error as RegistryRetriesExhaustedError).attempts).toBe(4);
    expect((error as Error).message).toBe(
      `registry ${registry.host}: GET /v2/app/manifests/v1: gave up after 4 attempts (retry.maxAttempts is 4); last answer: manifest app:v1: GET answered 500 (UNKNOWN)`,
    );
    expect((error as RegistryRetriesExhaustedError).fix).toMatch(/keeps failing \(HTTP 500\)/);
    expect(requests('GET', '/v2/app/manifests/v1')).toBe(4);
    expect(sleeps).toEqual([375, 750, 1500]);
    expect(logged).toHaveLength(3); // one line per retry, none for the final failure
  });

  it('does not wait past the budget: a Retry-After beyond it fails at once', async () => {
    registry.script.set('GET /v2/app/manifests/v1', [{ status: 429, headers: { 'retry-after': '120' } }]);
    const error = await client()
      .getManifest('app', 'v1')
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain(
      'GET /v2/app/manifests/v1: gave up after 1 attempt (Retry-After 120 s would pass retry.maxElapsedMs, 30 s from the first attempt)',
    );
    expect((error as RegistryRetriesExhaustedError).fix).toMatch(/rate-limiting/);
    expect(sleeps).toEqual([]);
  });

  it('takes its bounds from the client options', async () => {
    registry.script.set('GET /v2/app/manifests/v1', [unavailable]);
    await expect(client({ retry: { maxAttempts: 2 } }).getManifest('app', 'v1')).rejects.toThrow(
      /gave up after 2 attempts/,
    );
    expect(requests('GET', '/v2/app/manifests/v1')).toBe(2);
    expect(() => client({ retry: { maxAttempts: 0 } })).toThrow(
      'retry.maxAttempts: should be an integer ≥ 1',
    );
  });

  it('retries a manifest PUT (the same bytes under the same reference)', async () => {
    registry.script.set('PUT /v2/app/manifests/v1', [
      unavailable,
      { status: 201, headers: { 'docker-content-digest': computeDigest(manifest) } },
    ]);
    const put = await client().putManifest('app', 'v1', manifest, OCI_MANIFEST);
    expect(put.digest).toBe(computeDigest(manifest));
    expect(requests('PUT', '/v2/app/manifests/v1')).toBe(2);
  });

  it('retries a blob upload held in memory as a whole: a failed closing PUT gets a new session', async () => {
    const bytes = Buffer.from('layer bytes');
    const digest = computeDigest(bytes);
    registry.script.set(`HEAD /v2/app/blobs/${digest}`, [{ status: 404 }]);
    registry.script.set('POST /v2/app/blobs/uploads/', [
      { status: 202, headers: { location: '/v2/app/blobs/uploads/session-1' } },
      { status: 202, headers: { location: '/v2/app/blobs/uploads/session-2' } },
    ]);
    registry.script.set('PUT /v2/app/blobs/uploads/session-1', [{ status: 500 }]);
    registry.script.set('PUT /v2/app/blobs/uploads/session-2', [{ status: 201 }]);
    expect((await client().uploadBlob('app', bytes)).digest).toBe(digest);
    expect(registry.seen.map((r) => `${r.method} ${r.path}`)).toEqual([
      `HEAD /v2/app/blobs/${digest}`,
      'POST /v2/app/blobs/uploads/',
      'PUT /v2/app/blobs/uploads/session-1',
      'POST /v2/app/blobs/uploads/',
      'PUT /v2/app/blobs/uploads/session-2',
    ]);
    expect(registry.seen.at(-1)!.bytes).toBe(bytes.length);
    expect(logged).toEqual([
      `registry ${registry.host}: blob upload POST /v2/app/blobs/uploads/ + PUT answered 500; retry 1 of 3 in 0.4 s (back-off)`,
    ]);
  });

  it('retries the POST that opens a streamed upload, never the streamed PUT itself', async () => {
    const bytes = Buffer.from('streamed layer');
    const digest = computeDigest(bytes);
    registry.script.set('POST /v2/app/blobs/uploads/', [
      unavailable,
      { status: 202, headers: { location: '/v2/app/blobs/uploads/s' } },
    ]);
    registry.script.set('PUT /v2/app/blobs/uploads/s', [unavailable]);
    async function* chunks() {
      yield bytes;
    }
    const error = await client()
      .uploadBlobStream('app', digest, chunks())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryRequestError);
    expect(error).not.toBeInstanceOf(RegistryRetriesExhaustedError);
    expect(requests('POST', '/v2/app/blobs/uploads/')).toBe(2);
    expect(requests('PUT', '/v2/app/blobs/uploads/s')).toBe(1);
  });

  it('does not retry answers that will not change (404, 400)', async () => {
    registry.script.set('GET /v2/app/manifests/v1', [{ status: 400 }]);
    await expect(client().getManifest('app', 'v1')).rejects.toThrow(/answered 400/);
    await expect(client().getManifest('app', 'v2')).rejects.toThrow(/answered 404/);
    expect(registry.seen).toHaveLength(2);
    expect(sleeps).toEqual([]);
  });
});
