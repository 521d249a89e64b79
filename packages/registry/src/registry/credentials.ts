/**
 * Which credentials to send to a registry, as Docker would pick them, plus our own pair of variables:
 * REGISTRY_USERNAME/REGISTRY_PASSWORD (for DOCKER_REGISTRY only), then ~/.docker/config.json's
 * `credHelpers[host]`, then its `credsStore`, then its `auths`. A credential helper is a program,
 * `docker-credential-<name> get`, that reads the server on stdin and prints {ServerURL, Username, Secret}:
 * planCredentials (pure) says which source applies, the runner (spawnSync, replaceable) asks the helper.
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, Secret } from '@its/core';

export interface Credentials {
  username: string;
  password: Secret;
  /** Where they came from, for messages (never the values). */
  source: string;
}

/** A helper name becomes part of a program name: no path separators, nothing a shell would read. */
const helperName = z
  .string()
  .regex(/^([A-Za-z0-9][A-Za-z0-9._-]*)?$/, 'should be a credential helper name, e.g. pass or secretservice');

const dockerConfigSchema = z.object({
  auths: z
    .record(
      z.string(),
      z.object({
        auth: z.string().optional(),
        username: z.string().optional(),
        password: z.string().optional(),
      }),
    )
    .optional(),
  /** Per registry host: the helper that holds its credentials (`docker-credential-<name>`). */
  credHelpers: z.record(z.string(), helperName).optional(),
  /** The helper for every registry not in credHelpers; `auths` then only lists hosts. */
  credsStore: helperName.optional(),
});
export type DockerConfig = z.infer<typeof dockerConfigSchema>;

/** `https://ghcr.io/v1/` and `ghcr.io` name the same registry in ~/.docker/config.json. */
function normalizeHost(key: string): string {
  return key
    .replace(/^https?:\/\//, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
}

/** $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function dockerConfigPath(env: Record<string, string | undefined>): string {
  return join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
}

export type CredentialPlan =
  | { kind: 'credentials'; credentials: Credentials }
  | {
      kind: 'helper';
      /** `docker-credential-<name>`, found on PATH. */
      program: string;
      /** What the helper reads on stdin: the registry host, as `docker login <host>` stored it. */
      serverUrl: string;
      /** The config entry that named the helper, e.g. `credHelpers["ghcr.io"] in /root/.docker/config.json`. */
      source: string;
    }
  | { kind: 'anonymous' };

/**
 * Chooses the source of credentials for one registry (pure). REGISTRY_USERNAME/REGISTRY_PASSWORD apply
 * only to the registry named by DOCKER_REGISTRY, so a promotion to a second registry never sends them
 * elsewhere. Then Docker's order: credHelpers[host] over credsStore over auths (with a credsStore,
 * Docker ignores inline `auths` secrets, and so do we).
 */
export function planCredentials(input: {
  registry: string;
  env: Record<string, string | undefined>;
  dockerConfig?: DockerConfig | undefined;
}): CredentialPlan {
  const { registry, env } = input;
  const host = normalizeHost(registry);
  const configured = env.DOCKER_REGISTRY ? normalizeHost(env.DOCKER_REGISTRY) : '127.0.0.1:5000';
  if (env.REGISTRY_USERNAME && env.REGISTRY_PASSWORD && host === configured) {
    return {
      kind: 'credentials',
      credentials: {
        username: env.REGISTRY_USERNAME,
        password: new Secret(env.REGISTRY_PASSWORD),
        source: 'REGISTRY_USERNAME/REGISTRY_PASSWORD',
      },
    };
  }
  const config = input.dockerConfig ?? {};
  const file = dockerConfigPath(env);
  const helperKey = Object.keys(config.credHelpers ?? {}).find((k) => normalizeHost(k) === host);
  const helper = helperKey === undefined ? undefined : config.credHelpers![helperKey];
  if (helper) {
    return {
      kind: 'helper',
      program: `docker-credential-${helper}`,
      serverUrl: registry,
      source: `credHelpers["${helperKey}"] in ${file}`,
    };
  }
  if (config.credsStore) {
    return {
      kind: 'helper',
      program: `docker-credential-${config.credsStore}`,
      serverUrl: registry,
      source: `credsStore in ${file}`,
    };
  }
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (normalizeHost(key) !== host) continue;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        return {
          kind: 'credentials',
          credentials: {
            username: decoded.slice(0, colon),
            password: new Secret(decoded.slice(colon + 1)),
            source: `Docker config auths["${key}"]`,
          },
        };
      }
    }
    if (entry.username && entry.password) {
      return {
        kind: 'credentials',
        credentials: {
          username: entry.username,
          password: new Secret(entry.password),
          source: `Docker config auths["${key}"]`,
        },
      };
    }
  }
  return { kind: 'anonymous' };
}

/** What running a helper gave: its exit code (null when it did not run or was killed), output, spawn error. */
export interface CredentialHelperRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** ENOENT: not on PATH; ETIMEDOUT: no answer in time. */
  errorCode?: string | undefined;
}

/** Runs `program ...args` with `input` on stdin, never through a shell. */
export type CredentialHelperRunner = (
  program: string,
  args: string[],
  input: string,
  env: Record<string, string | undefined>,
) => CredentialHelperRun;

