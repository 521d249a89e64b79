/** @its/delivery: the delivery system as a library. The `itsctl` CLI is built on these entry points. */
export * from './errors.js';
export { runCli, buildProgram } from './cli/program.js';
export type { CliIo, CommandModule } from './cli/io.js';
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
export { readTagContext, readBuildTime } from './tags/read-context.js';
export { parseCommit } from './version/conventional-commits.js';
export type { ParsedCommit, RawCommit } from './version/conventional-commits.js';
export { planVersion, channelFor, bumpFor } from './version/plan-version.js';
export type { VersionPlan, VersionInput, Bump } from './version/plan-version.js';
export { renderChangelogSection, insertChangelogSection } from './version/render-changelog.js';
export { planRelease } from './version/plan-release.js';
export type { ReleasePlan, ReleaseStep } from './version/plan-release.js';
export { checkWorkflowRules, checkWorkflowFiles } from './workflows/check-workflows.js';
export { createGit } from './git/run-git.js';
