import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real git repository in a temporary directory, for tests that read git's answers. */
export interface TempRepo {
  dir: string;
  git: (...args: string[]) => string;
  commit: (message: string, file?: string) => string;
  tag: (name: string, message?: string) => void;
  remove: () => void;
}

const ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
};

let counter = 0;

export function createTempRepo(branch = 'main'): TempRepo {
  const dir = mkdtempSync(join(tmpdir(), 'itsctl-git-'));
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: dir, env: ENV, encoding: 'utf8' }).trim();
  git('init', '--quiet', '--initial-branch', branch);
  git('config', 'user.name', 'Test');
  git('config', 'user.email', 'test@example.com');
  git('config', 'commit.gpgsign', 'false');
  git('config', 'tag.gpgsign', 'false');
  return {
    dir,
    git,
    commit(message, file = `file-${++counter}.txt`) {
      writeFileSync(join(dir, file), `${message}\n${counter}\n`);
      git('add', '--', file);
      git('commit', '--quiet', '--message', message);
      return git('rev-parse', 'HEAD');
    },
    tag(name, message) {
      if (message === undefined) git('tag', name);
      else git('tag', '--annotate', name, '--message', message);
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs the test with the repository and removes it afterwards. */
export async function withTempRepo<T>(fn: (repo: TempRepo) => Promise<T> | T, branch = 'main'): Promise<T> {
  const repo = createTempRepo(branch);
  try {
    return await fn(repo);
  } finally {
    repo.remove();
  }
}
