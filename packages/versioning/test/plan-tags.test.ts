import { describe, expect, it } from 'vitest';
import type { TagContext } from '../src/tags/compute-tags.js';
import { composeDefaultRules, DEFAULT_VARIANTS } from '../src/tags/defaults.js';
import { findHighestRelease, planImageTags, type PlanTagsInput } from '../src/tags/plan-tags.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const NOW = { now: new Date('2026-01-02T03:04:05Z') };
const ctx = (ref: string, eventName = 'push'): TagContext => ({
  eventName,
  ref,
  sha: SHA,
  defaultBranch: 'main',
  repo: {},
});
const plan = (input: Partial<PlanTagsInput> & { context: TagContext }) =>
  planImageTags({ images: [], existingTags: [], ...input }, NOW);

describe('our default scheme (founding document 5.4.3)', () => {
  it('a v1.2.3 tag push gives latest, v1.2.3, v1.2.3-production, v1.2.3-gpu, v1.2.3-edge', () => {
    const result = plan({ context: ctx('refs/tags/v1.2.3') });
    expect(result.tags).toEqual(['v1.2.3', 'v1.2.3-production', 'v1.2.3-gpu', 'v1.2.3-edge', 'latest']);
    expect(result.version).toEqual({
      main: 'v1.2.3',
      partial: ['v1.2.3-production', 'v1.2.3-gpu', 'v1.2.3-edge'],
      latest: true,
    });
  });

  it.each([
    ['production', ['v1.2.3', 'v1.2.3-production', 'latest']],
    ['gpu-production', ['v1.2.3-gpu']],
    ['edge', ['v1.2.3-edge']],
    ['development', ['v1.2.3-development']],
  ])('--target %s tags only that variant', (target, tags) => {
    expect(plan({ context: ctx('refs/tags/v1.2.3'), target }).tags).toEqual(tags);
  });

  it.each([
    ['refs/heads/develop', 'push', ['develop', 'develop-production', 'develop-gpu', 'develop-edge']],
    ['refs/pull/7/merge', 'pull_request', ['pr-7', 'pr-7-production', 'pr-7-gpu', 'pr-7-edge']],
    [
      'refs/heads/main',
      'schedule',
      [
        'nightly',
        'nightly-production',
        'nightly-gpu',
        'nightly-edge',
        'main',
        'main-production',
        'main-gpu',
        'main-edge',
      ],
    ],
    [
      'refs/tags/v1.3.0-rc.1',
      'push',
      ['v1.3.0-rc.1', 'v1.3.0-rc.1-production', 'v1.3.0-rc.1-gpu', 'v1.3.0-rc.1-edge'],
    ],
  ])('%s (%s)', (ref, event, tags) => {
    expect(plan({ context: ctx(ref, event) }).tags).toEqual(tags);
  });

  it('prefixes every tag with the image names', () => {
    const result = plan({
      context: ctx('refs/tags/v1.2.3'),
      images: ['ghcr.io/acme/its-camera-ai'],
      target: 'edge',
    });
    expect(result.tags).toEqual(['ghcr.io/acme/its-camera-ai:v1.2.3-edge']);
  });

  it('composes the rules from the base rules and the variants', () => {
    const union = composeDefaultRules(DEFAULT_VARIANTS, undefined);
    expect(union.tags).toContain('type=semver,pattern={{version}},prefix=v,suffix=-gpu');
    expect(union.tags.some((t) => t.includes('-development'))).toBe(false);
  });
});

describe('latest follows the highest release, not the last push', () => {
  const existing = ['v1.0.0', 'v1.2.3', 'v2.0.0', 'v2.1.0-rc.1', 'not-a-version'];

  it('re-tagging an older release does not move latest', () => {
    const result = plan({ context: ctx('refs/tags/v1.2.4'), existingTags: existing });
    expect(result.tags).not.toContain('latest');
    expect(result.latestDecision).toMatchObject({ policy: 'highest', highestReleased: 'v2.0.0' });
    expect(result.warnings.join()).toMatch(/v1.2.4 is older than the released v2.0.0/);
  });

  it('a new highest release gets latest (pre-releases are not releases)', () => {
    expect(plan({ context: ctx('refs/tags/v2.0.1'), existingTags: existing }).tags).toContain('latest');
  });

  it('pushing the highest tag again keeps latest (it does not compete with itself)', () => {
    expect(plan({ context: ctx('refs/tags/v2.0.0'), existingTags: existing }).tags).toContain('latest');
  });

  it('--latest-policy push restores the action behaviour', () => {
    expect(
      plan({ context: ctx('refs/tags/v1.2.4'), existingTags: existing, latestPolicy: 'push' }).tags,
    ).toContain('latest');
  });

  it('per-variant latest: latest-gpu and latest-edge next to latest', () => {
    const result = plan({
      context: ctx('refs/tags/v2.0.1'),
      existingTags: existing,
      variantLatest: true,
      images: ['r/app'],
    });
    expect(result.tags).toEqual([
      'r/app:v2.0.1',
      'r/app:v2.0.1-production',
      'r/app:v2.0.1-gpu',
      'r/app:v2.0.1-edge',
      'r/app:latest',
      'r/app:latest-gpu',
      'r/app:latest-edge',
    ]);
  });

  it('per-variant latest for one target', () => {
    expect(
      plan({
        context: ctx('refs/tags/v2.0.1'),
        existingTags: existing,
        variantLatest: true,
        target: 'gpu-production',
      }).tags,
    ).toEqual(['v2.0.1-gpu', 'latest-gpu']);
  });

  it('per-variant latest is withheld for an older release even with the push policy', () => {
    const union = plan({
      context: ctx('refs/tags/v1.2.4'),
      existingTags: existing,
      variantLatest: true,
      latestPolicy: 'push',
    });
    expect(union.tags).toContain('latest');
    expect(union.tags).not.toContain('latest-gpu');
    const gpu = plan({
      context: ctx('refs/tags/v1.2.4'),
      existingTags: existing,
      variantLatest: true,
      target: 'gpu-production',
    });
    expect(gpu.tags).toEqual(['v1.2.4-gpu']);
  });

  it('no per-variant latest for a pre-release', () => {
    expect(
      plan({ context: ctx('refs/tags/v3.0.0-rc.1'), existingTags: existing, variantLatest: true }).tags.some(
        (t) => t.startsWith('latest'),
      ),
    ).toBe(false);
  });

  it('findHighestRelease ignores pre-releases, other names and the excluded tag', () => {
    expect(findHighestRelease(existing)).toBe('v2.0.0');
    expect(findHighestRelease(existing, 'v2.0.0')).toBe('v1.2.3');
    expect(findHighestRelease([])).toBeNull();
  });
});

describe('the user’s own rules (action mode)', () => {
  it('replace our defaults and follow the push policy', () => {
    const result = plan({
      context: ctx('refs/tags/v1.2.4'),
      tags: ['type=semver,pattern={{major}}'],
      existingTags: ['v2.0.0'],
    });
    expect(result.tags).toEqual(['1', 'latest']);
    expect(result.latestDecision.policy).toBe('push');
  });

  it.each([
    [{ target: 'edge' }, /--target/],
    [{ variantLatest: true }, /--variant-latest/],
  ])('refuse options that only apply to our defaults: %j', (extra, message) => {
    expect(() => plan({ context: ctx('refs/tags/v1.0.0'), tags: ['type=sha'], ...extra })).toThrow(message);
  });

  it('an unknown target names the valid ones', () => {
    expect(() => plan({ context: ctx('refs/tags/v1.0.0'), target: 'arm' })).toThrow(/unknown target 'arm'/);
  });
});
