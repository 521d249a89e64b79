/** `itsctl publish`: registered in commands/index.ts. */
import { readFile } from 'node:fs/promises';
import { collect, log, writeResult, type CommandModule } from '../../cli/io.js';
import { environmentRepository } from '@its/registry/names';

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
        // The registry client and the publish, SBOM and signing code are loaded here, not at the top, so
        // registering every command stays cheap (`itsctl --help`).
        const { attachSbom, createDockerRunner, openRegistry, planPublish, publishImage, signImage } =
          await import('@its/registry');
        const { client, settings } = await openRegistry(io.env, { log: (line) => log(io, line) });
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
