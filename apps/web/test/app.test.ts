import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import {
  WebConfigError,
  buildWebApp,
  isClientRoute,
  loadWebConfig,
  planSecurityHeaders,
} from '../src/index.js';

const INDEX =
  '<!doctype html><html><body><div id="app"></div><script type="module" src="/assets/app-1234.js"></script></body></html>';

describe('loadWebConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadWebConfig({})).toEqual({
      host: '127.0.0.1',
      port: 3000,
      apiPublicUrl: 'http://localhost:8000',
      logLevel: 'info',
      version: '0.1.0',
      serveSourceMaps: true,
    });
  });

  it('reads every variable, trims a trailing slash from the API URL and freezes the result', () => {
    const c = loadWebConfig({
      HOST: '0.0.0.0',
      PORT: '8080',
      API_PUBLIC_URL: 'https://api.example.org/',
      LOG_LEVEL: 'warn',
      APP_VERSION: '1.2.3',
    });
    expect(c).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      apiPublicUrl: 'https://api.example.org',
      logLevel: 'warn',
      version: '1.2.3',
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('treats empty strings as unset', () => {
    expect(loadWebConfig({ PORT: '', API_PUBLIC_URL: '' }).port).toBe(3000);
  });

  it('names every bad variable at once', () => {
    let err: unknown;
    try {
      loadWebConfig({ PORT: 'eighty', API_PUBLIC_URL: 'ftp://x', LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WebConfigError);
    const msg = (err as WebConfigError).message;
    expect(msg).toContain('PORT:');
    expect(msg).toContain('API_PUBLIC_URL: use an http:// or https:// URL');
    expect(msg).toContain('LOG_LEVEL:');
    expect((err as WebConfigError).issues).toHaveLength(3);
  });
});

describe('isClientRoute', () => {
  it.each([
    ['GET', '/cameras/abc', 'text/html,application/xhtml+xml', true],
    ['GET', '/system?x=1', undefined, true],
    ['HEAD', '/system', '*/*', true],
    ['GET', '/assets/missing.js', '*/*', false],
    ['GET', '/favicon.ico', 'text/html', false],
    ['GET', '/api/v1/cameras', 'application/json', false],
    ['POST', '/cameras', 'text/html', false],
  ])('%s %s (accept %s) → %s', (method, url, accept, expected) => {
    expect(isClientRoute(method, url, accept)).toBe(expected);
  });
});

describe('planSecurityHeaders', () => {
  it('lets the page call only itself and the API origin', () => {
    const h = planSecurityHeaders('https://api.example.org:8443/base');
    expect(h['content-security-policy']).toContain("connect-src 'self' https://api.example.org:8443;");
    expect(h['content-security-policy']).toContain("script-src 'self'");
    expect(h['x-content-type-options']).toBe('nosniff');
  });
});

describe('buildWebApp with a built client', () => {
  let dir: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'its-web-test-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'app-1234.js'), 'console.log("app")');
    writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    app = await buildWebApp({
      config: { apiPublicUrl: 'http://api.test:8000', version: '9.9.9', logLevel: 'silent' },
      publicDir: dir,
      uptimeSeconds: () => 42.4,
    });
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('GET /config.json tells the browser where the API is, never cached', async () => {
    const res = await app.inject({ method: 'GET', url: '/config.json' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ apiBaseUrl: 'http://api.test:8000', version: '9.9.9' });
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('GET /health reports the web server itself', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', service: 'web', version: '9.9.9', uptimeS: 42 });
  });

  it('serves index.html at / with security headers', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toBe(INDEX);
    expect(res.headers['content-security-policy']).toContain("connect-src 'self' http://api.test:8000");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('serves hashed assets as immutable and other files as revalidated', async () => {
    const js = await app.inject({ method: 'GET', url: '/assets/app-1234.js' });
    expect(js.statusCode).toBe(200);
    expect(js.body).toBe('console.log("app")');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const icon = await app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('answers deep links with index.html so the client router can take over', async () => {
    for (const url of ['/cameras/6c1f0b7e-0000-4000-8000-000000000000', '/system', '/cameras/x?range=7d']) {
      const res = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toBe(INDEX);
    }
  });

  it('answers a missing asset or a non-page request with a JSON 404', async () => {
    const asset = await app.inject({ method: 'GET', url: '/assets/gone-0000.js' });
    expect(asset.statusCode).toBe(404);
    expect(asset.json()).toMatchObject({
      statusCode: 404,
      error: 'Not Found',
      message: 'no such file: /assets/gone-0000.js',
    });
    const post = await app.inject({ method: 'POST', url: '/cameras', headers: { accept: 'text/html' } });
    expect(post.statusCode).toBe(404);
  });
});

describe('buildWebApp without a built client', () => {
  it('explains how to build instead of serving a blank page, and still answers /health', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'its-web-empty-'));
    const app = await buildWebApp({
      config: { apiPublicUrl: 'http://localhost:8000', version: '0.1.0', logLevel: 'silent' },
      publicDir: dir,
    });
    try {
      const page = await app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } });
      expect(page.statusCode).toBe(503);
      expect(page.body).toContain('npm run build -w @its/web');
      const json = await app.inject({ method: 'GET', url: '/x.js' });
      expect(json.statusCode).toBe(404);
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/config.json' })).json()).toMatchObject({
        apiBaseUrl: 'http://localhost:8000',
      });
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
