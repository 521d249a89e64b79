import { type Git, tryGit } from '../git/run-git.js';
import { remoteToHtmlUrl } from '../tags/read-context.js';
import { type History, checkRepository, readHistory } from './read-history.js';
import { type VersionPlan, planVersion } from './plan-version.js';

/** The thin layer between the version commands and the pure planner: check, read, plan. */

export interface VersionOptions {
  branch?: string;
  stableBranches?: string;
  channel?: string;
  stable?: boolean;
  releaseAs?: string;
}

export async function resolveVersion(
  git: Git,
  env: Readonly<Record<string, string | undefined>>,
  options: VersionOptions,
  requireClean: boolean,
): Promise<{ history: History; plan: VersionPlan }> {
  await checkRepository(git, { requireClean });
  const history = await readHistory(git, {
    ...(options.branch !== undefined ? { branch: options.branch } : {}),
    env,
  });
  const plan = planVersion({
    lastTag: history.lastTag,
    commits: history.commits,
    branch: history.branch,
    stableBranches: (options.stableBranches ?? 'main,master')
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b !== ''),
    ...(options.releaseAs !== undefined ? { releaseAs: options.releaseAs } : {}),
    ...(options.stable
      ? { channel: false as const }
      : options.channel !== undefined
        ? { channel: options.channel }
        : {}),
  });
  return { history, plan };
}

export async function readRepoUrl(
  git: Git,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string | undefined> {
  if (env.GITHUB_REPOSITORY)
    return `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY}`;
  const remote = await tryGit(git, ['remote', 'get-url', 'origin']);
  return remote === undefined ? undefined : remoteToHtmlUrl(remote);
}
