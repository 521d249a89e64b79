/**
 * Starts a real API in-process on a loopback port — for other workspaces' tests (the dashboard's page
 * test) and the benchmark. Uses the embedded store under `dataDir` unless `databaseUrl` is given.
 */
import { API_KEY_SCOPES, type ApiKeyCreated, type ApiKeyScope } from '@its/contracts';
import type { FastifyInstance } from 'fastify';
import { issueApiKey } from './auth/api-key-store.js';
import { loadConfig } from './config.js';
import type { Detector } from './context.js';
import { createRuntime } from './runtime.js';
import type { Store } from './store/create-store.js';

export interface StartApiOptions {
  /** Directory of the embedded store (created if missing); ignored when databaseUrl is set. */
  dataDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  databaseUrl?: string;
  redisUrl?: string;
  /** Default "warn": tests stay quiet. */
  logLevel?: string;
  detector?: Detector;
  /** Any other environment variable of loadConfig (e.g. CORS_ORIGINS, ADMIN_TOKEN). */
  env?: Record<string, string | undefined>;
}

export interface RunningApi {
  /** e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  port: number;
  app: FastifyInstance;
  store: Store;
  /**
   * Creates an API key; the returned `key` is the secret. Default: every scope, since tests set up
   * cameras with it; pass `['ingest', 'read']` to act as the vision worker does.
   */
  createApiKey(name: string, scopes?: readonly ApiKeyScope[]): Promise<ApiKeyCreated>;
  close(): Promise<void>;
}

export async function startApi(opts: StartApiOptions): Promise<RunningApi> {
  const config = loadConfig({
    ...opts.env,
    DATA_DIR: opts.dataDir,
    PORT: String(opts.port ?? 0),
    HOST: opts.host ?? '127.0.0.1',
    DATABASE_URL: opts.databaseUrl,
    REDIS_URL: opts.redisUrl,
    LOG_LEVEL: opts.logLevel ?? opts.env?.LOG_LEVEL ?? 'warn',
  });
  const runtime = await createRuntime(config, { detector: opts.detector });
  try {
    await runtime.app.listen({ port: config.PORT, host: config.HOST });
  } catch (err) {
    await runtime.close();
    throw err;
  }
  const addr = runtime.app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.PORT;
  const host = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
  return {
    url: `http://${host}:${port}`,
    port,
    app: runtime.app,
    store: runtime.store,
    createApiKey: (name, scopes = API_KEY_SCOPES) => issueApiKey(runtime.store.db, { name, scopes }),
    close: () => runtime.close(),
  };
}
