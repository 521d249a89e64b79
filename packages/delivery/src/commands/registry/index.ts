/**
 * `itsctl registry status|index|prune`: registered in commands/index.ts. The registry client and the
 * index and prune code are loaded inside the actions, not at the top, so registering every command stays
 * cheap (`itsctl --help`).
 */
import { Option } from 'commander';
import { UsageError } from '@its/core';
import { collect, log, writeResult, type CommandModule } from '../../cli/io.js';
import { ENVIRONMENTS, environmentRepository, type Environment } from '@its/registry/names';
import { openGateRecords } from '../shared/gate-records.js';

interface PruneOptions {
  keep: string;
  apply?: boolean;
  running?: string[];
  records?: string;
  env?: Environment[];
}

export const registryCommand: CommandModule = {
  register(program, io) {
    const group = program
      .command('registry')
      .summary('the image registry: status, multi-arch indexes, retention');

    group
      .command('status')
      .summary('check that $DOCKER_REGISTRY answers and list the tags of each environment repository')
      .action(async (_options: unknown, command) => {
        const { openRegistry } = await import('@its/registry');
        const { client, settings } = await openRegistry(io.env, { log: (line) => log(io, line) });
        await client.ping();
        const repositories: Record<string, string[]> = {};
        for (const env of ENVIRONMENTS)
          repositories[environmentRepository(settings.image, env)] = await client.listTags(
            environmentRepository(settings.image, env),
          );
        writeResult(
          io,
          command,
          { registry: settings.registry, repositories },
          [
            `registry ${settings.registry}: up`,
            ...Object.entries(repositories).map(([r, t]) => `${r}: ${t.length} tags`),
          ].join('\n'),
        );
      });

    group
      .command('index')
      .summary('assemble a multi-architecture index from per-platform images already in the registry')
      .addOption(
        new Option('--env <env>', 'environment repository holding the images')
          .choices([...ENVIRONMENTS])
          .default('development'),
      )
      .requiredOption('--tag <tag>', 'tag for the index')
      .requiredOption('--from <ref>', 'per-platform image tag or digest (repeatable)', collect)
      .addHelpText(
        'after',
        '\nExample:\n  $ itsctl registry index --tag v1.2.3 --from v1.2.3-amd64 --from v1.2.3-arm64',
      )
      .action(async (options: { env: Environment; tag: string; from: string[] }, command) => {
        const { assembleIndex, openRegistry } = await import('@its/registry');
        const { client, settings } = await openRegistry(io.env, { log: (line) => log(io, line) });
        const repository = environmentRepository(settings.image, options.env);
        const index = await assembleIndex(client, repository, options.from, options.tag);
        writeResult(
          io,
          command,
          { digest: index.digest, mediaType: index.mediaType, manifests: index.manifests, repository },
          `${index.digest}\n${index.manifests.map((m) => `  ${m.platform?.os}/${m.platform?.architecture} ${m.digest}`).join('\n')}`,
        );
      });

    group
      .command('prune')
      .summary(
        'delete old images: keep the newest N per environment and everything running (dry run unless --apply)',
      )
      .option('--keep <n>', 'images to keep per environment repository', '10')
      .option('--apply', 'delete (without it, only print what would be deleted)')
      .option(
        '--running <digest>',
        'digest some environment runs now, in addition to the deploy records (repeatable)',
        collect,
      )
      .option('--records <path>', 'gate record file (default: $ITS_STATE_DIR/delivery/records.json)')
      .addHelpText(
        'after',
        `
Deleting manifests frees no disk by itself: run \`scripts/registry.sh gc\` afterwards.
Examples:
  $ itsctl registry prune --keep 5
  $ itsctl registry prune --keep 5 --apply --json`,
      )
      .action(async (options: PruneOptions, command) => {
        const keep = Number(options.keep);
        if (!Number.isInteger(keep) || keep < 0)
          throw new UsageError(`--keep ${options.keep}: should be a whole number ≥ 0`);
        const registry = await import('@its/registry');
        const { applyPrune, openRegistry, planRegistryPrune, runningDigests } = registry;
        const { client, settings } = await openRegistry(io.env, { log: (line) => log(io, line) });
        await client.ping();
        const fromRecords = runningDigests(await openGateRecords(registry, io, options.records).list());
        const running = new Set([...fromRecords.values(), ...(options.running ?? [])]);
        const plan = await planRegistryPrune(client, { image: settings.image, keep, running });
        const outcome = options.apply ? await applyPrune(client, plan) : undefined;
        const verb = options.apply ? 'deleted' : 'would delete';
        const lines = plan.remove.map(
          (r) => `${verb} ${r.repository}@${r.digest} (${r.tags.join(', ') || 'untagged'})`,
        );
        lines.push(
          `${plan.keep.length} kept, ${plan.remove.length} ${verb}${options.apply ? '' : ' (dry run; --apply deletes)'}`,
        );
        writeResult(
          io,
          command,
          { dryRun: !options.apply, keep: plan.keep, remove: plan.remove, deleted: outcome?.deleted ?? 0 },
          lines.join('\n'),
        );
      });
  },
};
