import semver from 'semver';
import { UsageError } from '@its/core';
import type { ParsedCommit } from './conventional-commits.js';

/**
 * The next version, as a pure function of the last release tag, the commits since it and the branch.
 *
 * Bumps (semantic versioning 2.0.0 with Conventional Commits):
 *   breaking (`!` or a BREAKING CHANGE footer) → major; feat → minor; fix or perf → patch;
 *   anything else (docs, chore, ci, refactor, test, non-conventional) → no release.
 * Major version zero (0.y.z: "anything may change"): a breaking change bumps the minor and a feature
 *   bumps the minor; fixes bump the patch. Leaving 0.x is a decision, not a commit: `--release-as 1.0.0`.
 * First release (no v* tag yet): 0.1.0, or --release-as.
 * Pre-releases: on a stable branch (main by default) the version is final (1.3.0). On release/* and
 *   hotfix/* branches it is a release candidate (1.3.0-rc.N); on any other branch the channel is the
 *   branch name made semver-safe (develop → 1.3.0-develop.N, feature/Cam-Zones → 1.3.0-feature-cam-zones.N).
 *   N is the number of commits since the last stable tag: it grows along a branch's history, so the same
 *   commit always gets the same pre-release version and no pre-release tags need to be read.
 */

export type Bump = 'major' | 'minor' | 'patch';

export interface VersionInput {
  /** The highest stable v* tag reachable from HEAD, e.g. `v1.2.0`; null before the first release. */
  lastTag: string | null;
  /** Commits since lastTag (all commits when none), newest first. */
  commits: readonly ParsedCommit[];
  /** The current branch; null when HEAD is detached. */
  branch: string | null;
  /** Branches whose releases are final. */
  stableBranches: readonly string[];
  /** Force this version (e.g. 1.0.0 to leave 0.x). */
  releaseAs?: string;
  /** Force a pre-release channel (`rc`, `beta`…), or `false` to force a final version. */
  channel?: string | false;
}

export interface VersionPlan {
  current: string | null;
  bump: Bump | null;
  /** Null when no commit since the last release calls for one. */
  next: string | null;
  tag: string | null;
  channel: string | null;
  /** The commits that decided the bump, e.g. `feat: zones (abc1234)`. */
  reasons: string[];
  commits: readonly ParsedCommit[];
}

export const FIRST_VERSION = '0.1.0';
const ORDER: Record<Bump, number> = { patch: 1, minor: 2, major: 3 };

export function bumpFor(commit: ParsedCommit): Bump | null {
  if (!commit.conventional) return null;
  if (commit.breaking) return 'major';
  if (commit.type === 'feat') return 'minor';
  if (commit.type === 'fix' || commit.type === 'perf') return 'patch';
  return null;
}

/** A branch name as a semver pre-release identifier: [0-9A-Za-z-] only. */
export function channelFor(branch: string | null, stableBranches: readonly string[]): string | null {
  if (branch === null || stableBranches.includes(branch)) return null;
  if (/^(release|hotfix)\//.test(branch)) return 'rc';
  const id = branch
    .toLowerCase()
    .replace(/[^0-9a-z-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return id === '' ? 'pre' : id;
}

export function planVersion(input: VersionInput): VersionPlan {
  const current = input.lastTag === null ? null : semver.parse(input.lastTag);
  if (input.lastTag !== null && current === null) {
    throw new UsageError(`last tag '${input.lastTag}' is not a semantic version`, {
      fix: 'tag releases as v<major>.<minor>.<patch>',
    });
  }
  let bump: Bump | null = null;
  const reasons: string[] = [];
  for (const commit of input.commits) {
    const b = bumpFor(commit);
    if (b === null) continue;
    reasons.push(`${commit.subject} (${commit.sha.slice(0, 7)})`);
    if (bump === null || ORDER[b] > ORDER[bump]) bump = b;
  }

  const channel =
    input.channel === false ? null : (input.channel ?? channelFor(input.branch, input.stableBranches));
  let base: string | null = null;
  if (input.releaseAs !== undefined) {
    const forced = semver.valid(input.releaseAs.replace(/^v/, ''));
    if (forced === null)
      throw new UsageError(`--release-as: '${input.releaseAs}' is not a semantic version`, {
        fix: 'write e.g. --release-as 1.0.0',
      });
    if (current !== null && !semver.gt(forced, current)) {
      throw new UsageError(
        `--release-as: ${forced} is not greater than the last release ${current.version}`,
        {
          fix: `choose a version above ${current.version}`,
        },
      );
    }
    base = forced;
  } else if (bump !== null) {
    if (current === null) base = FIRST_VERSION;
    else if (current.major === 0) base = semver.inc(current, bump === 'patch' ? 'patch' : 'minor');
    else base = semver.inc(current, bump);
  }

  let next = base;
  if (base !== null && channel !== null && semver.prerelease(base) === null) {
    if (!/^[0-9A-Za-z-]+$/.test(channel)) {
      throw new UsageError(`--channel: '${channel}' is not a pre-release identifier`, {
        fix: 'use letters, digits and -',
      });
    }
    next = `${base}-${channel}.${input.commits.length}`;
  }
  return {
    current: current?.version ?? null,
    bump,
    next,
    tag: next === null ? null : `v${next}`,
    channel: next === null ? null : channel,
    reasons,
    commits: input.commits,
  };
}
