/**
 * @its/core: what every delivery package shares — the typed errors and the exit codes they map to,
 * secrets that never print, and free loopback ports. No dependencies beyond Node itself.
 */
export {
  UsageError,
  ConfigError,
  StepFailedError,
  InternalError,
  isKnownError,
  exitCodeFor,
} from './errors.js';
export type { ErrorKind, KnownError } from './errors.js';
export { Secret } from './secret.js';
export { freePort } from './free-port.js';
export {
  DIGEST,
  IMAGE_TAG,
  REGISTRY_HOST,
  REPOSITORY,
  formatImageReference,
  isValidRepository,
  isValidTag,
  parseImageReference,
  splitRegistry,
} from './image-reference.js';
export type { ImageReference } from './image-reference.js';
export { ENVIRONMENT_NAME, ENV_VARIABLE, HOST_PORT, PORT_RANGE } from './patterns.js';
export { redactUrl, publicUrl, redactUrlsInText, isSecretParam } from './redact-url.js';
export type { RedactUrlOptions } from './redact-url.js';
