/** Builds a RegistryClient from the environment: DOCKER_REGISTRY / IMAGE_NAME, then credentials. */
import { readDockerConfig, resolveCredentials } from './credentials.js';
import { readRegistrySettings, type RegistrySettings } from './reference.js';
import { RegistryClient, type FetchLike } from './registry-client.js';

export interface OpenedRegistry {
  client: RegistryClient;
  settings: RegistrySettings;
}

export async function openRegistry(
  env: Record<string, string | undefined>,
  options: { registry?: string; fetch?: FetchLike } = {},
): Promise<OpenedRegistry> {
  const settings = readRegistrySettings(env);
  const registry = options.registry ?? settings.registry;
  const credentials = resolveCredentials({ registry, env, dockerConfig: await readDockerConfig(env) });
  const client = new RegistryClient({
    registry,
    credentials,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return { client, settings: { ...settings, registry } };
}
