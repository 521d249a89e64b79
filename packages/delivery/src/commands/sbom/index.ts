/**
 * `itsctl sbom`: registered in commands/index.ts. The registry client and the SBOM code are loaded
 * inside the action, not at the top, so registering every command stays cheap (`itsctl --help`).
 */
import { UsageError } from '@its/core';
import { log, writeResult, type CommandModule } from '../../cli/io.js';
import { environmentRepository } from '@its/registry/names';
import {
  environmentRepositoryOption,
  imageReference,
  type ImageTargetOptions,
} from '../shared/image-target.js';

export const sbomCommand: CommandModule = {
  register(program, io) {
    program
      .command('sbom')
      .summary(
        'generate a CycloneDX 1.5 SBOM from an image in the registry and attach it (or print the attached one)',
      )
      .addOption(environmentRepositoryOption())
      .option('--tag <tag>', 'tag of the image')
      .option('--digest <digest>', 'digest of the image')
      .option('--show', 'print the SBOM already attached instead of generating one')
      .action(async (options: ImageTargetOptions & { show?: boolean }, command) => {
        const { attachSbom, openRegistry, readSbom } = await import('@its/registry');
        const { client, settings } = await openRegistry(io.env, { log: (line) => log(io, line) });
        const repository = environmentRepository(settings.image, options.env);
        const digest = (await client.getManifest(repository, imageReference(options))).digest;
        if (options.show) {
          const sbom = await readSbom(client, repository, digest);
          if (!sbom)
            throw new UsageError(`${repository}@${digest} has no SBOM attached`, {
              fix: 'generate one with `itsctl sbom` (without --show)',
            });
          io.stdout(`${JSON.stringify(sbom, null, 2)}\n`);
          return;
        }
        const attached = await attachSbom(client, repository, digest, { now: io.now });
        log(io, `attached ${attached.length} SBOM(s) to ${repository}@${digest}`);
        writeResult(
          io,
          command,
          attached.map((a) => ({
            subject: a.subject,
            platform: a.platform,
            components: a.components,
            referrer: a.referrer.digest,
          })),
          attached
            .map((a) => `${a.subject} ${a.platform ?? ''} ${a.components} components → ${a.referrer.digest}`)
            .join('\n'),
        );
      });
  },
};
