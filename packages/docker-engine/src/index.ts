/**
 * @its/docker-engine: the Docker Engine API over its socket, a TCP address or ssh:// (the API version
 * negotiated with the daemon, 1.41–1.52), and the choice of a docker CLI the daemon accepts.
 */
export { DockerEngine, publishedPort, resolveEngineTarget } from './docker-engine.js';
export type * from './docker-engine.js';
export { OLDEST_FEATURES, engineFeatures, parseVersionRefusal } from './api-version.js';
export type * from './api-version.js';
export { registryAuthHeader, decodeRegistryAuthHeader } from './registry-auth-header.js';
export type { RegistryLogin } from './registry-auth-header.js';
export {
  DOCKER_START_HINT,
  createDockerRunner,
  ensureDockerRunning,
  isDaemonUnreachable,
  resolveComposeCommand,
  resolveDockerCli,
} from './docker-cli.js';
export type * from './docker-cli.js';
