import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Git } from '../src/git/run-git.js';
import { type Env, readTagContext } from '../src/tags/read-context.js';

const SHA = '266574110acf203503badf966df2ea24b5d732d7';
const HEAD_SHA = '3370e228f2209994d57af4427fe64e71bb79ac96';
const dir = mkdtempSync(join(tmpdir(), 'read-context-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function eventFile(name: string, payload: unknown): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(payload));
  return path;
}

/** A git that records what it is asked and knows one local repository: branch `local`, origin/HEAD main. */
function fakeGit(): { git: Git; asked: string[] } {
  const asked: string[] = [];
  const answers: Record<string, string> = {
    'symbolic-ref --quiet HEAD': 'refs/heads/local',
    'rev-parse HEAD': 'abcdef0123456789abcdef0123456789abcdef01',
    'symbolic-ref --quiet refs/remotes/origin/HEAD': 'refs/remotes/origin/main',
  };
  const git: Git = async (args) => {
    const command = args.join(' ');
    asked.push(command);
    const answer = answers[command];
    if (answer === undefined) throw new Error(`git ${command}: not in this fake`);
    return answer;
  };
  return { git, asked };
}

/** pull_request_target runs on the base branch: GITHUB_REF is refs/heads/master, the PR is in the payload. */
const pullRequestTarget: Env = {
  GITHUB_ACTIONS: 'true',
  GITHUB_EVENT_NAME: 'pull_request_target',
  GITHUB_REF: 'refs/heads/master',
  GITHUB_SHA: SHA,
  GITHUB_REPOSITORY: 'docker/test-docker-action',
  GITHUB_EVENT_PATH: eventFile('pull_request_target', {
    action: 'opened',
    number: 15,
    pull_request: { number: 15, head: { sha: HEAD_SHA }, base: { ref: 'master' } },
    repository: { default_branch: 'master' },
  }),
};

describe('readTagContext: pull requests whose ref is not refs/pull/…', () => {
  it('pull_request_target: the pull request’s merge ref from the payload’s number, its base branch', async () => {
    const context = await readTagContext(pullRequestTarget, fakeGit().git, {});
    expect(context).toMatchObject({
      eventName: 'pull_request_target',
      ref: 'refs/pull/15/merge',
      sha: SHA,
      pullRequestBaseRef: 'master',
    });
  });

  it('pull_request_target with DOCKER_METADATA_PR_HEAD_SHA: the head commit', async () => {
    const context = await readTagContext(
      { ...pullRequestTarget, DOCKER_METADATA_PR_HEAD_SHA: 'true' },
      fakeGit().git,
      {},
    );
    expect(context.sha).toBe(HEAD_SHA);
  });

  it('pull_request_review_comment with only pull_request.number in the payload', async () => {
    const env = {
      ...pullRequestTarget,
      GITHUB_EVENT_NAME: 'pull_request_review_comment',
      GITHUB_EVENT_PATH: eventFile('review', { pull_request: { number: 7, base: { ref: 'develop' } } }),
    };
    expect(await readTagContext(env, fakeGit().git, {})).toMatchObject({
      ref: 'refs/pull/7/merge',
      pullRequestBaseRef: 'develop',
    });
  });

  it('a pull_request event keeps its own refs/pull/… ref; --ref wins over the payload', async () => {
    const env = { ...pullRequestTarget, GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/15/merge' };
    expect((await readTagContext(env, fakeGit().git, {})).ref).toBe('refs/pull/15/merge');
    expect((await readTagContext(pullRequestTarget, fakeGit().git, { ref: 'refs/heads/x' })).ref).toBe(
      'refs/heads/x',
    );
  });

  it('other events carrying a pull request (issue_comment) keep their ref, as in the action', async () => {
    const env = {
      ...pullRequestTarget,
      GITHUB_EVENT_NAME: 'issue_comment',
      GITHUB_EVENT_PATH: eventFile('comment', { issue: { number: 3, pull_request: {} } }),
    };
    expect((await readTagContext(env, fakeGit().git, {})).ref).toBe('refs/heads/master');
  });

  it('pull_request_target without a number in the payload is a config error with the fix', async () => {
    const env = { ...pullRequestTarget, GITHUB_EVENT_PATH: eventFile('no-number', { action: 'opened' }) };
    await expect(readTagContext(env, fakeGit().git, {})).rejects.toThrow(
      /pull_request_target: the event payload has no pull request number/,
    );
  });
});

describe('readTagContext: a GitHub context never falls back to the local repository for ref and sha', () => {
  it('GITHUB_ACTIONS=true without GITHUB_REF: no ref, no sha, and git is not asked for them', async () => {
    const { git, asked } = fakeGit();
    const context = await readTagContext({ GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'push' }, git, {});
    expect(context).toMatchObject({ eventName: 'push', ref: '', sha: '' });
    expect(asked).not.toContain('symbolic-ref --quiet HEAD');
    expect(asked).not.toContain('rev-parse HEAD');
  });

  it('GITHUB_ACTIONS=true alone (no event name either) is still a GitHub context', async () => {
    const { git, asked } = fakeGit();
    const context = await readTagContext({ GITHUB_ACTIONS: 'true' }, git, {});
    expect(context).toMatchObject({ eventName: '', ref: '' });
    expect(asked).not.toContain('symbolic-ref --quiet HEAD');
  });

  it('source=workflow reads the (empty) runner variables even when none are set', async () => {
    const { git, asked } = fakeGit();
    const context = await readTagContext({}, git, { source: 'workflow' });
    expect(context).toMatchObject({ eventName: '', ref: '', sha: '' });
    expect(asked).not.toContain('symbolic-ref --quiet HEAD');
  });

  it('no runner variables: a local run, from git', async () => {
    const context = await readTagContext({}, fakeGit().git, {});
    expect(context).toMatchObject({
      eventName: 'push',
      ref: 'refs/heads/local',
      sha: 'abcdef0123456789abcdef0123456789abcdef01',
      defaultBranch: 'main',
    });
  });

  it('source=git reads git even on a runner', async () => {
    const context = await readTagContext(pullRequestTarget, fakeGit().git, { source: 'git' });
    expect(context).toMatchObject({ eventName: 'push', ref: 'refs/heads/local' });
  });

  it('a ref that is none of heads, tags or pull is still refused', async () => {
    await expect(
      readTagContext({ GITHUB_ACTIONS: 'true', GITHUB_REF: 'main' }, fakeGit().git, {}),
    ).rejects.toThrow(/ref 'main' is not refs\/heads/);
  });
});
