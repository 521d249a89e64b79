/**
 * Configuration from the environment, parsed once with zod into a frozen object. A bad variable stops
 * start-up with a message that names it (`PORT: must be an integer between 0 and 65535`).
 */
import { readFileSync } from 'node:fs';
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
  return Object.freeze({
    ...cfg,
    CORS_ORIGINS: Object.freeze([...cfg.CORS_ORIGINS]),
    APP_VERSION: cfg.APP_VERSION ?? readPackageVersion(),
  });
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
