/**
 * Public entry points of the registry half of the delivery system (registry client, promotion,
 * supply chain, retention). src/index.ts re-exports this file.
 */
export { RegistryClient } from './registry-client.js';
export type {
  Descriptor,
  FetchedManifest,
  FetchLike,
  Platform,
  RegistryClientOptions,
} from './registry-client.js';
export { openRegistry } from './open-registry.js';
export {
  readRegistrySettings,
  parseImageReference,
  formatImageReference,
  registryBaseUrl,
} from './reference.js';
export type { RegistrySettings, ImageReference } from './reference.js';
export { resolveCredentials, readDockerConfig, Secret } from './credentials.js';
export type { Credentials } from './credentials.js';
export {
  RegistryUnreachableError,
  RegistryAuthError,
  RegistryRequestError,
  DigestMismatchError,
} from './registry-errors.js';
export { computeDigest, referrersFallbackTag, signatureTag } from './digest.js';
export { copyManifestTree, copyReferrers, emptyCopyStats } from './copy-image.js';
export type { CopyStats, RepositoryRef } from './copy-image.js';
export { assembleIndex, buildIndex } from './assemble-index.js';
export { planPublish, publishImage, parsePushDigest, createDockerRunner } from './publish-image.js';
export type { PublishPlan, DockerRunner } from './publish-image.js';
export { planPrune } from './plan-prune.js';
export type { PrunePlan, PruneDecision, RepositoryImage } from './plan-prune.js';
export { planRegistryPrune, applyPrune, runningDigests } from './prune-registry.js';
export { startLocalRegistry } from './local-registry.js';
export type { LocalRegistry } from './local-registry.js';
export {
  ENVIRONMENTS,
  environmentRepository,
  environmentRepositories,
  previousEnvironment,
  nextEnvironment,
  isEnvironment,
} from '../promotion/environments.js';
export type { Environment } from '../promotion/environments.js';
export { openRecordStore, defaultRecordStorePath, gateRecordSchema } from '../promotion/record-store.js';
export type { GateRecord, RecordStore } from '../promotion/record-store.js';
export { assessPromotion } from '../promotion/plan-promotion.js';
export type { PromotionVerdict } from '../promotion/plan-promotion.js';
export { promoteImage } from '../promotion/promote-image.js';
export type { PromoteRequest, PromoteResult } from '../promotion/promote-image.js';
export { attachSbom, readSbom, inventoryImage } from '../supply-chain/attach-sbom.js';
export { buildCycloneDxSbom, CYCLONEDX_MEDIA_TYPE } from '../supply-chain/cyclonedx.js';
export {
  generateSigningKeyPair,
  signImage,
  verifyImageSignature,
  keyFingerprint,
  SignatureVerificationError,
} from '../supply-chain/signing.js';
export type { VerifiedSignature, SigningKeyPair } from '../supply-chain/signing.js';
