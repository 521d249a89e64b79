import { z } from 'zod';
import {
  ENVIRONMENT_NAME,
  ENV_VARIABLE,
  HOST_PORT,
  IMAGE_TAG,
  PORT_RANGE,
  REGISTRY_HOST,
  REPOSITORY,
  splitRegistry,
} from '@its/core';
import { PrometheusAnalysisSchema, checkPromPlaceholders } from '../analysis/prometheus.js';

/**
 * The schema of an environment file (deploy/environments/<name>.yml), in one place: every field with
 * its default and why, the canary and watch sections, and the fields that make an environment a stack
 * (accessories, network, secrets, tiers). Shared grammar (environment names, variables, tags, ports)
 * comes from @its/core's patterns. config/environment-config.ts reads and validates files against it;
 * `npm run schema` writes deploy/environments/environment.schema.json from it for editors.
 */

const port = z.number().int().min(PORT_RANGE.min).max(PORT_RANGE.max);
const duration = z.number().int().min(0);
const seconds = z.number().min(0);
const ratio = z.number().min(0).max(1);
const variable = z.string().regex(ENV_VARIABLE, 'an environment variable name (A-Z, 0-9, _)');
const environmentName = z
  .string()
  .regex(ENVIRONMENT_NAME, 'an environment name (lower-case letters, digits, dashes)');
const hostPort = z.string().regex(HOST_PORT, 'expected host:port');
/** Where a router publishes its port: an address or host name, never anything a shell would read. */
const BIND_ADDRESS = /^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9a-fA-F:]+|[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?)$/;
function isRepositoryName(name: string): boolean {
  const { registry, path } = splitRegistry(name);
  return (registry === undefined || REGISTRY_HOST.test(registry)) && REPOSITORY.test(path);
}

// ---- canary analysis and the post-switch watch (strategy.canary, watch) ----------------------------

/** Variables a PromQL query may use; the canary planner fills them in (plan/plan-canary.ts). */
export const PROM_VARIABLES = ['environment', 'version', 'previous_version'] as const;

// Cross-field rules of these sections (steps end at 100 %, weights rise) are checked in the schema so
// their messages carry the field path like every other error.

const SloSchema = z.strictObject({
  /** Absolute limits on the new version's side; unset means not judged. */
  p95Ms: z.number().positive().optional(),
  p99Ms: z.number().positive().optional(),
  maxErrorRate: ratio.optional(),
});

export const AnalysisSchema = z
  .strictObject({
    /** 0.05: the usual false-alarm rate for one comparison. */
    alpha: z.number().gt(0).lt(1).default(0.05),
    /** Requests per side below which nothing is judged (inconclusive). */
    minSamples: z.number().int().min(1).default(50),
    /** Power wanted from the error-rate test: fewer requests than it needs is inconclusive. */
    power: z.number().gt(0).lt(1).default(0.8),
    /** An error-rate increase smaller than this never fails (absolute: 0.01 = 1 percentage point). */
    maxErrorRateIncrease: z.number().gt(0).max(1).default(0.01),
    /** A median latency shift under 5 ms, or under 20 %, never fails however significant. */
    minLatencyEffectMs: z.number().min(0).default(5),
    minLatencyEffectRatio: z.number().min(0).default(0.2),
    /**
     * What the canary is compared with. `fresh` (default): as many replicas of the serving version as
     * the canary has, started beside it from the serving set's image digest, with the same env,
     * command and checks, and given the canary's weight — both sides equally cold, equally loaded and
     * sharing the machine at the same moments (Kayenta's rule). `serving`: the long-running serving
     * replicas themselves (cheaper, but a warm set judged against a cold one on a busy host fails
     * healthy versions). Fresh baseline replicas never outlive the canary.
     */
    baseline: z.enum(['fresh', 'serving']).default('fresh'),
    /**
     * A new replica's first seconds in the router (a cold process: JIT, caches, connections) count for
     * neither side; 5 s covers the test service's and the product's warm-up with room to spare. The
     * first step's pause should be longer, or it is extended until enough samples exist.
     */
    warmupSeconds: z.number().min(0).max(600).default(5),
    /**
     * Latency is compared within windows of this many seconds of accept time (van Elteren's stratified
     * test), so load that comes and goes hits both sides alike; 1 s is short against load swings and
     * long enough to hold samples of both sides at a few requests/s. 0 compares the whole step at once.
     */
    stratumSeconds: z.number().min(0).max(60).default(1),
    slo: SloSchema.prefault({}),
  })
  .prefault({});

