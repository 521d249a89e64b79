/**
 * Configuration from the environment, parsed once with zod into a frozen object. A bad variable stops
 * start-up with a message that names it (`PORT: must be an integer between 0 and 65535`).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { redactUrl as redactUrlSecrets } from '@its/core';
import { z } from 'zod';
import { ConfigError } from './errors.js';

function readPackageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? '0.0.0';
}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'use true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const url = (protocols: string[]) =>
  z
    .string()
    .min(1)
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `use a ${protocols.map((p) => `${p}//`).join(' or ')} URL`,
    );

const int = (min: number, max: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int(`must be an integer between ${min} and ${max}`)
    .min(min, `must be an integer between ${min} and ${max}`)
    .max(max, `must be an integer between ${min} and ${max}`);

export const ConfigSchema = z.object({
  /** 8000: the port the design fixes for the API. */
  PORT: int(0, 65_535).default(8000),
  /** Loopback by default so a developer's API is never exposed by accident; containers set 0.0.0.0. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Unset: the embedded store (PGlite under DATA_DIR), so the service runs with no server at all. */
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  /** Unset: live events stay in this process. Set it when more than one API instance serves the dashboard. */
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  /** Where the embedded store keeps its files. */
  DATA_DIR: z.string().min(1).default('./data'),
  /** false: dashboards read without a key; set true when the API is reachable by untrusted clients. */
  API_KEYS_READ_REQUIRED: bool.default(false),
  /** Unset: the admin API is disabled (create keys with the CLI instead). */
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** 5 MiB: a full 5000-event batch is about 1.5 MB, a 1080p JPEG well under 1 MB. */
  BODY_LIMIT_BYTES: int(1024, 1024 * 1024 * 1024).default(5 * 1024 * 1024),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** 30 s: how long start-up waits for an unreachable database (started alongside the API) before failing. */
  DB_STARTUP_WAIT_MS: int(0, 600_000).default(30_000),
  /** 10 s: shorter than the usual 30 s orchestrator kill timeout, long enough for an ingestion batch. */
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
  /** The dashboard's origins (port 3000). Comma-separated; `*` allows any origin. */
  CORS_ORIGINS: z
    .string()
    .default('http://localhost:3000,http://127.0.0.1:3000')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /** Reported by /health, /health/ready and the metrics' version label. */
  APP_VERSION: z.string().min(1).optional(),
  /**
   * 5 s: read queries (aggregates, latest counts, totals) are cached this long; every write
   * invalidates at once. 0 turns the cache off. In Redis when REDIS_URL is set, in-process otherwise.
   */
  CACHE_TTL_MS: int(0, 3_600_000).default(5000),
  /** 15 s: below the 30–60 s idle timeouts of common proxies, so SSE connections stay open. */
  SSE_HEARTBEAT_MS: int(100, 300_000).default(15_000),
  /**
   * 200: live-stream (SSE) connections served at once; one more is a 503 with Retry-After. A dashboard
   * tab holds one; each costs a socket and up to SSE_CLIENT_BUFFER_BYTES, so the cap bounds both.
   */
  SSE_MAX_CLIENTS: int(1, 100_000).default(200),
  /**
   * 4 MiB: the most a live-stream client may have waiting (queued events plus the socket's buffer);
   * above it the client is dropped (it reconnects with Last-Event-ID). Above the live events of the
   * largest batch (5 000 events ≈ 1.5–2.5 MB), so a client that reads is never dropped for a big batch;
   * queued events are shared between clients, only the socket's buffer (≤ 2 × 64 KiB) is a copy.
   */
  SSE_CLIENT_BUFFER_BYTES: int(64 * 1024, 1024 * 1024 * 1024).default(4 * 1024 * 1024),
  /**
   * 1000 events: how many recent live events are kept for clients that reconnect with Last-Event-ID
   * (a dashboard that blinks); minutes of a busy site's crossings. 0 turns the replay off.
   */
  SSE_REPLAY_MAX_EVENTS: int(0, 1_000_000).default(1000),
  /** 5 minutes: replayed events are at most this old; a client away longer reloads its view anyway. */
  SSE_REPLAY_MAX_AGE_MS: int(0, 86_400_000).default(300_000),
  /**
   * false: a camera's stream URL must be rtsp, rtsps, http or https. true also accepts file:// (tests,
   * demos with a video file): the worker then reads that path on its own machine, whatever it is.
   */
  ALLOW_FILE_STREAM_URLS: bool.default(false),
  /**
   * 20 000: the most rows (buckets × groups) one aggregate query may return; above it the request is a
   * 400 before any query runs. The dashboard's largest answer is 25 hourly buckets × every camera (the
   * overview: 12 500 for the 500 cameras it lists) or 61 minutes × lanes × classes of one camera (2 928
   * for 8 lanes); 20 000 rows cost the API ≈ 0.5 s of CPU on our 2-core machine.
   */
  AGGREGATE_MAX_ROWS: int(1, 10_000_000).default(20_000),
  /**
   * 15 s: a worker's camera leases last this long after its last heartbeat (it heartbeats every third of
   * it); a dead worker's cameras move to live workers after it.
   */
  LEASE_TTL_MS: int(3_000, 600_000).default(15_000),
  /**
   * Days of raw minutes (1m and 15m buckets, edge hours) kept; older hours answer from the hourly
   * rollup. Default 0: kept forever — deleting counts is the operator's decision, and a minute older
   * than the horizon is accepted but not kept. A fleet should set it (35: a month of minute detail and
   * a few days to look back over it); at 1 000 cameras a day of minutes is ≈ 6 M rows a table.
   */
  RETENTION_RAW_DAYS: int(0, 36_500).default(0),
  /** Days of hourly rollups kept (730: two years, for year-on-year comparison). Default 0: forever. */
  RETENTION_ROLLUP_DAYS: int(0, 36_500).default(0),
  /**
   * 1 hour: how often retention runs after the run at start; the horizons move a day at a time, so more
   * often only catches up sooner after downtime. 0 runs it at start only.
   */
  RETENTION_INTERVAL_MS: int(0, 86_400_000).default(3_600_000),
  /**
   * 1200 a minute per client address for callers without a valid API key (the dashboard: a tab sends at
   * most ≈ 70 a minute, so about 17 busy tabs behind one address); 0 turns the limit off.
   */
  RATE_LIMIT_ANONYMOUS_PER_MIN: int(0, 100_000_000).default(1200),
  /**
   * 120 000 a minute per API key (or the ADMIN_TOKEN): the vision worker sends one event batch per camera
   * a second (6 000 a minute for 100 cameras) and replays a backlog one batch per round trip; 0 turns the
   * limit off.
   */
  RATE_LIMIT_PER_KEY_PER_MIN: int(0, 100_000_000).default(120_000),
  /**
   * Unset (false): the client address is the socket's, which X-Forwarded-For cannot spoof. Behind a
   * reverse proxy or load balancer (the deployments' HAProxy router) every client would then share the
   * proxy's address and its rate-limit bucket: set `true` (trust every hop), the number of proxies in
   * front, or their addresses/CIDRs comma-separated (Fastify's trustProxy).
   */
  TRUST_PROXY: z
    .string()
    .default('false')
    .refine(
      (v) =>
        /^(true|false|\d{1,2})$/.test(v) ||
        v.split(',').every((part) => {
          const [address, bits, ...rest] = part.trim().split('/');
          return (
            rest.length === 0 && isIP(address ?? '') !== 0 && (bits === undefined || /^\d{1,3}$/.test(bits))
          );
        }),
      'use true, false, a number of proxies, or comma-separated addresses or CIDRs (10.0.0.0/8,127.0.0.1)',
    )
    .transform((v): boolean | number | string =>
      v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v,
    ),
});

