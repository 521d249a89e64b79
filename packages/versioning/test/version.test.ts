import { describe, expect, it } from 'vitest';
import { parseCommit, type ParsedCommit } from '../src/version/conventional-commits.js';
import { channelFor, planVersion } from '../src/version/plan-version.js';
import { insertChangelogSection, renderChangelogSection } from '../src/version/render-changelog.js';

let n = 0;
const c = (subject: string, body = ''): ParsedCommit =>
  parseCommit({
    sha: `${(++n).toString(16).padStart(7, '0')}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`,
    subject,
    body,
  });

describe('parseCommit', () => {
  it.each([
    ['feat: zones', { type: 'feat', scope: null, breaking: false, description: 'zones' }],
    ['fix(api): 500 on empty body', { type: 'fix', scope: 'api', breaking: false }],
    ['feat(api)!: drop v1 routes', { type: 'feat', breaking: true, breakingNotes: ['drop v1 routes'] }],
    ['Fix: case-insensitive type', { type: 'fix' }],
    ['Merge branch develop', { conventional: false, type: null, breaking: false }],
    ['feat:no space', { conventional: false }],
  ])('%s', (subject, expected) => {
    expect(c(subject)).toMatchObject(expected);
  });

  it('reads BREAKING CHANGE and BREAKING-CHANGE footers', () => {
    expect(
      c('refactor: config', 'Some text.\n\nBREAKING CHANGE: DATABASE_URL is required\nRefs: #12'),
    ).toMatchObject({
      breaking: true,
      breakingNotes: ['DATABASE_URL is required'],
    });
    expect(c('chore: x', 'BREAKING-CHANGE: gone').breaking).toBe(true);
  });
});

describe('planVersion', () => {
  const stable = ['main'];
  it.each([
    ['fix → patch', 'v1.2.3', ['fix: a', 'docs: b'], 'main', '1.2.4', 'patch'],
    ['feat → minor', 'v1.2.3', ['fix: a', 'feat: b'], 'main', '1.3.0', 'minor'],
    ['perf → patch', 'v1.2.3', ['perf: faster'], 'main', '1.2.4', 'patch'],
    ['! → major', 'v1.2.3', ['feat!: b', 'fix: a'], 'main', '2.0.0', 'major'],
    ['0.x: breaking → minor', 'v0.3.1', ['feat!: b'], 'main', '0.4.0', 'major'],
    ['0.x: feat → minor', 'v0.3.1', ['feat: b'], 'main', '0.4.0', 'minor'],
    ['0.x: fix → patch', 'v0.3.1', ['fix: b'], 'main', '0.3.2', 'patch'],
    ['first release', null, ['feat: start'], 'main', '0.1.0', 'minor'],
    [
      'develop pre-release',
      'v1.2.3',
      ['feat: a', 'chore: b', 'fix: c', 'docs: d'],
      'develop',
      '1.3.0-develop.4',
      'minor',
    ],
    ['release/* → rc', 'v1.2.3', ['fix: a', 'fix: b'], 'release/1.2', '1.2.4-rc.2', 'patch'],
    ['hotfix/* → rc', 'v1.2.3', ['fix: a'], 'hotfix/crash', '1.2.4-rc.1', 'patch'],
    [
      'feature branch channel',
      'v1.2.3',
      ['feat: a'],
      'feature/Cam_Zones',
      '1.3.0-feature-cam-zones.1',
      'minor',
    ],
    ['detached HEAD is final', 'v1.2.3', ['feat: a'], null, '1.3.0', 'minor'],
  ] as const)('%s', (_name, lastTag, subjects, branch, next, bump) => {
    const plan = planVersion({ lastTag, commits: subjects.map((s) => c(s)), branch, stableBranches: stable });
    expect(plan.next).toBe(next);
    expect(plan.bump).toBe(bump);
    expect(plan.tag).toBe(`v${next}`);
  });

  it('no releasable commit → no version', () => {
    const plan = planVersion({
      lastTag: 'v1.0.0',
      commits: [c('docs: a'), c('chore: b'), c('whatever')],
      branch: 'main',
      stableBranches: stable,
    });
    expect(plan).toMatchObject({ current: '1.0.0', next: null, tag: null, bump: null, channel: null });
  });

  it('explains the bump with the commits that caused it', () => {
    const plan = planVersion({
      lastTag: 'v1.0.0',
      commits: [c('docs: a'), c('feat: zones')],
      branch: 'main',
      stableBranches: stable,
    });
    expect(plan.reasons).toEqual([expect.stringMatching(/^feat: zones \([0-9a-f]{7}\)$/)]);
  });

  it('--release-as leaves 0.x; --stable and --channel override the branch', () => {
    expect(
      planVersion({
        lastTag: 'v0.9.0',
        commits: [],
        branch: 'main',
        stableBranches: stable,
        releaseAs: 'v1.0.0',
      }).next,
    ).toBe('1.0.0');
    expect(
      planVersion({
        lastTag: 'v1.0.0',
        commits: [c('fix: a')],
        branch: 'develop',
        stableBranches: stable,
        channel: false,
      }).next,
    ).toBe('1.0.1');
    expect(
      planVersion({
        lastTag: 'v1.0.0',
        commits: [c('fix: a')],
        branch: 'main',
        stableBranches: stable,
        channel: 'beta',
      }).next,
    ).toBe('1.0.1-beta.1');
  });

  it.each([
    [{ releaseAs: 'one' }, /not a semantic version/],
    [{ releaseAs: '0.1.0' }, /not greater than the last release 1.0.0/],
    [{ channel: 'bad_id' }, /not a pre-release identifier/],
  ])('bad input %j → error naming it', (extra, message) => {
    expect(() =>
      planVersion({
        lastTag: 'v1.0.0',
        commits: [c('fix: a')],
        branch: 'main',
        stableBranches: stable,
        ...extra,
      }),
    ).toThrow(message);
  });

  it('a last tag that is not semver is an error', () => {
    expect(() => planVersion({ lastTag: 'vX', commits: [], branch: 'main', stableBranches: stable })).toThrow(
      /not a semantic version/,
    );
  });

  it('channelFor', () => {
    expect(channelFor('main', stable)).toBeNull();
    expect(channelFor('///', stable)).toBe('pre');
  });
});

