/**
 * `itsctl retire`: registered in commands/index.ts. The deploy engine (better-sqlite3, zod, yaml) is
 * loaded inside the action, not at the top, so registering every command stays cheap (`itsctl --help`).
 */
import { type CommandModule, writeResult } from '../../cli/io.js';
import { deployContext } from '../shared/deploy-context.js';

export const retireCommand: CommandModule = {
  register(program, io) {
    program
      .command('retire')
      .summary('remove the set blue-green kept for rollback once its window has passed')
      .requiredOption('-e, --env <environment>', 'environment')
      .option('--now', 'retire it even if its rollback window has not passed')
      .addHelpText(
        'after',
        '\nExamples:\n  $ itsctl retire -e production          (from cron: a no-op until the window ends)\n  $ itsctl retire -e production --now',
      )
      .action(async (flags: { env: string; now?: boolean }, command) => {
        const { retireKept } = await import('@its/deploy');
        const result = await retireKept(deployContext(io), flags.env, flags.now === true);
        writeResult(
          io,
          command,
          result,
          result.retired.length > 0
            ? `${flags.env}: retired ${result.retired.join(', ')} (${result.reason})`
            : `${flags.env}: nothing retired: ${result.reason}`,
        );
      });
  },
};