export type Config = Readonly<Omit<z.output<typeof ConfigSchema>, 'APP_VERSION' | 'CORS_ORIGINS'>> & {
  readonly APP_VERSION: string;
  readonly CORS_ORIGINS: readonly string[];
};

/** Parses `env` (default `process.env`); throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset" (a common result of `FOO=` in .env files and compose).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = ConfigSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const cfg = parsed.data;
  const retention = checkRetention(cfg);
  if (retention) throw new ConfigError([retention]);
  return Object.freeze({
    ...cfg,
    CORS_ORIGINS: Object.freeze([...cfg.CORS_ORIGINS]),
    APP_VERSION: cfg.APP_VERSION ?? readPackageVersion(),
  });
}

/** Rollups are made from minutes, so they cannot be kept for less time than the minutes. */
function checkRetention(cfg: {
  RETENTION_RAW_DAYS: number;
  RETENTION_ROLLUP_DAYS: number;
}): string | undefined {
  const raw = cfg.RETENTION_RAW_DAYS;
  const rollup = cfg.RETENTION_ROLLUP_DAYS;
  if (rollup === 0 || (raw !== 0 && raw <= rollup)) return undefined;
  return raw === 0
    ? `RETENTION_ROLLUP_DAYS: ${rollup} would delete hourly rollups while RETENTION_RAW_DAYS=0 keeps their minutes forever; set RETENTION_ROLLUP_DAYS=0 too, or RETENTION_RAW_DAYS to at most ${rollup}`
    : `RETENTION_ROLLUP_DAYS: ${rollup} is shorter than RETENTION_RAW_DAYS (${raw}); set it to at least ${raw}, or 0 to keep rollups forever`;
}

/**
 * `postgres://user:secret@host/db` → `postgres://***@host/db`, for logs (@its/core decides what is
 * secret, and masks whole an authority it cannot read); an unset variable stays unset.
 */
export function redactUrl(value: string | undefined): string | undefined {
  return value ? redactUrlSecrets(value) : value;
}

/** The config as it may be logged: no secrets. */
export function describeConfig(cfg: Config): Record<string, unknown> {
  return {
    ...cfg,
    DATABASE_URL: redactUrl(cfg.DATABASE_URL),
    REDIS_URL: redactUrl(cfg.REDIS_URL),
    ADMIN_TOKEN: cfg.ADMIN_TOKEN ? '***' : undefined,
  };
}
