import { readFile } from 'node:fs/promises';
import type { z as Zod } from 'zod';
import { ConfigError } from '@its/core';
import { type Git, tryGit } from '../git/run-git.js';
import type { RepoInfo, TagContext } from './compute-tags.js';

/**
 * Reads the world for `itsctl tags`: the GitHub Actions context on a runner, otherwise the local git
 * repository. Everything it returns is plain data for compute-tags.ts.
 *
 * On a runner the event, ref and commit come from the runner's variables and the event payload only,
 * as docker/metadata-action's `context: workflow` reads them: a run whose event has no GITHUB_REF
 * gets no ref (and the rules that need one give no tag) rather than whatever branch the checkout is
 * on. git still answers what the action asks GitHub's API for (the default branch, the commit date).
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** Where the event, ref and commit come from, as the action's `context` input: workflow or git. */
export type ContextSource = 'workflow' | 'git';

export interface ContextOverrides {
  ref?: string;
  sha?: string;
  eventName?: string;
  defaultBranch?: string;
  /** Default: `workflow` on a runner (GITHUB_ACTIONS=true, or GITHUB_EVENT_NAME set), else `git`. */
  source?: ContextSource;
}

/** The runner sets GITHUB_ACTIONS=true for every step; GITHUB_EVENT_NAME alone also counts (older callers). */
export function detectContextSource(env: Env): ContextSource {
  return env.GITHUB_ACTIONS === 'true' || (env.GITHUB_EVENT_NAME ?? '') !== '' ? 'workflow' : 'git';
}

// Only the event payload fields we use; everything else is ignored. Built on first use: zod costs
// ≈ 100 ms to load, and `itsctl tags` outside an Actions event (or its --help) never needs it.
const eventPayloadSchema = (z: typeof Zod) =>
  z
    .object({
      base_ref: z.string().nullish(),
      /** A pull_request* event's pull request number. */
      number: z.number().int().nonnegative().optional(),
      pull_request: z
        .object({
          number: z.number().int().nonnegative().optional(),
          head: z.object({ sha: z.string() }).partial().optional(),
          base: z.object({ ref: z.string() }).partial().optional(),
        })
        .optional(),
      repository: z
        .object({
          name: z.string().optional(),
          description: z.string().nullish(),
          html_url: z.string().optional(),
          default_branch: z.string().optional(),
          license: z.object({ spdx_id: z.string().nullish() }).nullish(),
        })
        .optional(),
      head_commit: z.object({ timestamp: z.string().optional() }).nullish(),
    })
    .passthrough();
type EventPayload = Zod.infer<ReturnType<typeof eventPayloadSchema>>;

async function readEventPayload(path: string | undefined): Promise<EventPayload> {
  if (path === undefined || path === '') return {};
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`GITHUB_EVENT_PATH: cannot read ${path}: ${(error as Error).message}`, {
      fix: 'point GITHUB_EVENT_PATH at the event JSON file, or unset it',
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`GITHUB_EVENT_PATH: ${path} is not JSON`, {
      fix: 'point GITHUB_EVENT_PATH at the event JSON file',
    });
  }
  const { z } = await import('zod');
  const parsed = eventPayloadSchema(z).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `GITHUB_EVENT_PATH: ${path}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
      {
        fix: 'the file must be a GitHub event payload',
      },
    );
  }
  return parsed.data;
}

/** https://github.com/o/r(.git) or git@github.com:o/r(.git) → https://github.com/o/r */
export function remoteToHtmlUrl(remote: string): string | undefined {
  const ssh = /^[\w.-]+@([\w.-]+):(.+?)(?:\.git)?$/.exec(remote);
  if (ssh) return `https://${ssh[1]}/${ssh[2]}`;
  const https = /^(?:https?|ssh|git):\/\/(?:[^@/]+@)?([^/]+)\/(.+?)(?:\.git)?\/?$/.exec(remote);
  if (https) return `https://${https[1]}/${https[2]}`;
  return undefined;
}

