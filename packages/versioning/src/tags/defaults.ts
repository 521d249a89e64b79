/**
 * Our default tagging scheme: the founding document's (5.4.3) tags for a `v1.2.3` tag push —
 * `v1.2.3`, `v1.2.3-production`, `v1.2.3-gpu`, `v1.2.3-edge` and `latest` — written in
 * docker/metadata-action's rule language so a team can read and change it like the action's.
 *
 * Each Dockerfile target is an image variant, pushed to the same repository under a suffix:
 *   production      → v1.2.3-production, and also the plain v1.2.3 and latest (the canonical image)
 *   gpu-production  → v1.2.3-gpu
 *   edge            → v1.2.3-edge
 *   development, testing → built and tested in CI, never released (no tags on v* pushes by default)
 */

export interface ImageVariant {
  /** The Dockerfile target that builds this variant. */
  target: string;
  /** Appended to every tag of this variant. */
  suffix: string;
  /** Published on release (v*) pushes. */
  release: boolean;
  /** The variant that the plain `v1.2.3` and `latest` tags point at. Exactly one. */
  canonical: boolean;
}

export const DEFAULT_VARIANTS: readonly ImageVariant[] = [
  { target: 'production', suffix: '-production', release: true, canonical: true },
  { target: 'gpu-production', suffix: '-gpu', release: true, canonical: false },
  { target: 'edge', suffix: '-edge', release: true, canonical: false },
  { target: 'development', suffix: '-development', release: false, canonical: false },
  { target: 'testing', suffix: '-testing', release: false, canonical: false },
];

/**
 * The rules every variant gets (with its suffix). `prefix=v` rather than `pattern=v{{version}}`
 * because the action replaces the pattern by `{{version}}` for pre-releases: with the prefix,
 * `v1.3.0-rc.1` stays `v1.3.0-rc.1` instead of losing its `v`.
 */
export const DEFAULT_BASE_RULES: readonly string[] = [
  'type=schedule,pattern=nightly',
  'type=ref,event=branch',
  'type=ref,event=pr',
  'type=semver,pattern={{version}},prefix=v',
];

/** The image name when neither --images nor DOCKER_REGISTRY/IMAGE_NAME say otherwise. */
export const DEFAULT_IMAGE_NAME = 'its-camera-ai';

/** The rules as a rule list for one variant, or (no variant) for the union of all released ones. */
export function composeDefaultRules(
  variants: readonly ImageVariant[],
  variant: ImageVariant | undefined,
): { tags: string[]; flavor: string[] } {
  const withSuffix = (suffix: string): string[] =>
    DEFAULT_BASE_RULES.map((rule) => `${rule},suffix=${suffix}`);
  if (variant === undefined) {
    const released = variants.filter((v) => v.release);
    return {
      tags: [...DEFAULT_BASE_RULES, ...released.flatMap((v) => withSuffix(v.suffix))],
      flavor: ['latest=auto'],
    };
  }
  if (variant.canonical) {
    return { tags: [...DEFAULT_BASE_RULES, ...withSuffix(variant.suffix)], flavor: ['latest=auto'] };
  }
  // The flavor's suffix applies to every rule and, with onlatest, turns `latest` into `latest-gpu`:
  // that tag only survives when per-variant latest is enabled (see plan-tags.ts).
  return { tags: [...DEFAULT_BASE_RULES], flavor: [`latest=auto,suffix=${variant.suffix},onlatest=true`] };
}
