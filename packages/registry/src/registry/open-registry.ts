/** Builds a RegistryClient from the environment: DOCKER_REGISTRY / IMAGE_NAME, then credentials. */
import { readDockerConfig, resolveCredentials } from './credentials.js';
import { readRegistrySettings, type RegistrySettings } from './reference.js';
import { RegistryClient, type FetchLike, type RegistryClientOptions } from './registry-client.js';

export interface OpenedRegistry {
  client: RegistryClient;
  settings: RegistrySettings;
}

/**
 * Credentials as resolveCredentials picks them (REGISTRY_USERNAME/REGISTRY_PASSWORD, then Docker's
 * credHelpers, credsStore, auths; a credential helper runs here, once). `log` receives the client's
 * retry lines; `retry` bounds its retries (RegistryClientOptions).
 */
export async function openRegistry(
  env: Record<string, string | undefined>,
  options: {
    registry?: string;
    fetch?: FetchLike;
    log?: RegistryClientOptions['log'];
    retry?: RegistryClientOptions['retry'];
  } = {},
): Promise<OpenedRegistry> {
  const settings = readRegistrySettings(env);
  const registry = options.registry ?? settings.registry;
  const credentials = resolveCredentials({ registry, env, dockerConfig: await readDockerConfig(env) });
  const client = new RegistryClient({
    registry,
    credentials,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  });
  return { client, settings: { ...settings, registry } };
}
