import type { Secret } from '@its/core';

/** A registry login: @its/registry's Credentials, or any user name with its password. */
export interface RegistryLogin {
  username: string;
  password: Secret;
}

/**
 * The Docker Engine's X-Registry-Auth header for `POST /images/create`: the JSON auth configuration
 * `{username, password, serveraddress}`, base64url-encoded (Go's base64.URLEncoding, with padding:
 * what the docker CLI sends and the daemon decodes). The daemon uses it for that one pull; the value
 * carries the password, so it is built here at the last moment and never printed or logged.
 *
 * The credentials come from @its/registry's resolveCredentials (REGISTRY_USERNAME/REGISTRY_PASSWORD for
 * DOCKER_REGISTRY, else ~/.docker/config.json's credHelpers, credsStore or auths, as Docker picks), for
 * the registry host of the image.
 */
export function registryAuthHeader(credentials: RegistryLogin, registryHost: string): string {
  const config = {
    username: credentials.username,
    password: credentials.password.reveal(),
    serveraddress: registryHost,
  };
  const json = Buffer.from(JSON.stringify(config), 'utf8');
  // Node's base64url drops the padding; Go's URLEncoding, which the daemon decodes with, wants it.
  return json.toString('base64url').padEnd(Math.ceil(json.length / 3) * 4, '=');
}

/** The inverse, for tests and diagnostics that must check a header without printing it. */
export function decodeRegistryAuthHeader(value: string): {
  username?: string;
  password?: string;
  serveraddress?: string;
} {
  return JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as {
    username?: string;
    password?: string;
    serveraddress?: string;
  };
}