const CanaryStepSchema = z.strictObject({
  /** Share of the traffic the new version gets at this step, in percent. */
  weight: z.number().gt(0).max(100),
  /** How long the step lasts before its analysis (and each extension when inconclusive). */
  pauseSeconds: seconds.default(30),
});

export const CanarySchema = z
  .strictObject({
    steps: z
      .array(CanaryStepSchema)
      .min(1)
      .default([
        { weight: 5, pauseSeconds: 30 },
        { weight: 25, pauseSeconds: 30 },
        { weight: 50, pauseSeconds: 30 },
        { weight: 100, pauseSeconds: 0 },
      ])
      .superRefine((steps, ctx) => {
        const last = steps[steps.length - 1];
        if (last && last.weight !== 100)
          ctx.addIssue({
            code: 'custom',
            path: [steps.length - 1, 'weight'],
            message: `the last step must be 100 (it is ${last.weight}): a canary ends fully promoted`,
          });
        steps.forEach((s, i) => {
          if (i > 0 && s.weight <= steps[i - 1]!.weight)
            ctx.addIssue({
              code: 'custom',
              path: [i, 'weight'],
              message: `weights must rise: ${s.weight} follows ${steps[i - 1]!.weight}`,
            });
          if (s.weight < 100 && s.pauseSeconds < 1)
            ctx.addIssue({
              code: 'custom',
              path: [i, 'pauseSeconds'],
              message: 'a step below 100 % needs at least 1 s of traffic to analyse',
            });
        });
      }),
    /** Replicas of the new version during analysis; the rest start at promotion. */
    replicas: z.number().int().min(1).default(1),
    /** Inconclusive analysis holds the step this many more pauses, then fails with that reason. */
    maxExtensions: z.number().int().min(0).default(3),
    analysis: AnalysisSchema,
    /**
     * Optional bounded load through the router during analysis, for environments whose real traffic
     * is too thin to judge; the evidence says the samples were synthetic.
     */
    syntheticTraffic: z
      .strictObject({
        rps: z.number().gt(0).max(1000),
        path: z.string().startsWith('/').default('/'),
      })
      .optional(),
    /** Optional PromQL checks run beside the built-in comparison (Argo Rollouts' AnalysisTemplate). */
    prometheus: PrometheusAnalysisSchema.superRefine((p, ctx) => {
      // A misspelt {{placeholder}} is caught here, not in the middle of a canary step.
      for (const problem of checkPromPlaceholders(p.queries, PROM_VARIABLES)) {
        const at = problem.indexOf(': ');
        ctx.addIssue({
          code: 'custom',
          path: problem.slice(0, at).split('.'),
          message: problem.slice(at + 2),
        });
      }
    }).optional(),
  })
  .prefault({});

export const WatchSchema = z
  .strictObject({
    /** How long health checks and SLOs keep running after traffic moved; 0 turns the watch off. */
    seconds: seconds.default(60),
    /** Between two rounds of checks. */
    intervalMs: z.number().int().min(100).default(2000),
    /** SLOs are judged over this trailing window of router traffic. */
    windowSeconds: z.number().gt(0).default(10),
    /** Fewer requests than this in the window: the SLOs are not judged that round (health checks still are). */
    minSamples: z.number().int().min(1).default(20),
    /** Consecutive failed health rounds that roll back (1 = the first). */
    failAfter: z.number().int().min(1).default(2),
    slo: SloSchema.prefault({ maxErrorRate: 0.05 }),
  })
  .prefault({});

export type CanaryConfig = z.output<typeof CanarySchema>;
export type WatchConfig = z.output<typeof WatchSchema>;
export type AnalysisConfig = z.output<typeof AnalysisSchema>;

// ---- stacks: accessories, network, secrets, tiers -------------------------------------------------

/*
 * The environment-file fields that turn one environment into a stack: accessories (long-lived
 * servers such as PostgreSQL and Redis), a shared network, secrets kept outside the repository, and
 * the tiers deployed after the environment itself.
 */

