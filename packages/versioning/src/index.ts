/**
 * @its/versioning: versions and image tags. Planning is pure (compute-tags, plan-tags, plan-version,
 * plan-release); a thin layer reads the world (read-context, read-history, resolve-version); git always
 * runs with argument arrays (run-git). The workflow checks (yaml, zod, GitHub's workflow parser) are a
 * separate entry, `@its/versioning/workflows`, so the tag computation never loads them.
 */
export { computeImageMeta, sanitizeTag, MAX_TAG_LENGTH } from './tags/compute-tags.js';
export type {
  TagContext,
  TagInputs,
  ImageMeta,
  RepoInfo,
  ComputeOptions,
  VersionInfo,
} from './tags/compute-tags.js';
export { planImageTags, findHighestRelease } from './tags/plan-tags.js';
export type { PlanTagsInput, TagPlan, LatestPolicy, LatestDecision } from './tags/plan-tags.js';
export { DEFAULT_VARIANTS, DEFAULT_BASE_RULES, composeDefaultRules } from './tags/defaults.js';
export type { ImageVariant } from './tags/defaults.js';
export {
  parseTagRule,
  parseTagRules,
  parseFlavor,
  parseImages,
  DEFAULT_PRIORITIES,
} from './tags/parse-rules.js';
export type { TagRule, Flavor, RuleType } from './tags/parse-rules.js';
export { formatDate } from './tags/format-date.js';
export {
  readTagContext,
  readBuildTime,
  readExistingTags,
  remoteToHtmlUrl,
  detectContextSource,
} from './tags/read-context.js';
export type { Env, ContextSource } from './tags/read-context.js';
export { parseCommit } from './version/conventional-commits.js';
export type { ParsedCommit, RawCommit } from './version/conventional-commits.js';
export { planVersion, channelFor, bumpFor } from './version/plan-version.js';
export type { VersionPlan, VersionInput, Bump } from './version/plan-version.js';
export { renderChangelogSection, insertChangelogSection } from './version/render-changelog.js';
export { planRelease } from './version/plan-release.js';
export type { ReleasePlan, ReleaseStep } from './version/plan-release.js';
export { resolveVersion, readRepoUrl } from './version/resolve-version.js';
export type { VersionOptions } from './version/resolve-version.js';
export { createGit } from './git/run-git.js';
export type * from './git/run-git.js';
