import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { API_ROUTES, type ApiKeyCreated, type Camera, type Totals } from '@its/contracts';
import { freePort, waitForPort } from '@its/testkit';
import { ADMIN_TOKEN, cameraInput, crossing } from './fixtures.js';
import { openSse } from './sse-client.js';

const apiDir = fileURLToPath(new URL('..', import.meta.url));
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Starts src/server.ts as its own process, the way `npm start` runs dist/server.js. */
async function startServer(dataDir: string, port: number) {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/server.ts'], {
    cwd: apiDir,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      ADMIN_TOKEN,
      SHUTDOWN_TIMEOUT_MS: '15000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  const logWaiters: Array<() => void> = [];
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    logWaiters.splice(0).forEach((w) => w());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  /** Resolves when a log line matching `re` has been printed. */
  const waitForLog = (re: RegExp, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line ${re} in:\n${out}`)), timeoutMs);
      const check = () => {
        if (re.test(out)) {
          clearTimeout(timer);
          resolve();
        } else logWaiters.push(check);
      };
      check();
    });
  await waitForPort(port, 60_000);
  return { child, exited, waitForLog, output: () => out };
}

describe('graceful shutdown of the server process', () => {
  it('on SIGTERM ends live streams, finishes the in-flight ingestion (committed), and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'its-api-shutdown-'));
    dirs.push(dir);
    const port = await freePort();
    const server = await startServer(dir, port);
    const base = `http://127.0.0.1:${port}`;
    const adminHeaders = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const { key } = (await (
      await fetch(base + API_ROUTES.apiKeys, {
        method: 'POST',
        headers: adminHeaders,
        body: JSON.stringify({ name: 'shutdown' }),
      })
    ).json()) as ApiKeyCreated;
    const cam = (await (
      await fetch(base + API_ROUTES.cameras, {
        method: 'POST',
        headers: adminHeaders,
        body: JSON.stringify(cameraInput()),
      })
    ).json()) as Camera;

    const sse = await openSse(base + API_ROUTES.stream);
    await sse.waitForComment((c) => c === 'connected');

    // An ingestion whose body is only half sent when SIGTERM arrives: in flight by any definition.
    const body = Buffer.from(JSON.stringify({ events: Array.from({ length: 500 }, () => crossing(cam.id)) }));
    let finishBody = () => {};
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: API_ROUTES.ingestEvents,
          agent: false,
          headers: { 'content-type': 'application/json', 'content-length': body.length, 'x-api-key': key },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.write(body.subarray(0, body.length / 2));
      finishBody = () => req.end(body.subarray(body.length / 2));
    });
    await server.waitForLog(/"url":"\/api\/v1\/ingest\/events"/);

    server.child.kill('SIGTERM');
    await server.waitForLog(/shutting down/);
    finishBody();

    const result = await response;
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ accepted: 500, duplicates: 0 });
    await sse.ended;
    expect(sse.comments).toContain('server shutting down');
    expect(await server.exited).toBe(0);
    expect(server.output()).toMatch(/"msg":"stopped"/);

    // The acknowledged batch survived the shutdown: a new process on the same data sees it.
    const again = await startServer(dir, port);
    const totals = (await (await fetch(`${base}${API_ROUTES.totals}?cameraId=${cam.id}`)).json()) as Totals;
    expect(totals.crossings).toBe(500);
    again.child.kill('SIGINT');
    expect(await again.exited).toBe(0);
  }, 120_000);
});
