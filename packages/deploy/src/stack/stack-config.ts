import { z } from 'zod';

/**
 * The environment-file fields that turn one environment into a stack: accessories (long-lived
 * servers such as PostgreSQL and Redis), a shared network, secrets kept outside the repository, and
 * the tiers deployed after the environment itself. Imported by config/environment-config.ts; every
 * field says its default and why.
 */

const port = z.number().int().min(1).max(65535);
const ENV_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const VARIABLE = /^[A-Z_][A-Z0-9_]*$/;
const variable = z.string().regex(VARIABLE, 'an environment variable name (A-Z, 0-9, _)');
const environmentName = z
  .string()
  .regex(ENV_NAME, 'an environment name (lower-case letters, digits, dashes)');

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
        if (!/^[a-z][a-z0-9-]{0,30}$/.test(name))
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
