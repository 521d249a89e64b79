import { type CommandModule, writeResult } from '../../cli/io.js';
import { deployContext } from '../shared/deploy-context.js';

export const teardownCommand: CommandModule = {
  register(program, io) {
    program
      .command('teardown')
      .summary(
        "remove an environment's containers, router and network (a stack: every tier); data volumes stay",
      )
      .description(
        // One paragraph per string: commander wraps them to the terminal's width.
        [
          'Removes everything an environment runs on the Docker Engine — replicas, its router, accessories',
          '(PostgreSQL, Redis) and leftover one-off containers, found by their labels (its.app, its.environment)',
          '— and its network. For the first environment of a stack (stack.tiers in its file) the tiers go',
          'first, in reverse order, and the API with its database last.',
        ].join(' ') +
          '\n\n' +
          [
            "Accessories' named volumes and the generated secrets stay, so the next deploy finds the same data;",
            "--volumes removes them too. The deployment history is always kept. Takes the environment's lock",
            'like a deploy. Without --yes it only shows what it would remove.',
          ].join(' '),
      )
      .requiredOption('-e, --env <environment>', 'environment (a file in deploy/environments)')
      .option('--volumes', "also delete the accessories' volumes (their data) and the generated secrets")
      .option('--yes', 'do it (without it: show what would be removed and change nothing)')
      .addHelpText(
        'after',
        `
Examples:
  $ itsctl teardown -e development                  what would be removed (nothing changes)
  $ itsctl teardown -e development --yes            stop the whole stack; the database volume stays
  $ itsctl teardown -e development --volumes --yes  everything, data included
  $ ./scripts/deploy.sh -e development              brings it back (same data unless --volumes)`,
      )
      .action(async (flags: { env: string; volumes?: boolean; yes?: boolean }, command) => {
        // Loaded here, not at the top, so registering every command stays cheap (`itsctl --help`).
        const { renderTeardown, requireConfirmation, teardown } = await import('@its/deploy');
        const result = await teardown(deployContext(io), {
          environment: flags.env,
          volumes: flags.volumes === true,
          yes: flags.yes === true,
        });
        requireConfirmation(result);
        writeResult(io, command, result, renderTeardown(result));
      });
  },
};
