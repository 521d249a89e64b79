import { resolve } from 'node:path';
import { ConfigError, StepFailedError } from '@its/core';
import { type CommandModule, writeResult } from '../../cli/io.js';

export const workflowsCommand: CommandModule = {
  register(program, io) {
    const workflows = program.command('workflows').summary('check the GitHub workflow files');
    workflows
      .command('check')
      .description(
        `Validates .github/workflows/*.yml against GitHub's workflow schema and our rules: actions pinned to
a full commit SHA with a # vX.Y.Z comment, read-only top-level permissions, a concurrency group for
every job that deploys to an environment.`,
      )
      .option('--dir <path>', 'the workflows directory', '.github/workflows')
      .addHelpText(
        'after',
        '\nExamples:\n  $ itsctl workflows check\n  $ itsctl workflows check --dir other/workflows --json',
      )
      .action(async (options: { dir: string }, command) => {
        // Loaded here, not at the top: the workflow parser is the heaviest dependency of all.
        const { checkWorkflowFiles } = await import('@its/versioning/workflows');
        const dir = resolve(io.cwd, options.dir);
        let report;
        try {
          report = await checkWorkflowFiles(dir);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
            throw new ConfigError(`--dir: ${dir} does not exist`, {
              fix: 'run from the repository root or pass --dir',
            });
          }
          throw error;
        }
        const text = report.problems.map((p) => `${p.file}: ${p.where}: ${p.message}`).join('\n');
        writeResult(
          io,
          command,
          report,
          report.problems.length === 0 ? `${report.files.length} workflow file(s) OK` : text,
        );
        // The count is said once, by runCli's error line (it used to be logged here and then thrown).
        if (report.problems.length > 0) {
          throw new StepFailedError(`workflow check failed: ${report.problems.length} problem(s) in ${dir}`, {
            fix: 'fix each problem listed above',
          });
        }
      });
  },
};
