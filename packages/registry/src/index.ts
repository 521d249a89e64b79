/**
 * @its/registry: an OCI distribution client (auth, retries, digests), publish, multi-platform indexes,
 * promotion by digest through the environment repositories, retention, SBOMs and signatures.
 */
export { RegistryClient } from './registry/registry-client.js';
export type {
  Descriptor,
  FetchedManifest,
  FetchLike,
  Platform,
  RegistryClientOptions,
} from './registry/registry-client.js';
export { openRegistry } from './registry/open-registry.js';
export {
  readRegistrySettings,
  parseImageReference,
  formatImageReference,
  registryBaseUrl,
} from './registry/reference.js';
export type { RegistrySettings, ImageReference } from './registry/reference.js';
export {
  resolveCredentials,
  planCredentials,
  readDockerConfig,
  dockerConfigPath,
  runCredentialHelper,
} from './registry/credentials.js';
export type {
  Credentials,
  CredentialPlan,
  CredentialHelperRun,
  CredentialHelperRunner,
  DockerConfig,
} from './registry/credentials.js';
export {
  RegistryUnreachableError,
  RegistryAuthError,
  RegistryRequestError,
  RegistryRetriesExhaustedError,
  DigestMismatchError,
} from './registry/registry-errors.js';
export { DEFAULT_RETRY_POLICY } from './registry/retry-policy.js';
export type { RetryPolicy } from './registry/retry-policy.js';
export { computeDigest, isDigest, referrersFallbackTag, signatureTag } from './registry/digest.js';
export { copyManifestTree, copyReferrers, emptyCopyStats } from './registry/copy-image.js';
export type { CopyStats, RepositoryRef } from './registry/copy-image.js';
export { assembleIndex, buildIndex } from './registry/assemble-index.js';
export { planPublish, publishImage, parsePushDigest, createDockerRunner } from './registry/publish-image.js';
export type { PublishPlan, DockerRunner } from './registry/publish-image.js';
export { planPrune } from './registry/plan-prune.js';
export type { PrunePlan, PruneDecision, RepositoryImage } from './registry/plan-prune.js';
export { planRegistryPrune, applyPrune, runningDigests } from './registry/prune-registry.js';
export {
  ENVIRONMENTS,
  environmentRepository,
  environmentRepositories,
  previousEnvironment,
  nextEnvironment,
  isEnvironment,
} from './promotion/environments.js';
export type { Environment } from './promotion/environments.js';
export { openRecordStore, defaultRecordStorePath, gateRecordSchema } from './promotion/record-store.js';
export type { GateRecord, RecordStore } from './promotion/record-store.js';
export { assessPromotion } from './promotion/plan-promotion.js';
export type { PromotionVerdict } from './promotion/plan-promotion.js';
export { promoteImage } from './promotion/promote-image.js';
export type { PromoteRequest, PromoteResult } from './promotion/promote-image.js';
export { attachSbom, readSbom, inventoryImage } from './supply-chain/attach-sbom.js';
export { buildCycloneDxSbom, CYCLONEDX_MEDIA_TYPE } from './supply-chain/cyclonedx.js';
export {
  generateSigningKeyPair,
  signImage,
  verifyImageSignature,
  keyFingerprint,
  SignatureVerificationError,
} from './supply-chain/signing.js';
export type { VerifiedSignature, SigningKeyPair } from './supply-chain/signing.js';
