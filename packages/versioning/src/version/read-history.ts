import semver from 'semver';
import { ConfigError } from '@its/core';
import { type Git, tryGit } from '../git/run-git.js';
import { type ParsedCommit, parseCommit } from './conventional-commits.js';

/** Reads what planVersion needs from a git repository, after checking it can be trusted. */

export interface History {
  branch: string | null;
  lastTag: string | null;
  commits: ParsedCommit[];
  dirty: string[];
  existingTags: string[];
}

export interface Preconditions {
  /** Refuse uncommitted changes (release: the tag would not describe the tree). */
  requireClean: boolean;
}

/**
 * Checks everything first and reports every problem together: not a repository, no commits, a shallow
 * clone (tags and history missing, so the version would be wrong), uncommitted changes.
 */
export async function checkRepository(git: Git, preconditions: Preconditions): Promise<void> {
  const inside = await tryGit(git, ['rev-parse', '--is-inside-work-tree']);
  if (inside !== 'true') {
    throw new ConfigError('not inside a git work tree', {
      fix: 'run itsctl from a clone of the repository (or git init)',
    });
  }
  const problems: string[] = [];
  if ((await tryGit(git, ['rev-parse', '--verify', '--quiet', 'HEAD'])) === undefined) {
    problems.push('the repository has no commits yet: make a first commit (git commit)');
  }
  if ((await tryGit(git, ['rev-parse', '--is-shallow-repository'])) === 'true') {
    problems.push(
      'this is a shallow clone: history and tags are incomplete, so the version would be wrong: run `git fetch --unshallow --tags` (in GitHub Actions: actions/checkout with fetch-depth: 0)',
    );
  }
  if (preconditions.requireClean) {
    const status = (await tryGit(git, ['status', '--porcelain'])) ?? '';
    const changed = status.split('\n').filter((l) => l.trim() !== '');
    if (changed.length > 0) {
      const shown = changed
        .slice(0, 5)
        .map((l) => l.trim())
        .join(', ');
      problems.push(
        `the working tree has uncommitted changes (${shown}${changed.length > 5 ? ', …' : ''}): commit or stash them (git stash -u) first`,
      );
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`git repository not ready:\n  - ${problems.join('\n  - ')}`, {
      fix: 'fix each problem above and run the command again',
    });
  }
}

const FIELD = '\x1f';
const RECORD = '\x1e';

export async function readHistory(
  git: Git,
  options: { branch?: string; env?: Readonly<Record<string, string | undefined>> },
): Promise<History> {
  const symbolic = await tryGit(git, ['symbolic-ref', '--short', '--quiet', 'HEAD']);
  // In GitHub Actions a pull request checks out a detached merge commit: use the head branch.
  const branch =
    options.branch ?? (symbolic || options.env?.GITHUB_HEAD_REF || options.env?.GITHUB_REF_NAME || null);

  const merged = (await tryGit(git, ['tag', '--merged', 'HEAD', '--list', 'v*'])) ?? '';
  let lastTag: string | null = null;
  for (const tag of merged.split('\n')) {
    const parsed = semver.parse(tag);
    if (parsed === null || parsed.prerelease.length > 0) continue;
    if (lastTag === null || semver.gt(parsed, lastTag)) lastTag = tag;
  }

  const range = lastTag === null ? 'HEAD' : `${lastTag}..HEAD`;
  const log = await git(['log', '--no-merges', `--format=%H${FIELD}%s${FIELD}%b${RECORD}`, range]);
  const commits = log
    .split(RECORD)
    .map((record) => record.replace(/^\n/, ''))
    .filter((record) => record.trim() !== '')
    .map((record) => {
      const [sha = '', subject = '', body = ''] = record.split(FIELD);
      return parseCommit({ sha, subject, body: body.trim() });
    });

  const status = (await tryGit(git, ['status', '--porcelain'])) ?? '';
  const all = (await tryGit(git, ['tag', '--list'])) ?? '';
  return {
    branch,
    lastTag,
    commits,
    dirty: status.split('\n').filter((l) => l.trim() !== ''),
    existingTags: all.split('\n').filter((t) => t !== ''),
  };
}
