/** `itsctl publish` and `itsctl registry status|index|prune`: registered in cli/commands/index.ts. */
import { readFile } from 'node:fs/promises';
import { Option } from 'commander';
import { UsageError } from '@its/core';
import { collect, log, writeResult, type CommandModule } from '../../cli/io.js';
import { ENVIRONMENTS, environmentRepository, type Environment } from '@its/registry/names';
import { storeFor } from '../promote/promotion-commands.js';

// The registry client and the publish/prune/sign code are loaded inside the actions, not at the top,
// so registering every command stays cheap (`itsctl --help`).
const loadOpenRegistry = () => import('@its/registry');

interface PublishOptions {
  image: string;
  tag?: string[];
  sbom?: boolean;
  signKey?: string;
  dryRun?: boolean;
}

export const publishCommand: CommandModule = {
  register(program, io) {
    program
      .command('publish')
      .summary('push a built local image to $DOCKER_REGISTRY/$IMAGE_NAME/development and print its digest')
      .requiredOption('--image <ref>', 'local image reference, e.g. its-camera-ai:build-abc123')
      .option('--tag <tag>', 'tag to push (repeatable)', collect)
      .option('--sbom', 'also generate a CycloneDX SBOM and attach it as an OCI referrer')
      .option('--sign-key <path>', 'also sign the digest with this PEM private key (itsctl sign keygen)')
      .option('--dry-run', 'print the docker commands without running them')
      .addHelpText(
        'after',
        `
Examples:
  $ itsctl publish --image its-camera-ai:local --tag v1.2.3 --tag v1.2.3-production
  $ itsctl publish --image its-camera-ai:local --tag v1.2.3 --sbom --sign-key .state/keys/cosign.key --json`,
      )
      .action(async (options: PublishOptions, command) => {
        const [{ openRegistry }, { createDockerRunner, planPublish, publishImage }] = await Promise.all([
          loadOpenRegistry(),
          import('@its/registry'),
        ]);
        const { client, settings } = await openRegistry(io.env);
        const plan = planPublish({
          localRef: options.image,
          registry: settings.registry,
          image: settings.image,
          tags: options.tag ?? [],
        });
        if (options.dryRun) {
          writeResult(io, command, plan, plan.commands.map((c) => `docker ${c.join(' ')}`).join('\n'));
          return;
        }
        await client.ping();
        const result = await publishImage(plan, {
          docker: createDockerRunner(io.env.DOCKER_BIN),
          registry: settings.registry,
        });
        log(io, `pushed ${result.digest}`);
        const repository = environmentRepository(settings.image, 'development');
        const extras: Record<string, unknown> = {};
        if (options.sbom) {
          const { attachSbom } = await import('@its/registry');
          const sboms = await attachSbom(client, repository, result.digest, { now: io.now });
          extras.sbom = sboms.map((s) => ({
            subject: s.subject,
            platform: s.platform,
            components: s.components,
            referrer: s.referrer.digest,
          }));
          log(io, `attached SBOM (${sboms.map((s) => s.components).join('+')} components)`);
        }
        if (options.signKey) {
          const { signImage } = await import('@its/registry');
          const signed = await signImage(
            client,
            repository,
            result.digest,
            await readFile(options.signKey, 'utf8'),
          );
          extras.signature = { tag: signed.tag, manifest: signed.signatureManifest.digest };
          log(io, `signed ${result.digest}`);
        }
        writeResult(io, command, { ...result, repository, ...extras }, result.digest);
      });
  },
};

interface PruneOptions {
  keep: string;
  apply?: boolean;
  running?: string[];
  records?: string;
  env?: Environment[];
}

export const registryCommand: CommandModule = {
  register(program, io) {
    const registry = program
      .command('registry')
      .summary('the image registry: status, multi-arch indexes, retention');

    registry
      .command('status')
      .summary('check that $DOCKER_REGISTRY answers and list the tags of each environment repository')
      .action(async (_options: unknown, command) => {
        const { openRegistry } = await loadOpenRegistry();
        const { client, settings } = await openRegistry(io.env);
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

    registry
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
        const [{ openRegistry }, { assembleIndex }] = await Promise.all([
          loadOpenRegistry(),
          import('@its/registry'),
        ]);
        const { client, settings } = await openRegistry(io.env);
        const repository = environmentRepository(settings.image, options.env);
        const index = await assembleIndex(client, repository, options.from, options.tag);
        writeResult(
          io,
          command,
          { digest: index.digest, mediaType: index.mediaType, manifests: index.manifests, repository },
          `${index.digest}\n${index.manifests.map((m) => `  ${m.platform?.os}/${m.platform?.architecture} ${m.digest}`).join('\n')}`,
        );
      });

    registry
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
        const [{ openRegistry }, { applyPrune, planRegistryPrune, runningDigests }] = await Promise.all([
          loadOpenRegistry(),
          import('@its/registry'),
        ]);
        const { client, settings } = await openRegistry(io.env);
        await client.ping();
        const fromRecords = runningDigests(await (await storeFor(io, options.records)).list());
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
