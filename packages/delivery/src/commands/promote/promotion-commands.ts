/** `itsctl promote` and `itsctl record`: registered in cli/commands/index.ts. */
import { Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { ConfigError, UsageError } from '@its/core';
import { collect, log, writeResult, type CliIo, type CommandModule } from '../../cli/io.js';
import { ENVIRONMENTS, isEnvironment, type Environment } from '@its/registry/names';

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

// The record store (zod) and the registry client are loaded inside the actions, not at the top, so
// registering every command stays cheap (`itsctl --help`).
export async function storeFor(io: CliIo, path?: string) {
  const { defaultRecordStorePath, openRecordStore } = await import('@its/registry');
  return openRecordStore(path ?? defaultRecordStorePath(io.env, io.cwd));
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
        const [{ openRegistry }, { promoteImage }] = await Promise.all([
          import('@its/registry'),
          import('@its/registry'),
        ]);
        const source = await openRegistry(io.env);
        const target = options.targetRegistry
          ? await openRegistry(io.env, { registry: options.targetRegistry })
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
            store: await storeFor(io, options.records),
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

interface RecordOptions {
  env?: string;
  digest?: string;
  kind?: 'gate' | 'deploy';
  name?: string;
  result?: 'pass' | 'fail';
  detail?: string;
  list?: boolean;
  records?: string;
}

export const recordCommand: CommandModule = {
  register(program, io) {
    program
      .command('record')
      .summary('record a gate or deploy result for an image digest (the evidence promotion asks for)')
      .option('--env <env>', `environment the result is about (${ENVIRONMENTS.join(', ')})`)
      .option('--digest <digest>', 'image digest, sha256:…')
      .addOption(
        new Option('--kind <kind>', 'what produced the result').choices(['gate', 'deploy']).default('gate'),
      )
      .option('--name <name>', 'gate or deployment name, e.g. e2e, smoke, rolling')
      .addOption(new Option('--result <result>', 'the result').choices(['pass', 'fail']))
      .option('--detail <text>', 'free text, e.g. a report URL')
      .option('--list', 'print the records (filtered by --digest/--env) instead of writing one')
      .option('--records <path>', 'gate record file (default: $ITS_STATE_DIR/delivery/records.json)')
      .addHelpText(
        'after',
        `
Examples:
  $ itsctl record --env development --digest sha256:… --name unit --result pass
  $ itsctl record --list --digest sha256:… --json`,
      )
      .action(async (options: RecordOptions, command) => {
        const store = await storeFor(io, options.records);
        if (options.list) {
          const records = await store.list({
            ...(options.digest ? { digest: options.digest } : {}),
            ...(options.env ? { environment: options.env } : {}),
          });
          writeResult(
            io,
            command,
            { records },
            records
              .map((r) => `${r.at} ${r.environment} ${r.kind} ${r.name} ${r.result} ${r.digest}`)
              .join('\n'),
          );
          return;
        }
        const missing = (['env', 'digest', 'name', 'result'] as const)
          .filter((k) => !options[k])
          .map((k) => `--${k}`);
        if (missing.length)
          throw new UsageError(`${missing.join(', ')}: required to record a result`, {
            fix: 'see `itsctl record --help`',
          });
        if (!isEnvironment(options.env!))
          throw new UsageError(`--env ${options.env}: should be one of ${ENVIRONMENTS.join(', ')}`);
        const record = {
          digest: options.digest!,
          environment: options.env,
          kind: options.kind ?? 'gate',
          name: options.name!,
          result: options.result!,
          at: io.now().toISOString(),
          ...(options.detail ? { detail: options.detail } : {}),
        };
        const { gateRecordSchema } = await import('@its/registry');
        const parsed = gateRecordSchema.safeParse(record);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new UsageError(`--${String(issue.path[0])}: ${issue.message}`);
        }
        await store.append(parsed.data);
        writeResult(
          io,
          command,
          { record: parsed.data, store: store.path },
          `recorded ${record.kind} ${record.name} ${record.result} for ${record.digest} in ${record.environment}`,
        );
      });
  },
};
