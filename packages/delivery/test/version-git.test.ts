import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runItsctl } from './helpers/cli.js';
import { type TempRepo, withTempRepo } from './helpers/git-repo.js';

/** main: v1.2.0 released, then a fix and a feature. */
function releasedHistory(repo: TempRepo): void {
  repo.commit('feat: first');
  repo.commit('fix: second');
  repo.tag('v1.2.0', 'v1.2.0');
  repo.commit('fix(api): handle empty body');
  repo.commit('docs: readme');
  repo.commit('feat(vision): lane zones');
}

describe('itsctl version on real repositories', () => {
  it('main: feat since v1.2.0 → 1.3.0, with the reasons', () =>
    withTempRepo(async (repo) => {
      releasedHistory(repo);
      const text = await runItsctl(['version'], { cwd: repo.dir });
      expect(text).toMatchObject({ code: 0, stdout: '1.3.0\n' });
      expect(text.stderr).toMatch(/1.2.0 → 1.3.0 \(minor\) on main/);
      const json = await runItsctl(['--json', 'version'], { cwd: repo.dir });
      const doc = JSON.parse(json.stdout);
      expect(doc).toMatchObject({
        current: '1.2.0',
        next: '1.3.0',
        tag: 'v1.3.0',
        bump: 'minor',
        lastTag: 'v1.2.0',
        releasable: true,
        branch: 'main',
      });
      expect(doc.commits).toHaveLength(3);
    }));

  it('develop: a pre-release numbered by commits since the release', () =>
    withTempRepo(async (repo) => {
      releasedHistory(repo);
      repo.git('checkout', '--quiet', '-b', 'develop');
      repo.commit('chore: deps');
      expect((await runItsctl(['version'], { cwd: repo.dir })).stdout).toBe('1.3.0-develop.4\n');
      expect((await runItsctl(['version', '--branch', 'release/1.3'], { cwd: repo.dir })).stdout).toBe(
        '1.3.0-rc.4\n',
      );
    }));

  it('a breaking change → major; a pre-release tag is not the base', () =>
    withTempRepo(async (repo) => {
      releasedHistory(repo);
      repo.tag('v1.3.0-rc.1');
      repo.commit('refactor: config', 'BREAKING CHANGE: DATABASE_URL is required');
      repo.git(
        'commit',
        '--quiet',
        '--allow-empty',
        '--message',
        'refactor!: config',
        '--message',
        'BREAKING CHANGE: DATABASE_URL is required',
      );
      expect((await runItsctl(['version'], { cwd: repo.dir })).stdout).toBe('2.0.0\n');
    }));

  it('no tag yet: 0.1.0; nothing releasable: the current version and a note', () =>
    withTempRepo(async (repo) => {
      repo.commit('feat: start');
      expect((await runItsctl(['version'], { cwd: repo.dir })).stdout).toBe('0.1.0\n');
      repo.tag('v0.1.0');
      repo.commit('docs: more');
      const result = await runItsctl(['version'], { cwd: repo.dir });
      expect(result.stdout).toBe('0.1.0\n');
      expect(result.stderr).toMatch(/no release needed/);
    }));

  it('an empty repository → exit 2 naming the fix', () =>
    withTempRepo(async (repo) => {
      const result = await runItsctl(['version'], { cwd: repo.dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/no commits yet: make a first commit/);
    }));

  it('not a repository → exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'itsctl-nogit-'));
    try {
      const result = await runItsctl(['version'], { cwd: dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/not inside a git work tree/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a shallow clone → exit 2 telling how to unshallow', () =>
    withTempRepo(async (repo) => {
      releasedHistory(repo);
      const clone = mkdtempSync(join(tmpdir(), 'itsctl-shallow-'));
      try {
        execFileSync('git', ['clone', '--quiet', '--depth', '1', `file://${repo.dir}`, clone]);
        const result = await runItsctl(['--json', 'version'], { cwd: clone });
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(/shallow clone/);
        expect(result.stderr).toMatch(/fetch-depth: 0/);
        expect(JSON.parse(result.stdout).error).toMatchObject({ kind: 'config' });
      } finally {
        rmSync(clone, { recursive: true, force: true });
      }
    }));
});

describe('itsctl release', () => {
  it('--dry-run shows the section and the steps and writes nothing', () =>
    withTempRepo(async (repo) => {
      releasedHistory(repo);
      const head = repo.git('rev-parse', 'HEAD');
      const result = await runItsctl(['release', '--dry-run'], {
        cwd: repo.dir,
        env: { SOURCE_DATE_EPOCH: '1767225600' },
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Would release v1.3.0/);
      expect(result.stdout).toContain('## 1.3.0 (2026-01-01)');
      expect(result.stdout).toContain('### Features');
      expect(result.stdout).toContain('* **vision:** lane zones');
      expect(result.stdout).toMatch(/git tag --annotate --cleanup=verbatim v1.3.0/);
      expect(existsSync(join(repo.dir, 'CHANGELOG.md'))).toBe(false);
      expect(repo.git('tag', '--list')).toBe('v1.2.0');
      expect(repo.git('rev-parse', 'HEAD')).toBe(head);
    }));

  it('writes CHANGELOG.md, commits it and creates an annotated tag', () =>
    withTempRepo(async (repo) => {
      releasedHistory(repo);
      writeFileSync(join(repo.dir, 'CHANGELOG.md'), '# Changelog\n\n## 1.2.0 (2025-01-01)\n\n* older\n');
      repo.git('add', 'CHANGELOG.md');
      repo.git('commit', '--quiet', '--message', 'docs: changelog');
      repo.git('remote', 'add', 'origin', 'git@github.com:acme/its-camera-ai.git');
      const result = await runItsctl(['--json', 'release'], {
        cwd: repo.dir,
        env: { SOURCE_DATE_EPOCH: '1767225600' },
      });
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({
        released: true,
        tag: 'v1.3.0',
        push: 'git push --atomic origin HEAD refs/tags/v1.3.0',
      });
      const changelog = readFileSync(join(repo.dir, 'CHANGELOG.md'), 'utf8');
      expect(
        changelog.indexOf(
          '## [1.3.0](https://github.com/acme/its-camera-ai/compare/v1.2.0...v1.3.0) (2026-01-01)',
        ),
      ).toBeGreaterThan(0);
      expect(changelog.indexOf('## 1.3.0')).toBe(-1);
      expect(changelog.indexOf('[1.3.0]')).toBeLessThan(changelog.indexOf('## 1.2.0'));
      expect(repo.git('cat-file', '-t', 'v1.3.0')).toBe('tag');
      expect(repo.git('log', '-1', '--format=%s')).toBe('chore(release): v1.3.0');
      expect(repo.git('tag', '--list', '--format=%(contents)', 'v1.3.0')).toContain('### Bug Fixes');
      expect(repo.git('status', '--porcelain')).toBe('');
      // Released: nothing more to release.
      const again = await runItsctl(['release'], { cwd: repo.dir });
      expect(again.code).toBe(0);
      expect(again.stderr).toMatch(/nothing to release/);
    }));

  it('refuses a dirty working tree (all problems reported together)', () =>
    withTempRepo(async (repo) => {
      releasedHistory(repo);
      writeFileSync(join(repo.dir, 'stray.txt'), 'x');
      const result = await runItsctl(['release'], { cwd: repo.dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/uncommitted changes \(\?\? stray.txt\): commit or stash them/);
      expect(repo.git('tag', '--list')).toBe('v1.2.0');
      const dry = await runItsctl(['release', '--dry-run'], { cwd: repo.dir });
      expect(dry.code).toBe(0);
      expect(dry.stderr).toMatch(/a real release would refuse/);
    }));

  it('refuses a tag that already exists', () =>
    withTempRepo(async (repo) => {
      releasedHistory(repo);
      repo.git('checkout', '--quiet', '-b', 'side', 'v1.2.0');
      repo.commit('feat: elsewhere');
      repo.tag('v1.3.0');
      repo.git('checkout', '--quiet', 'main');
      const result = await runItsctl(['release'], { cwd: repo.dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/tag v1.3.0 already exists/);
    }));

  it('a failing git step is exit 1 naming the command', () =>
    withTempRepo(async (repo) => {
      releasedHistory(repo);
      // A pre-commit hook that fails makes the release commit fail after the changelog is written.
      writeFileSync(
        join(repo.dir, '.git', 'hooks', 'pre-commit'),
        '#!/bin/sh\necho hook says no >&2\nexit 1\n',
        { mode: 0o755 },
      );
      const result = await runItsctl(['release'], { cwd: repo.dir });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /git commit --message chore\(release\): v1.3.0 -- CHANGELOG.md failed: hook says no/,
      );
      expect(repo.git('tag', '--list')).toBe('v1.2.0');
    }));
});
