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
});
export type DockerConfig = z.infer<typeof dockerConfigSchema>;

/** `https://ghcr.io/v1/` and `ghcr.io` name the same registry in ~/.docker/config.json. */
function normalizeHost(key: string): string {
  return key
    .replace(/^https?:\/\//, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
}

/**
 * Chooses credentials for one registry. REGISTRY_USERNAME/REGISTRY_PASSWORD apply only to the
 * registry named by DOCKER_REGISTRY, so a promotion to a second registry never sends them elsewhere;
 * otherwise the `auths` entry of Docker's config for that host; otherwise anonymous (undefined).
 */
export function resolveCredentials(input: {
  registry: string;
  env: Record<string, string | undefined>;
  dockerConfig?: DockerConfig | undefined;
}): Credentials | undefined {
  const { registry, env } = input;
  const configured = env.DOCKER_REGISTRY ? normalizeHost(env.DOCKER_REGISTRY) : '127.0.0.1:5000';
  if (env.REGISTRY_USERNAME && env.REGISTRY_PASSWORD && normalizeHost(registry) === configured) {
    return {
      username: env.REGISTRY_USERNAME,
      password: new Secret(env.REGISTRY_PASSWORD),
      source: 'REGISTRY_USERNAME/REGISTRY_PASSWORD',
    };
  }
  const auths = input.dockerConfig?.auths ?? {};
  for (const [key, entry] of Object.entries(auths)) {
    if (normalizeHost(key) !== normalizeHost(registry)) continue;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        return {
          username: decoded.slice(0, colon),
          password: new Secret(decoded.slice(colon + 1)),
          source: `Docker config auths["${key}"]`,
        };
      }
    }
    if (entry.username && entry.password) {
      return {
        username: entry.username,
        password: new Secret(entry.password),
        source: `Docker config auths["${key}"]`,
      };
    }
  }
  return undefined;
}

/** Reads $DOCKER_CONFIG/config.json or ~/.docker/config.json; absent is fine, malformed is an error. */
export async function readDockerConfig(
  env: Record<string, string | undefined>,
): Promise<DockerConfig | undefined> {
  const path = join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
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
