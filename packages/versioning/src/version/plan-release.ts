import type { VersionPlan } from './plan-version.js';
import { insertChangelogSection, renderChangelogSection } from './render-changelog.js';

/**
 * A release as data: the file to write and the git commands to run, in order. `--dry-run` prints it;
 * a real run executes it step by step (run-release.ts). Nothing is pushed: the last step says how.
 */

export type ReleaseStep =
  { kind: 'write-file'; path: string; content: string } | { kind: 'git'; args: string[] };

export interface ReleasePlan {
  version: string;
  tag: string;
  changelogSection: string;
  steps: ReleaseStep[];
  pushHint: string;
}

export interface ReleaseInput {
  plan: VersionPlan & { next: string; tag: string };
  lastTag: string | null;
  existingChangelog: string | null;
  changelogPath: string;
  date: string;
  repoUrl?: string;
}

export function planRelease(input: ReleaseInput): ReleasePlan {
  const { plan } = input;
  const section = renderChangelogSection({
    version: plan.next,
    tag: plan.tag,
    previousTag: input.lastTag,
    date: input.date,
    commits: plan.commits,
    ...(input.repoUrl !== undefined ? { repoUrl: input.repoUrl } : {}),
  });
  return {
    version: plan.next,
    tag: plan.tag,
    changelogSection: section,
    steps: [
      {
        kind: 'write-file',
        path: input.changelogPath,
        content: insertChangelogSection(input.existingChangelog, section),
      },
      { kind: 'git', args: ['add', '--', input.changelogPath] },
      {
        kind: 'git',
        args: ['commit', '--message', `chore(release): ${plan.tag}`, '--', input.changelogPath],
      },
      // An annotated tag carries the release notes, its date and author: `git describe` and GitHub use it.
      // --cleanup=verbatim keeps the notes' "### Features" headings, which git would strip as comments.
      {
        kind: 'git',
        args: ['tag', '--annotate', '--cleanup=verbatim', plan.tag, '--message', `${plan.tag}\n\n${section}`],
      },
    ],
    pushHint: `git push --atomic origin HEAD refs/tags/${plan.tag}`,
  };
}
