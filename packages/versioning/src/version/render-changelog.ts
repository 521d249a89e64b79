import type { ParsedCommit } from './conventional-commits.js';

/** The changelog section of one release, grouped by commit type, breaking changes first. */

export interface ChangelogInput {
  version: string;
  previousTag: string | null;
  tag: string;
  /** yyyy-mm-dd, from the release's clock (SOURCE_DATE_EPOCH when set). */
  date: string;
  commits: readonly ParsedCommit[];
  /** https://github.com/owner/repo, for compare and commit links. */
  repoUrl?: string;
}

const GROUPS: ReadonlyArray<[string, string]> = [
  ['feat', 'Features'],
  ['fix', 'Bug Fixes'],
  ['perf', 'Performance Improvements'],
  ['revert', 'Reverts'],
  ['refactor', 'Code Refactoring'],
  ['docs', 'Documentation'],
  ['build', 'Build System'],
  ['ci', 'Continuous Integration'],
  ['test', 'Tests'],
  ['style', 'Styles'],
  ['chore', 'Chores'],
];

function line(commit: ParsedCommit, text: string, repoUrl: string | undefined): string {
  const short = commit.sha.slice(0, 7);
  const ref = repoUrl === undefined ? short : `[${short}](${repoUrl}/commit/${commit.sha})`;
  return `* ${commit.scope === null ? '' : `**${commit.scope}:** `}${text} (${ref})`;
}

export function renderChangelogSection(input: ChangelogInput): string {
  const title =
    input.repoUrl !== undefined && input.previousTag !== null
      ? `[${input.version}](${input.repoUrl}/compare/${input.previousTag}...${input.tag})`
      : input.version;
  const out: string[] = [`## ${title} (${input.date})`, ''];
  const breaking = input.commits.filter((c) => c.breaking);
  if (breaking.length > 0) {
    out.push('### ⚠ BREAKING CHANGES', '');
    for (const c of breaking) for (const note of c.breakingNotes) out.push(line(c, note, input.repoUrl));
    out.push('');
  }
  const known = new Set(GROUPS.map(([type]) => type));
  for (const [type, heading] of GROUPS) {
    const commits = input.commits.filter((c) => c.type === type);
    if (commits.length === 0) continue;
    out.push(`### ${heading}`, '', ...commits.map((c) => line(c, c.description, input.repoUrl)), '');
  }
  const others = input.commits.filter((c) => c.type === null || !known.has(c.type));
  if (others.length > 0)
    out.push('### Other Changes', '', ...others.map((c) => line(c, c.subject, input.repoUrl)), '');
  return `${out.join('\n').trimEnd()}\n`;
}

const HEADER = '# Changelog\n\nAll notable changes to this project are documented in this file.\n';

/** The new CHANGELOG.md: the section goes on top, under the file's title. */
export function insertChangelogSection(existing: string | null, section: string): string {
  if (existing === null || existing.trim() === '') return `${HEADER}\n${section}`;
  const firstSection = existing.search(/^## /m);
  if (firstSection < 0) return `${existing.trimEnd()}\n\n${section}`;
  return `${existing.slice(0, firstSection)}${section}\n${existing.slice(firstSection)}`;
}