describe('changelog', () => {
  const commits = [
    c('feat(api)!: drop v1', 'BREAKING CHANGE: /v1 is gone'),
    c('fix: crash'),
    c('docs: readme'),
    c('odd commit'),
    c('wip: stuff'),
  ];

  it('groups by type, breaking changes first, with compare and commit links', () => {
    const section = renderChangelogSection({
      version: '2.0.0',
      tag: 'v2.0.0',
      previousTag: 'v1.4.0',
      date: '2026-11-26',
      commits,
      repoUrl: 'https://github.com/acme/app',
    });
    const lines = section.split('\n');
    expect(lines[0]).toBe('## [2.0.0](https://github.com/acme/app/compare/v1.4.0...v2.0.0) (2026-11-26)');
    const headings = lines.filter((l) => l.startsWith('### '));
    expect(headings).toEqual([
      '### ⚠ BREAKING CHANGES',
      '### Features',
      '### Bug Fixes',
      '### Documentation',
      '### Other Changes',
    ]);
    expect(section).toContain('* **api:** /v1 is gone ([');
    expect(section).toMatch(
      /\* crash \(\[[0-9a-f]{7}\]\(https:\/\/github.com\/acme\/app\/commit\/[0-9a-f]{40}\)\)/,
    );
    expect(section).toContain('* wip: stuff (');
  });

  it('without a repository URL or previous tag, plain text', () => {
    const section = renderChangelogSection({
      version: '0.1.0',
      tag: 'v0.1.0',
      previousTag: null,
      date: '2026-01-01',
      commits: [c('feat: a')],
    });
    expect(section.split('\n')[0]).toBe('## 0.1.0 (2026-01-01)');
    expect(section).toMatch(/\* a \([0-9a-f]{7}\)/);
  });

  it('inserts the section on top, under the title', () => {
    expect(insertChangelogSection(null, '## 1.0.0\n')).toMatch(/^# Changelog\n\n.*\n\n## 1.0.0\n$/);
    const existing = '# Changelog\n\nIntro.\n\n## 0.9.0 (x)\n\n* old\n';
    expect(insertChangelogSection(existing, '## 1.0.0 (y)\n')).toBe(
      '# Changelog\n\nIntro.\n\n## 1.0.0 (y)\n\n## 0.9.0 (x)\n\n* old\n',
    );
    expect(insertChangelogSection('# Notes\n', '## 1.0.0\n')).toBe('# Notes\n\n## 1.0.0\n');
  });
});
