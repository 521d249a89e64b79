import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError, UsageError } from '@its/core';
import { CanarySchema, WatchSchema } from './canary-config.js';
import {
  AccessoriesSchema,
  NetworkSchema,
  SecretsSchema,
  StackSchema,
  stackConfigErrors,
} from '../stack/stack-config.js';

/**
 * An environment file (deploy/environments/<name>.yml), validated once at the edge. Every field says
 * its default and why; messages start with the field path; every error is reported at once.
 */

export const STRATEGIES = ['rolling', 'blue-green', 'canary'] as const;
export type Strategy = (typeof STRATEGIES)[number];

const port = z.number().int().min(1).max(65535);
const duration = z.number().int().min(0);

const HttpCheckSchema = z.strictObject({
  /** Path probed on each replica's own published port (not through the router: nothing routes yet). */
  path: z.string().startsWith('/').default('/health'),
  /** 200: the product's /health contract. */
  expectStatus: z.number().int().min(100).max(599).default(200),
  /** A substring the body must contain; unset means any body. */
  expectBody: z.string().optional(),
  /** 2 s per probe: a health endpoint slower than that is itself a failure. */
  timeoutMs: duration.default(2000),
  /** 60 × 500 ms = 30 s for a replica to come up: the product's start period is 20 s. */
  retries: z.number().int().min(1).default(60),
  intervalMs: duration.default(500),
});

const ExternalSchema = z.union([
  z.strictObject({ name: z.string().min(1), url: z.url() }),
  z.strictObject({ name: z.string().min(1), tcp: z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port') }),
]);

export const EnvironmentSchema = z.strictObject({
  /** The application name: container names, labels and the router backend derive from it. */
  app: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  image: z.strictObject({
    /** Repository without tag, e.g. its-camera-ai or 127.0.0.1:5000/its-camera-ai/development. */
    repository: z.string().min(1),
    /**
     * Where versions are looked up: `local` lists the engine's own images (one machine, no registry);
     * `registry` lists the registry's tags and pulls. Default local: development works out of the box.
     */
    source: z.enum(['local', 'registry']).default('local'),
    /** Version deployed when -v is not given. */
    defaultVersion: z.string().default('latest'),
    /** Arguments appended to the image's entrypoint (the product image takes a role: api|web|vision). */
    command: z.array(z.string()).default([]),
    /** Refuse images without a valid signature (supply-chain/signing.ts); keys are PEM files. */
    requireSignature: z.boolean().default(false),
    publicKeys: z.array(z.string()).default([]),
  }),
  /** 2 replicas: the fewest that lets one stop while another serves. */
  replicas: z.number().int().min(1).max(50).default(2),
  /** Port the application listens on inside its container. */
  containerPort: port.default(8000),
  /** Required: at least the environment's public port. */
  router: z.strictObject({
    /** 127.0.0.1 by default: nothing here has auth, and the machines forbid other addresses. */
    bind: z.string().default('127.0.0.1'),
    /** The environment's public port: required, no default (two environments must not share one). */
    port,
    image: z.string().default('its-haproxy:latest'),
    /** How long draining waits for in-flight requests before stopping a replica anyway. */
    drainTimeoutMs: duration.default(30_000),
  }),
  strategy: z
    .strictObject({
      default: z.enum(STRATEGIES).default('rolling'),
      /**
       * start-first (default): a new replica serves before an old one stops — no capacity lost.
       * stop-first: the old one stops first — for replicas that must never run twice at once (a worker
       * owning every camera would count each vehicle twice); rolling only.
       */
      order: z.enum(['start-first', 'stop-first']).default('start-first'),
      /** Replicas replaced per rolling step; 1 keeps the most capacity while replacing. */
      batchSize: z.number().int().min(1).default(1),
      /** Blue stays running this long after a switch so rollback is a traffic flip; 0 retires at once. */
      keepPreviousSeconds: duration.default(3600),
      /** Weight steps, analysis thresholds and optional synthetic traffic / PromQL (config/canary-config.ts). */
      canary: CanarySchema,
    })
    .prefault({}),
  /** Health checks and SLOs after traffic moved, for every strategy; a failure rolls back. */
  watch: WatchSchema,
  /** Files of KEY=VALUE lines passed to every replica, relative to the repository root. */
  envFiles: z.array(z.string()).default([]),
  /** Literal environment for replicas (values are redacted in plans when the key looks secret). */
  env: z.record(z.string(), z.string()).default({}),
  healthChecks: z
    .strictObject({
      /** The engine's own health status (the image's HEALTHCHECK); skipped when the image has none. */
      container: z
        .strictObject({ enabled: z.boolean().default(true), timeoutMs: duration.default(60_000) })
        .prefault({}),
      api: HttpCheckSchema.prefault({}),
      database: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** The readiness endpoint; its body names a database entry with status "up". */
          readinessPath: z.string().startsWith('/').default('/health/ready'),
          /** Key of the database entry in the readiness body (checks.<key>.status). */
          key: z.string().default('database'),
          /** Direct probe of the database server (host:port, TCP connect) from the deploying machine. */
          tcp: z
            .string()
            .regex(/^[^:\s]+:\d+$/, 'expected host:port')
            .optional(),
        })
        .prefault({}),
      external: z.array(ExternalSchema).default([]),
      performance: z
        .strictObject({
          enabled: z.boolean().default(true),
          path: z.string().startsWith('/').default('/health'),
          /** 20 probes: enough for a stable p95 in under a second on a healthy service. */
          probes: z.number().int().min(1).default(20),
          /** 200 ms: the founding document's API response-time budget. */
          p95Ms: duration.default(200),
        })
        .prefault({}),
    })
    .prefault({}),
  migrations: z
    .strictObject({
      /** Arguments given to the new image in a one-off container before any replica starts. */
      command: z.array(z.string()).min(1),
      timeoutMs: duration.default(300_000),
    })
    .optional(),
  /** The Docker network; default `<app>-<environment>`. Tiers of one stack name one network to reach each other. */
  network: NetworkSchema,
  /** Long-lived servers (PostgreSQL, Redis) started before replicas, never replaced by a deploy (stack/stack-config.ts). */
  accessories: AccessoriesSchema,
  /** Secrets generated once into the state directory, never in the repository (stack/stack-config.ts). */
  secrets: SecretsSchema,
  /** Environments deployed after this one with the same version: the whole system (stack/stack-config.ts). */
  stack: StackSchema,
  /** Where the store (history, audit, locks) lives; relative to the repository root. */
  stateDir: z.string().optional(),
  /** Default lock lifetime: a holder that stops refreshing for this long is considered gone. */
  lockTtlSeconds: duration.default(1800),
});