export const AccessorySchema = z.strictObject({
  /** A local image (built by scripts/ci-containers.sh or itsctl build); accessories are never pulled. */
  image: z.string().min(1),
  /** The port it listens on inside the network: what `publish` maps and what readers connect to. */
  port,
  /** Arguments given to the image's entrypoint; unset keeps the image's CMD. */
  command: z.array(z.string()).optional(),
  /** Literal environment; values may name secrets as ${NAME} (see `secrets`). */
  env: z.record(z.string(), z.string()).default({}),
  /**
   * Container path of its data: a named volume `<app>-<environment>-<name>` is mounted there and kept
   * across deploys and teardowns (only `itsctl teardown --volumes` removes it). Unset: no volume.
   */
  volume: z.string().startsWith('/').optional(),
  /** Host port published on 127.0.0.1 only (for a local psql or redis-cli); unset: not published. */
  publish: port.optional(),
  /** 60 s: PostgreSQL's first start initialises a cluster, slower than every later start. */
  healthTimeoutMs: z.number().int().min(0).default(60_000),
});
export type AccessoryConfig = z.output<typeof AccessorySchema>;

/** Accessory names become DNS aliases on the network (`postgres`, `redis`) and container names. */
export const AccessoriesSchema = z
  .record(z.string(), AccessorySchema)
  .superRefine(
    (accessories, ctx) => {
      // Checked here rather than as the record's key schema, whose message would not name the key.
      for (const name of Object.keys(accessories))
        if (!ENVIRONMENT_NAME.test(name))
          ctx.addIssue({ code: 'custom', path: [name], message: 'lower-case letters, digits and dashes' });
      // Also when an accessory's fields are wrong: every error at once.
    },
    { when: () => true },
  )
  .default({});

export const SecretsSchema = z
  .strictObject({
    /**
     * Secrets generated once (32 random bytes, base64url) into the secrets file, mode 600, unless the
     * process environment or an env file sets them. Never in the repository; redacted in plans.
     */
    generate: z.array(variable).default([]),
    /**
     * The environment whose state directory keeps the secrets file (`<state>/secrets.env`). Default:
     * this environment. Tiers of a stack name the stack's first environment, so they share its secrets.
     */
    from: environmentName.optional(),
  })
  .prefault({});

export const ApiKeySchema = z.strictObject({
  /** The secret that holds the key; tiers read it as ${NAME}. */
  secret: variable,
  /** The key's name in the API (shown in its key list). */
  name: z.string().min(1).max(100),
  /** The secret holding the API's admin token (Authorization: Bearer). */
  adminTokenSecret: variable.default('ADMIN_TOKEN'),
  /** The product API's admin endpoint (POST {name} → 201 {key}). */
  createPath: z.string().startsWith('/').default('/api/v1/admin/api-keys'),
  /** Answers 204 to a valid key, 401 otherwise: an existing key is reused while it is accepted. */
  checkPath: z.string().startsWith('/').default('/api/v1/auth/check'),
  /**
   * What the key may do, in the API's words (ITS Camera AI: ingest, read, cameras:write). Sent as
   * `scopes` when creating the key and as `?scopes=a,b` when checking a stored one, so a key kept from
   * before that lacks one (403) is replaced. Default: none named, the API's own default applies and any
   * valid key is kept (services without scopes).
   */
  scopes: z
    .array(z.string().regex(/^[a-z][a-z0-9:._-]*$/, 'a scope name such as ingest or cameras:write'))
    .default([]),
});
export type ApiKeyConfig = z.output<typeof ApiKeySchema>;

export const StackSchema = z
  .strictObject({
    /**
     * Environments deployed after this one, in order, with the same version (one file each, e.g.
     * development-web, development-vision). `itsctl status` and `teardown` of this environment cover them.
     */
    tiers: z.array(environmentName).min(1),
    /**
     * API keys made sure of after this environment (the API) is deployed and before the tiers: created
     * through its admin endpoint on the router's URL, kept in the secrets file.
     */
    apiKeys: z.array(ApiKeySchema).default([]),
  })
  .optional();
export type StackConfig = z.output<typeof StackSchema>;

/** Docker network names: the engine's own grammar. */
export const NetworkSchema = z
  .string()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/, 'letters, digits, ".", "-" and "_"')
  .optional();

interface StackFields {
  name: string;
  app: string;
  stack?: StackConfig;
  secrets: z.output<typeof SecretsSchema>;
  router: { port: number };
  accessories: Record<string, AccessoryConfig>;
}