async function readGitDefaultBranch(git: Git): Promise<string | undefined> {
  const originHead = await tryGit(git, ['symbolic-ref', '--quiet', 'refs/remotes/origin/HEAD']);
  return originHead?.replace(/^refs\/remotes\/origin\//, '');
}

/** refs/heads/<branch> when on a branch; refs/tags/<tag> when HEAD is detached on a tag. */
async function readGitRef(git: Git): Promise<string> {
  const branch = await tryGit(git, ['symbolic-ref', '--quiet', 'HEAD']);
  if (branch !== undefined && branch !== '') return branch;
  const tags = await tryGit(git, ['tag', '--points-at', 'HEAD', '--sort=-version:refname']);
  const first = tags?.split('\n').find((t) => t !== '');
  if (first !== undefined) return `refs/tags/${first}`;
  throw new ConfigError('git: HEAD is detached and no tag points at it, so there is no ref to tag from', {
    fix: 'check out a branch or a tag, or pass --ref refs/heads/<branch> or --ref refs/tags/<tag>',
  });
}

async function readCommitDate(git: Git, sha: string): Promise<Date | undefined> {
  const iso = await tryGit(git, ['log', '-1', '--format=%cI', sha]);
  return iso === undefined || iso === '' ? undefined : new Date(iso);
}

/**
 * The pull_request* events whose GITHUB_REF is the base branch (pull_request_target) rather than the
 * pull request's merge ref: the action rewrites it to refs/pull/<number>/merge so that
 * `type=ref,event=pr` and {{base_ref}} work there. Events that merely mention a pull request
 * (issue_comment, workflow_run) keep their ref, as in the action.
 */
function pullRequestRef(eventName: string, ref: string, payload: EventPayload): string {
  if (!/^pull_request/.test(eventName) || /^refs\/pull\//.test(ref)) return ref;
  const number = payload.number ?? payload.pull_request?.number;
  if (number === undefined) {
    throw new ConfigError(`${eventName}: the event payload has no pull request number (number)`, {
      fix: 'point GITHUB_EVENT_PATH at the event JSON file, or pass --ref refs/pull/<n>/merge',
    });
  }
  return `refs/pull/${number}/merge`;
}

export async function readTagContext(env: Env, git: Git, overrides: ContextOverrides): Promise<TagContext> {
  const onGitHub = (overrides.source ?? detectContextSource(env)) === 'workflow';
  const payload = onGitHub ? await readEventPayload(env.GITHUB_EVENT_PATH) : {};
  const eventName = overrides.eventName ?? (onGitHub ? (env.GITHUB_EVENT_NAME ?? '') : 'push');

  // Local git for local runs only: on a runner an event without GITHUB_REF has no ref.
  let ref =
    overrides.ref ?? (onGitHub ? pullRequestRef(eventName, env.GITHUB_REF ?? '', payload) : undefined);
  if (ref === undefined || (!onGitHub && ref === '')) ref = await readGitRef(git);
  if (ref !== '' && !/^refs\/(heads|tags|pull)\//.test(ref)) {
    throw new ConfigError(`ref '${ref}' is not refs/heads/<branch>, refs/tags/<tag> or refs/pull/<n>/merge`, {
      fix: 'pass a full ref, e.g. --ref refs/tags/v1.2.3',
    });
  }

  let sha = overrides.sha ?? (onGitHub ? (env.GITHUB_SHA ?? '') : undefined);
  // As the action does with DOCKER_METADATA_PR_HEAD_SHA: tag the pull request's head commit, not the merge commit.
  const prHead = payload.pull_request?.head?.sha;
  if (
    overrides.sha === undefined &&
    /^pull_request/.test(eventName) &&
    env.DOCKER_METADATA_PR_HEAD_SHA === 'true' &&
    prHead
  ) {
    sha = prHead;
  }
  if (sha === undefined || (!onGitHub && sha === '')) sha = (await tryGit(git, ['rev-parse', 'HEAD'])) ?? '';
  if (sha !== '' && !/^[0-9a-f]{7,64}$/.test(sha)) {
    throw new ConfigError(`sha '${sha}' is not a hexadecimal commit id`, {
      fix: 'pass --sha <40 hex digits> or unset it',
    });
  }

  const defaultBranch =
    overrides.defaultBranch ??
    payload.repository?.default_branch ??
    (await readGitDefaultBranch(git)) ??
    'main';

  const repo: RepoInfo = {};
  const repository = payload.repository;
  if (env.GITHUB_REPOSITORY) {
    repo.name = env.GITHUB_REPOSITORY.split('/')[1] ?? env.GITHUB_REPOSITORY;
    repo.htmlUrl = `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY}`;
  } else {
    const remote = await tryGit(git, ['remote', 'get-url', 'origin']);
    const htmlUrl = remote === undefined ? undefined : remoteToHtmlUrl(remote);
    if (htmlUrl !== undefined) {
      repo.htmlUrl = htmlUrl;
      repo.name = htmlUrl.split('/').pop() ?? '';
    }
  }
  if (repository?.name) repo.name = repository.name;
  if (repository?.html_url) repo.htmlUrl = repository.html_url;
  if (repository?.description) repo.description = repository.description;
  if (repository?.license?.spdx_id) repo.license = repository.license.spdx_id;

  const context: TagContext = { eventName, ref, sha, defaultBranch, repo };
  const timestamp = payload.head_commit?.timestamp;
  const commitDate = timestamp
    ? new Date(timestamp)
    : sha === ''
      ? undefined
      : await readCommitDate(git, sha);
  if (commitDate !== undefined) context.commitDate = commitDate;
  if (payload.base_ref) context.baseRef = payload.base_ref;
  if (payload.pull_request?.base?.ref) context.pullRequestBaseRef = payload.pull_request.base.ref;
  return context;
}

/** The repository's tag names, for the highest-release decision; none when git has none. */
export async function readExistingTags(git: Git): Promise<string[]> {
  const out = await tryGit(git, ['tag', '--list']);
  return out === undefined ? [] : out.split('\n').filter((t) => t !== '');
}

/** The build's timestamp: SOURCE_DATE_EPOCH (reproducible builds) or the clock. */
export function readBuildTime(env: Env, now: () => Date): Date {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch === undefined || epoch === '') return now();
  if (!/^\d+$/.test(epoch)) {
    throw new ConfigError(`SOURCE_DATE_EPOCH: '${epoch}' is not a number of seconds since 1970`, {
      fix: 'set it to e.g. $(git log -1 --format=%ct), or unset it',
    });
  }
  return new Date(Number(epoch) * 1000);
}
