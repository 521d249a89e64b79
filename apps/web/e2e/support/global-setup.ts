/**
 * Starts what the suite tests, once: by default a real API (embedded store in a temp dir) and the
 * dashboard's server serving a fresh production build of the client, both on 127.0.0.1 — as
 * apps/web/test does. With E2E_BASE_URL set, the suite drives that dashboard instead and needs the API
 * it talks to (E2E_API_URL, default http://localhost:8000) and a key with the ingest and cameras:write
 * scopes (E2E_API_KEY): the suite seeds a camera, then ingests into it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: { webUrl: string; apiUrl: string; apiKey: string; external: boolean };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.E2E_BASE_URL;
  if (external) {
    const apiKey = process.env.E2E_API_KEY;
    if (!apiKey)
      throw new Error(
        'E2E_API_KEY: required with E2E_BASE_URL (a key of the API the dashboard uses, with the ingest and cameras:write scopes: it seeds a camera; create one with `npm run apikey:create -w @its/api -- --name e2e --scopes ingest,read,cameras:write`)',
      );
    project.provide('e2e', {
      webUrl: external.replace(/\/$/, ''),
      apiUrl: (process.env.E2E_API_URL ?? 'http://localhost:8000').replace(/\/$/, ''),
      apiKey,
      external: true,
    });
    return async () => {};
  }

  // Imported here so an external run needs neither vite nor the API's dependencies loaded.
  const [{ build }, { startApi }, { freePort }, { buildWebApp }] = await Promise.all([
    import('vite'),
    import('@its/api'),
    import('@its/testkit'),
    import('../../src/app.js'),
  ]);
  const workDir = mkdtempSync(join(tmpdir(), 'its-e2e-'));
  const publicDir = join(workDir, 'public');
  await build({
    configFile: new URL('../../vite.config.ts', import.meta.url).pathname,
    mode: 'production',
    logLevel: 'warn',
    build: { outDir: publicDir, emptyOutDir: true, sourcemap: false },
  });
  const webPort = await freePort();
  const webUrl = `http://127.0.0.1:${webPort}`;
  const api = await startApi({ dataDir: join(workDir, 'data'), env: { CORS_ORIGINS: webUrl } });
  const web = await buildWebApp({
    config: { apiPublicUrl: api.url, version: 'e2e', logLevel: 'warn' },
    publicDir,
  });
  await web.listen({ host: '127.0.0.1', port: webPort });
  const apiKey = (await api.createApiKey('e2e')).key;
  project.provide('e2e', { webUrl, apiUrl: api.url, apiKey, external: false });
  return async () => {
    await web.close();
    await api.close();
    rmSync(workDir, { recursive: true, force: true });
  };
}