/** Cross-field errors (field path first), added to parseEnvironment's semantic checks. */
export function stackConfigErrors(config: StackFields, file: string): string[] {
  const errors: string[] = [];
  config.stack?.tiers.forEach((tier, i) => {
    if (tier === config.name) errors.push(`${file}: stack.tiers.${i}: "${tier}" is this environment itself`);
  });
  const tiers = config.stack?.tiers ?? [];
  tiers.forEach((tier, i) => {
    if (tiers.indexOf(tier) !== i) errors.push(`${file}: stack.tiers.${i}: "${tier}" is listed twice`);
  });
  const keys = config.stack?.apiKeys ?? [];
  keys.forEach((k, i) => {
    if (config.secrets.generate.includes(k.secret))
      errors.push(
        `${file}: stack.apiKeys.${i}.secret: ${k.secret} is also in secrets.generate (an API key is created by the API, not generated)`,
      );
  });
  for (const [name, a] of Object.entries(config.accessories))
    if (a.publish === config.router.port)
      errors.push(`${file}: accessories.${name}.publish: ${a.publish} is the router's port`);
  return errors;
}

// ---- the environment file -------------------------------------------------------------------------

export const STRATEGIES = ['rolling', 'blue-green', 'canary'] as const;
export type Strategy = (typeof STRATEGIES)[number];

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
  z.strictObject({ name: z.string().min(1), tcp: hostPort }),
]);

export const EnvironmentSchema = z.strictObject({
  /** The application name: container names, labels and the router backend derive from it. */
  app: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  image: z.strictObject({
    /** Repository without tag, e.g. its-camera-ai or 127.0.0.1:5000/its-camera-ai/development. */
    repository: z
      .string()
      .min(1)
      .refine(
        isRepositoryName,
        'a repository without tag: [host[:port]/]path, lower-case (e.g. its-camera-ai)',
      ),
    /**
     * Where versions are looked up: `local` lists the engine's own images (one machine, no registry);
     * `registry` lists the registry's tags and pulls. Default local: development works out of the box.
     */
    source: z.enum(['local', 'registry']).default('local'),
    /** Version deployed when -v is not given. */
    defaultVersion: z.string().regex(IMAGE_TAG, 'an image tag (letters, digits, _ . -)').default('latest'),
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
    bind: z
      .string()
      .regex(BIND_ADDRESS, 'an IPv4 or IPv6 address or a host name (e.g. 127.0.0.1 or ::1)')
      .default('127.0.0.1'),
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
       * stop-first: the old one stops first — for a singleton that must never run twice at once and has
       * nothing to arbitrate between two copies (the vision worker does not: camera leases do); rolling only.
       */
      order: z.enum(['start-first', 'stop-first']).default('start-first'),
      /** Replicas replaced per rolling step; 1 keeps the most capacity while replacing. */
      batchSize: z.number().int().min(1).default(1),
      /** Blue stays running this long after a switch so rollback is a traffic flip; 0 retires at once. */
      keepPreviousSeconds: duration.default(3600),
      /** Weight steps, analysis thresholds and optional synthetic traffic / PromQL (below). */
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
          /**
           * Off unless the file turns it on: the engine deploys any HTTP service, and one without a
           * database (a dashboard, a worker) has no readiness entry to find, so an on-by-default check
           * failed its first deploy. Not "auto" (run it when the entry is there): a service whose
           * readiness report lost its database entry would then pass unjudged. A file that wants the
           * check says `enabled: true` (the product's API does: deploy/environments/*.yml).
           */
          enabled: z.boolean().default(false),
          /** The readiness endpoint; its body names a database entry with status "up". */
          readinessPath: z.string().startsWith('/').default('/health/ready'),
          /** Key of the database entry in the readiness body (checks.<key>.status). */
          key: z.string().default('database'),
          /** Direct probe of the database server (host:port, TCP connect) from the deploying machine. */
          tcp: hostPort.optional(),
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
  /** Long-lived servers (PostgreSQL, Redis) started before replicas, never replaced by a deploy (below). */
  accessories: AccessoriesSchema,
  /** Secrets generated once into the state directory, never in the repository (below). */
  secrets: SecretsSchema,
  /** Environments deployed after this one with the same version: the whole system (below). */
  stack: StackSchema,
  /** Where the store (history, audit, locks) lives; relative to the repository root. */
  stateDir: z.string().optional(),
  /** Default lock lifetime: a holder that stops refreshing for this long is considered gone. */
  lockTtlSeconds: duration.default(1800),
});

export type EnvironmentConfig = z.output<typeof EnvironmentSchema> & { name: string };