/** How long a helper may take; one that prompts for a passphrase on a terminal may need a while. */
const HELPER_TIMEOUT_MS = 60_000;

export const runCredentialHelper: CredentialHelperRunner = (program, args, input, env) => {
  const r = spawnSync(program, args, {
    input,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: HELPER_TIMEOUT_MS,
    maxBuffer: 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const errorCode = (r.error as NodeJS.ErrnoException | undefined)?.code;
  return {
    code: r.status,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    // EPIPE: the helper exited without reading stdin (a failing one often does); its exit code says more.
    errorCode: errorCode === 'EPIPE' ? undefined : errorCode,
  };
};

const helperOutputSchema = z.object({
  ServerURL: z.string().optional(),
  Username: z.string(),
  Secret: z.string(),
});

/**
 * The credentials a helper's run gave (pure). undefined when the helper holds none for this server
 * ("credentials not found", as Docker then goes on anonymously); a ConfigError naming the helper, the
 * config entry and the fix when it is missing, fails, or prints something else. The output is never
 * quoted back on success-shaped runs: it may hold the secret.
 */
export function readHelperAnswer(
  plan: Extract<CredentialPlan, { kind: 'helper' }>,
  run: CredentialHelperRun,
): Credentials | undefined {
  const { program, serverUrl, source } = plan;
  const bypass = `or set REGISTRY_USERNAME and REGISTRY_PASSWORD (used for DOCKER_REGISTRY only)`;
  if (run.errorCode === 'ENOENT') {
    throw new ConfigError(
      `the Docker credential helper ${program} (${source}) is not installed or not on PATH`,
      {
        fix: `install ${program} on PATH, or remove that entry from the Docker config and log in again with \`docker login ${serverUrl}\`, ${bypass}`,
      },
    );
  }
  if (run.errorCode === 'ETIMEDOUT') {
    throw new ConfigError(
      `the Docker credential helper ${program} (${source}) did not answer in ${HELPER_TIMEOUT_MS / 1000} s`,
      {
        fix: `check that \`echo ${serverUrl} | ${program} get\` answers without a prompt (unlock its keyring), ${bypass}`,
      },
    );
  }
  if (run.code !== 0) {
    // Helpers print their errors on stdout (docker-credential-helpers' Serve), some on stderr.
    const said = `${run.stderr}\n${run.stdout}`;
    if (/credentials not found/i.test(said)) return undefined;
    const message = said.trim().split('\n')[0]?.slice(0, 300) ?? '';
    throw new ConfigError(
      `the Docker credential helper ${program} (${source}) failed for ${serverUrl}` +
        `${run.code === null ? '' : ` with exit code ${run.code}`}${run.errorCode ? ` (${run.errorCode})` : ''}${message ? `: ${message}` : ''}`,
      {
        fix: `run \`echo ${serverUrl} | ${program} get\` to see the error, log in again with \`docker login ${serverUrl}\`, ${bypass}`,
      },
    );
  }
  let parsed: z.infer<typeof helperOutputSchema>;
  try {
    parsed = helperOutputSchema.parse(JSON.parse(run.stdout));
  } catch {
    throw new ConfigError(
      `the Docker credential helper ${program} (${source}) printed something other than {"ServerURL","Username","Secret"} for ${serverUrl}`,
      { fix: `check the helper's version and that it implements \`get\`, ${bypass}` },
    );
  }
  if (parsed.Username === '<token>') {
    throw new ConfigError(
      `the Docker credential helper ${program} (${source}) holds an identity token for ${serverUrl}, which this client cannot use`,
      {
        fix: `log in with a username and password or access token (\`docker login ${serverUrl}\`), ${bypass}`,
      },
    );
  }
  if (!parsed.Username && !parsed.Secret) return undefined;
  return { username: parsed.Username, password: new Secret(parsed.Secret), source: `${program} (${source})` };
}

/**
 * Chooses credentials for one registry (planCredentials) and asks the credential helper when one
 * applies; undefined means anonymous. Synchronous, like Docker's own lookup: a helper answers in
 * milliseconds, and callers construct clients synchronously.
 */
export function resolveCredentials(input: {
  registry: string;
  env: Record<string, string | undefined>;
  dockerConfig?: DockerConfig | undefined;
  runHelper?: CredentialHelperRunner;
}): Credentials | undefined {
  const plan = planCredentials(input);
  if (plan.kind === 'credentials') return plan.credentials;
  if (plan.kind === 'anonymous') return undefined;
  const run = (input.runHelper ?? runCredentialHelper)(plan.program, ['get'], plan.serverUrl, input.env);
  return readHelperAnswer(plan, run);
}

/** Reads $DOCKER_CONFIG/config.json or ~/.docker/config.json; absent is fine, malformed is an error. */
export async function readDockerConfig(
  env: Record<string, string | undefined>,
): Promise<DockerConfig | undefined> {
  const path = dockerConfigPath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`${path}: not valid JSON`, {
      fix: 'repair the file or remove it and run `docker login` again',
    });
  }
  const parsed = dockerConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${path}: ${issue.path.join('.')}: ${issue.message}`, {
      fix: 'repair the file or run `docker login` again',
    });
  }
  return parsed.data;
}

/** `Basic base64(user:pass)`; the only place the password is revealed. */
export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password.reveal()}`).toString('base64')}`;
}
