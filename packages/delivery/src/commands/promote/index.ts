/** `itsctl promote`: registered in commands/index.ts. */
import { Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '@its/core';
import { collect, log, writeResult, type CommandModule } from '../../cli/io.js';
import { ENVIRONMENTS, type Environment } from '@its/registry/names';
import { openGateRecords } from '../shared/gate-records.js';

async function readKeyFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read public key ${path}: ${(error as Error).message}`, {
      fix: 'pass the cosign.pub written by `itsctl sign keygen`',
    });
  }
}

function environmentOption(flag: string, description: string): Option {
  return new Option(flag, description).choices([...ENVIRONMENTS]).makeOptionMandatory();
}

interface PromoteOptions {
  from: Environment;
  to: Environment;
  tag?: string[];
  digest?: string;
  extraTag?: string[];
  targetRegistry?: string;
  records?: string;
  verifyKey?: string[];
}

export const promoteCommand: CommandModule = {
  register(program, io) {
    program
      .command('promote')
      .summary(
        'copy an image by digest into the next environment (development → staging → production → release)',
      )
      .description(
        `Copies an image from one environment's repository to the next without rebuilding: the manifest
(or multi-arch index) is PUT byte for byte, blobs are mounted across repositories, SBOMs and
signatures come along, and tags are written last. Refused unless the digest has a passing gate or
deploy record in the source environment (see \`itsctl record\`).
Repositories: $IMAGE_NAME/development, $IMAGE_NAME/staging, $IMAGE_NAME/production, and $IMAGE_NAME for release.`,
      )
      .addOption(environmentOption('--from <env>', 'source environment'))
      .addOption(environmentOption('--to <env>', 'target environment (the next one)'))
      .option(
        '--tag <tag>',
        'tag to promote (resolved in the source) and to write in the target (repeatable)',
        collect,
      )
      .option('--digest <digest>', 'promote this digest; --tag then names the target tags only')
      .option(
        '--extra-tag <tag>',
        'tag written only in the target, e.g. latest on release (repeatable)',
        collect,
      )
      .option('--target-registry <host>', 'registry of the target environment (default: DOCKER_REGISTRY)')
      .option('--records <path>', 'gate record file (default: $ITS_STATE_DIR/delivery/records.json)')
      .option(
        '--verify-key <path>',
        'refuse unless signed by this PEM public key (repeatable; default: $ITS_SIGNING_PUBLIC_KEY_FILE when set)',
        collect,
      )
      .addHelpText(
        'after',
        `
Examples:
  $ itsctl promote --from development --to staging --tag v1.2.3
  $ itsctl promote --from production --to release --tag v1.2.3 --extra-tag latest --json
  $ itsctl promote --from staging --to production --digest sha256:… --tag v1.2.3`,
      )
      .action(async (options: PromoteOptions, command) => {
        // The registry client and the record store (zod) are loaded here, not at the top, so registering
        // every command stays cheap (`itsctl --help`).
        const registry = await import('@its/registry');
        const { openRegistry, promoteImage } = registry;
        const source = await openRegistry(io.env, { log: (line) => log(io, line) });
        const target = options.targetRegistry
          ? await openRegistry(io.env, { registry: options.targetRegistry, log: (line) => log(io, line) })
          : source;
        await source.client.ping();
        if (target !== source) await target.client.ping();
        const keyFiles =
          options.verifyKey ??
          (io.env.ITS_SIGNING_PUBLIC_KEY_FILE ? [io.env.ITS_SIGNING_PUBLIC_KEY_FILE] : []);
        const requireSignatureKeys = await Promise.all(keyFiles.map((f) => readKeyFile(f)));
        const result = await promoteImage(
          {
            image: source.settings.image,
            from: options.from,
            to: options.to,
            tags: options.tag ?? [],
            digest: options.digest,
            extraTags: options.extraTag ?? [],
            requireSignatureKeys,
          },
          {
            source: source.client,
            target: target.client,
            store: openGateRecords(registry, io, options.records),
            now: io.now,
            log: (line) => log(io, line),
          },
        );
        const where = `${target.client.registry}/${result.to.repository}`;
        writeResult(
          io,
          command,
          { ...result, registry: target.client.registry },
          `${result.digest}\n${result.to.tags.map((t) => `${where}:${t}`).join('\n')}\n` +
            `(${result.stats.manifests} manifests, ${result.stats.blobsMounted} blobs mounted, ${result.stats.blobsCopied} copied, ${result.stats.referrers} referrers)`,
        );
      });
  },
};