export type EnvironmentConfig = z.output<typeof EnvironmentSchema> & { name: string };

export interface ParsedEnvironment {
  config: EnvironmentConfig | undefined;
  errors: string[];
}

/** Parses and validates one environment file's text; all YAML and schema errors at once. */
export function parseEnvironment(text: string, name: string, file: string): ParsedEnvironment {
  const doc = parseDocument(text, { prettyErrors: false });
  const errors = doc.errors.map((e) => `${file}: ${e.message.split('\n')[0]}`);
  if (errors.length > 0) return { config: undefined, errors };
  const parsed = EnvironmentSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    return {
      config: undefined,
      errors: parsed.error.issues.map((i) => `${file}: ${i.path.join('.') || '(root)'}: ${i.message}`),
    };
  }
  const config = { ...parsed.data, name };
  const semantic: string[] = [];
  if (config.image.requireSignature && config.image.publicKeys.length === 0)
    semantic.push(`${file}: image.publicKeys: required when image.requireSignature is true`);
  if (config.strategy.batchSize > config.replicas)
    semantic.push(
      `${file}: strategy.batchSize: ${config.strategy.batchSize} is more than replicas (${config.replicas})`,
    );
  if (config.strategy.order === 'stop-first' && config.strategy.default !== 'rolling')
    semantic.push(
      `${file}: strategy.order: stop-first works with rolling only (${config.strategy.default} runs both versions at once)`,
    );
  if (config.strategy.canary.replicas > config.replicas)
    semantic.push(
      `${file}: strategy.canary.replicas: ${config.strategy.canary.replicas} is more than replicas (${config.replicas})`,
    );
  semantic.push(...stackConfigErrors(config, file));
  if (semantic.length > 0) return { config: undefined, errors: semantic };
  return { config, errors: [] };
}

export const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,30}$/;

/** The environments that exist: one file each under dir. */
export async function listEnvironments(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir))
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => f.replace(/\.ya?ml$/, ''))
      .sort();
  } catch {
    return [];
  }
}

/** Reads deploy/environments/<name>.yml; unknown names list what exists. */
export async function loadEnvironment(dir: string, name: string): Promise<EnvironmentConfig> {
  const known = await listEnvironments(dir);
  if (!ENVIRONMENT_NAME.test(name) || !known.includes(name))
    throw new UsageError(`unknown environment "${name}"`, {
      fix: known.length > 0 ? `use one of: ${known.join(', ')}` : `create ${join(dir, `${name}.yml`)}`,
    });
  const file = join(dir, `${name}.yml`);
  const parsed = parseEnvironment(await readFile(file, 'utf8'), name, file);
  if (!parsed.config)
    throw new ConfigError(`${parsed.errors.length} error(s) in ${file}:\n  ${parsed.errors.join('\n  ')}`, {
      fix: 'correct the fields named above (see packages/deploy/docs/deploy.md for each field and default)',
    });
  return parsed.config;
}

/** Parses KEY=VALUE env files (comments and blank lines ignored; quotes around values stripped). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line
      .slice(0, eq)
      .replace(/^export\s+/, '')
      .trim();
    let value = line.slice(eq + 1).trim();
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    out[key] = value;
  }
  return out;
}

const SECRET_KEY = /SECRET|PASSWORD|TOKEN|KEY|DSN|DATABASE_URL|REDIS_URL|WEBHOOK/i;

/** Values printed in plans and logs: secrets replaced by [REDACTED]. */
export function redactEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[REDACTED]' : v]));
}

/** Version strings become image tags and labels: a strict tag grammar, never a shell string. */
export const VERSION_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
