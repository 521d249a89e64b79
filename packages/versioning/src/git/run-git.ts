import { execFile } from 'node:child_process';
import { StepFailedError } from '@its/core';

/**
 * The one place that runs git: always an argument array, never a shell string, so a branch or tag
 * name can never be interpreted by a shell.
 */

export type Git = (args: readonly string[]) => Promise<string>;

export interface GitResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

export function runGitRaw(cwd: string, args: readonly string[]): Promise<GitResult> {
  return new Promise((resolve) => {
    execFile(
      'git',
      [...args],
      { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } },
      (error, stdout, stderr) => {
        resolve({ ok: error === null, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
  });
}

/** Runs git in `cwd`; throws StepFailedError naming the command when git fails. */
export function createGit(cwd: string): Git {
  return async (args) => {
    const result = await runGitRaw(cwd, args);
    if (!result.ok) {
      throw new StepFailedError(`git ${args.join(' ')} failed: ${result.stderr.trim() || 'no output'}`, {
        fix: `run the same git command in ${cwd} to see why`,
      });
    }
    return result.stdout.replace(/\n$/, '');
  };
}

/** Runs git and returns undefined instead of throwing: for questions whose answer may be "none". */
export async function tryGit(git: Git, args: readonly string[]): Promise<string | undefined> {
  try {
    return await git(args);
  } catch {
    return undefined;
  }
}
