import semver from 'semver';
import { UsageError } from '@its/core';
import { type ComputeOptions, type ImageMeta, type TagContext, computeImageMeta } from './compute-tags.js';
import { DEFAULT_VARIANTS, type ImageVariant, composeDefaultRules } from './defaults.js';

/**
 * Chooses the inputs (our defaults, or the user's own rules as in the action), computes the tags and
 * applies what the action cannot do: `latest` decided by the highest released version rather than by
 * push order, and opt-in per-variant `latest-<variant>` tags.
 */

/** `push`: the action's rule (the last push of a release wins). `highest`: only the highest release. */
export type LatestPolicy = 'push' | 'highest';

export interface PlanTagsInput {
  context: TagContext;
  images: readonly string[];
  /** The user's rules; when given, our defaults are not used (as with the action's `tags` input). */
  tags?: readonly string[];
  flavor?: readonly string[];
  labels?: readonly string[];
  annotations?: readonly string[];
  /** A Dockerfile target: the tags of that variant only. Only with our default rules. */
  target?: string;
  variants?: readonly ImageVariant[];
  /** Default: `highest` with our rules, `push` (the action's behaviour) with the user's. */
  latestPolicy?: LatestPolicy;
  /** Add `latest-gpu`, `latest-edge`… next to `latest`. Only with our default rules. */
  variantLatest?: boolean;
  /** The repository's tags (any names): released versions are the stable semver ones among them. */
  existingTags: readonly string[];
}

export interface LatestDecision {
  policy: LatestPolicy;
  /** The highest stable release among existing tags, other than the one being pushed. */
  highestReleased: string | null;
  /** Why `latest` was withheld, when it was. */
  withheld: string | null;
}

export interface TagPlan extends ImageMeta {
  target: string | null;
  latestDecision: LatestDecision;
}

const TAG_REF = /^refs\/tags\//;

export function findHighestRelease(tags: readonly string[], excluding?: string): string | null {
  let highest: semver.SemVer | null = null;
  for (const tag of tags) {
    const parsed = semver.parse(tag);
    if (parsed === null || parsed.prerelease.length > 0 || tag === excluding) continue;
    if (highest === null || semver.gt(parsed, highest)) highest = parsed;
  }
  return highest === null ? null : highest.raw;
}

/** Whether the pushed tag is older than a release that already exists (so it must not move latest). */
function olderThanReleased(input: PlanTagsInput): {
  pushedTag?: string;
  highestReleased: string | null;
  older: boolean;
} {
  const pushedTag = TAG_REF.test(input.context.ref) ? input.context.ref.replace(TAG_REF, '') : undefined;
  const highestReleased = findHighestRelease(input.existingTags, pushedTag);
  const pushed = pushedTag === undefined ? null : semver.parse(pushedTag);
  const older = pushed !== null && highestReleased !== null && semver.lt(pushed, highestReleased);
  return { ...(pushedTag === undefined ? {} : { pushedTag }), highestReleased, older };
}

/** Inserts `latest-<variant>` after each image's `latest` tag. */
function addVariantLatest(meta: ImageMeta, suffixes: readonly string[]): string[] {
  const out: string[] = [];
  for (const tag of meta.tags) {
    out.push(tag);
    const image = tag.slice(0, tag.lastIndexOf(':') + 1);
    if (tag === `${image}latest`) out.push(...suffixes.map((suffix) => `${image}latest${suffix}`));
  }
  return out;
}

export function planImageTags(input: PlanTagsInput, options: ComputeOptions): TagPlan {
  const variants = input.variants ?? DEFAULT_VARIANTS;
  const custom = input.tags !== undefined && input.tags.length > 0;
  if (custom && input.target !== undefined) {
    throw new UsageError(
      '--target: selects a variant of our default rules and cannot be combined with --tags',
      {
        fix: 'drop --target, or drop --tags and let the default rules tag the variant (or add suffix=… to your rules)',
      },
    );
  }
  if (custom && input.variantLatest === true) {
    throw new UsageError('--variant-latest: applies to our default rules only', {
      fix: 'drop --tags, or write the latest tag you want with --flavor suffix=…,onlatest=true',
    });
  }
  let variant: ImageVariant | undefined;
  if (input.target !== undefined) {
    variant = variants.find((v) => v.target === input.target);
    if (variant === undefined) {
      throw new UsageError(`--target: unknown target '${input.target}'`, {
        fix: `use one of ${variants.map((v) => v.target).join(', ')}`,
      });
    }
  }

  const policy = input.latestPolicy ?? (custom ? 'push' : 'highest');
  const { pushedTag, highestReleased, older } = olderThanReleased(input);
  const decision: LatestDecision = { policy, highestReleased, withheld: null };
  if (older && policy === 'highest') {
    decision.withheld = `${pushedTag} is older than the released ${highestReleased}: latest stays on ${highestReleased}`;
  }
  const defaults = composeDefaultRules(variants, variant);
  const tags = custom ? [...(input.tags ?? [])] : defaults.tags;
  let flavor = [...(custom ? [] : defaults.flavor), ...(input.flavor ?? [])];
  const variantLatest = input.variantLatest === true;
  // A non-canonical variant's `latest-<suffix>` (from its flavor) is only wanted when opted in.
  // Per-variant latest always follows the highest release, whatever the policy for plain `latest`.
  const nonCanonical = variant !== undefined && !variant.canonical;
  const suppressLatest = decision.withheld !== null || (nonCanonical && (!variantLatest || older));
  if (suppressLatest) flavor = [...flavor, 'latest=false'];

  const meta = computeImageMeta(
    input.context,
    { images: input.images, tags, flavor, labels: input.labels ?? [], annotations: input.annotations ?? [] },
    options,
  );
  if (variantLatest && variant === undefined && meta.version.latest && !older) {
    const suffixes = variants.filter((v) => v.release && !v.canonical).map((v) => v.suffix);
    meta.tags = addVariantLatest(meta, suffixes);
  }
  if (decision.withheld !== null) meta.warnings.push(decision.withheld);
  return { ...meta, target: variant?.target ?? null, latestDecision: decision };
}
