/**
 * The security probe's findings against the dashboard's server: its 400 answers (an undecodable URL,
 * a request Node's parser refuses) lacked the security headers every other answer carries, and the
 * client's source maps were public in production. Every answer, errors included, now carries them,
 * on the real socket as well as through inject(); `*.map` is a 404 unless source maps are served.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildWebApp, loadWebConfig, planSecurityHeaders } from '../src/index.js';

const API = 'http://api.test:8000';
const HEADERS = planSecurityHeaders(API);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'its-web-headers-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="app"></div>');
  writeFileSync(
    join(dir, 'assets', 'app-1234.js'),
    'console.log("app")\n//# sourceMappingURL=app-1234.js.map',
  );
  writeFileSync(join(dir, 'assets', 'app-1234.js.map'), '{"version":3,"sources":["../src/secret.ts"]}');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const build = (serveSourceMaps?: boolean) =>
  buildWebApp({
    config: {
      apiPublicUrl: API,
      version: '1.0.0',
      logLevel: 'silent',
      ...(serveSourceMaps === undefined ? {} : { serveSourceMaps }),
    },
    publicDir: dir,
  });

/** Sends `request` as is on a new connection and returns everything the server writes back. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let received = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer in 5 s')));
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}

/** The header block of a raw HTTP answer, names lower-cased. */
function headersOf(raw: string): { status: number; headers: Record<string, string> } {
  const [head = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf(':');
    headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers };
}

describe('every response carries the security headers, errors included', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await build();
  });
  afterAll(() => app.close());

  it.each([
    ['GET', '/', 200, {}],
    ['GET', '/config.json', 200, {}],
    ['GET', '/assets/app-1234.js', 200, {}],
    ['GET', '/%zz', 400, {}],
    ['GET', '/assets/%E0%A4%A', 400, {}],
    ['POST', '/config.json', 400, { payload: '{not json', headers: { 'content-type': 'application/json' } }],
    ['GET', '/assets/gone-0000.js', 404, {}],
    ['GET', '/assets/app-1234.js', 416, { headers: { range: 'bytes=999-9999' } }],
  ] as const)('%s %s → %i', async (method, url, status, extra) => {
    const res = await app.inject({ method, url, ...extra });
    expect(res.statusCode).toBe(status);
    for (const [name, value] of Object.entries(HEADERS)) expect(res.headers[name], name).toBe(value);
  });

  it('on the real socket too: an undecodable URL and a request Node’s parser refuses', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const badUrl = headersOf(
      await rawRequest(port, 'GET /%zz HTTP/1.1\r\nHost: dashboard\r\nConnection: close\r\n\r\n'),
    );
    const badHeader = headersOf(
      await rawRequest(port, 'GET / HTTP/1.1\r\nHost: dashboard\r\nthis is not a header\r\n\r\n'),
    );
    for (const answer of [badUrl, badHeader]) {
      expect(answer.status).toBe(400);
      for (const [name, value] of Object.entries(HEADERS)) expect(answer.headers[name], name).toBe(value);
    }
  });
});

describe('source maps', () => {
  it('are not served when source maps are off (the default, and NODE_ENV=production)', async () => {
    expect(loadWebConfig({ NODE_ENV: 'production' }).serveSourceMaps).toBe(false);
    for (const app of [await build(), await build(false)]) {
      try {
        const map = await app.inject({ method: 'GET', url: '/assets/app-1234.js.map' });
        expect(map.statusCode).toBe(404);
        expect(map.body).not.toContain('secret.ts');
        expect(map.json()).toMatchObject({ message: 'no such file: /assets/app-1234.js.map' });
        expect(map.headers['content-security-policy']).toBe(HEADERS['content-security-policy']);
        // Spelled differently, still refused.
        for (const url of [
          '/assets/app-1234.js.MAP',
          '/assets/./app-1234.js.map',
          '/assets/app-1234.js.map?x=1',
        ])
          expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
        // The code itself is still served.
        expect((await app.inject({ method: 'GET', url: '/assets/app-1234.js' })).statusCode).toBe(200);
      } finally {
        await app.close();
      }
    }
  });

  it('are served outside production, for debugging a build', async () => {
    expect(loadWebConfig({}).serveSourceMaps).toBe(true);
    expect(loadWebConfig({ NODE_ENV: 'development' }).serveSourceMaps).toBe(true);
    const app = await build(true);
    try {
      const map = await app.inject({ method: 'GET', url: '/assets/app-1234.js.map' });
      expect(map.statusCode).toBe(200);
      expect(map.body).toContain('secret.ts');
    } finally {
      await app.close();
    }
  });
});
