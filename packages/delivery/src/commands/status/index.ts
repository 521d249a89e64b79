/**
 * `itsctl status`: registered in commands/index.ts. The deploy engine (better-sqlite3, zod, yaml) is
 * loaded inside the action, not at the top, so registering every command stays cheap (`itsctl --help`).
 */
import { type CommandModule, writeResult } from '../../cli/io.js';
import { deployContext } from '../shared/deploy-context.js';

export const statusCommand: CommandModule = {
  register(program, io) {
    program
      .command('status')
      .summary("an environment's serving version, replicas, router state and lock")
      .requiredOption('-e, --env <environment>', 'environment')
      .addHelpText('after', '\nExample:\n  $ itsctl status -e development --json')
      .action(async (flags: { env: string }, command) => {
        const { renderStatus, status } = await import('@its/deploy');
        const report = await status(deployContext(io), flags.env);
        writeResult(io, command, report, renderStatus(report));
      });
  },
};
