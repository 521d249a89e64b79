/**
 * Conventional Commits (https://www.conventionalcommits.org/en/v1.0.0/): `type(scope)!: description`,
 * with `BREAKING CHANGE:` (or `BREAKING-CHANGE:`) footers. A commit that does not follow the format is
 * kept (it appears in the changelog under "Other changes") but never bumps the version.
 */

export interface RawCommit {
  sha: string;
  subject: string;
  body: string;
}

export interface ParsedCommit extends RawCommit {
  conventional: boolean;
  type: string | null;
  scope: string | null;
  breaking: boolean;
  description: string;
  /** The text of BREAKING CHANGE footers, or the description for a `!` commit. */
  breakingNotes: string[];
}

const HEADER = /^(?<type>[a-zA-Z]+)(?:\((?<scope>[^()\r\n]*)\))?(?<bang>!)?: (?<description>.+)$/;
const BREAKING_FOOTER = /^BREAKING[ -]CHANGE: ?([\s\S]*?)(?=\n[\w-]+(?:: | #)|\n*$)/m;

export function parseCommit(commit: RawCommit): ParsedCommit {
  const match = HEADER.exec(commit.subject.trim());
  if (match?.groups === undefined) {
    return {
      ...commit,
      conventional: false,
      type: null,
      scope: null,
      breaking: false,
      description: commit.subject.trim(),
      breakingNotes: [],
    };
  }
  const { type = '', scope, bang, description = '' } = match.groups;
  const footer = BREAKING_FOOTER.exec(commit.body);
  const breakingNotes: string[] = [];
  if (footer?.[1] !== undefined && footer[1].trim() !== '') breakingNotes.push(footer[1].trim());
  else if (bang !== undefined) breakingNotes.push(description);
  return {
    ...commit,
    conventional: true,
    type: type.toLowerCase(),
    scope: scope === undefined || scope === '' ? null : scope,
    breaking: bang !== undefined || footer !== null,
    description,
    breakingNotes,
  };
}
