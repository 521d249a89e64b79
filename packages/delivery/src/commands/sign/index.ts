/**
 * `itsctl sign keygen|image|verify`: registered in commands/index.ts. The registry client and the
 * signing code are loaded inside the actions, not at the top, so registering every command stays cheap
 * (`itsctl --help`).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, UsageError } from '@its/core';
import { log, writeResult, type CliIo, type CommandModule } from '../../cli/io.js';
import { environmentRepositories, environmentRepository } from '@its/registry/names';
import {
  environmentRepositoryOption,
  imageReference,
  type ImageTargetOptions,
} from '../shared/image-target.js';

async function readKey(path: string | undefined, envName: string, io: CliIo, what: string): Promise<string> {
  const file = path ?? io.env[envName];
  if (!file) throw new UsageError(`no ${what} given`, { fix: `pass --key <path> or set ${envName}` });
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${what} ${file}: ${(error as Error).message}`, {
      fix: 'generate a pair with `itsctl sign keygen --out <dir>`',
    });
  }
}

export const signCommand: CommandModule = {
  register(program, io) {
    const sign = program.command('sign').summary('image signatures by digest (ECDSA P-256, cosign layout)');

    sign
      .command('keygen')
      .summary('write a new key pair: cosign.key (PKCS#8, mode 600) and cosign.pub')
      .requiredOption('--out <dir>', 'directory for the two files')
      .action(async (options: { out: string }, command) => {
        const { generateSigningKeyPair, keyFingerprint } = await import('@its/registry');
        const pair = generateSigningKeyPair();
        await mkdir(options.out, { recursive: true });
        const privatePath = join(options.out, 'cosign.key');
        const publicPath = join(options.out, 'cosign.pub');
        await writeFile(privatePath, pair.privateKeyPem, { mode: 0o600, flag: 'wx' }).catch(
          (error: NodeJS.ErrnoException) => {
            if (error.code === 'EEXIST')
              throw new UsageError(`${privatePath} exists; refusing to overwrite a key`, {
                fix: 'choose another --out directory',
              });
            throw error;
          },
        );
        await writeFile(publicPath, pair.publicKeyPem, { mode: 0o644 });
        const fingerprint = keyFingerprint(pair.publicKeyPem);
        writeResult(
          io,
          command,
          { privateKey: privatePath, publicKey: publicPath, fingerprint },
          `${privatePath}\n${publicPath}\nfingerprint ${fingerprint}`,
        );
      });

    sign
      .command('image')
      .summary('sign an image digest in an environment repository')
      .addOption(environmentRepositoryOption())
      .option('--tag <tag>', 'tag to resolve')
      .option('--digest <digest>', 'digest to sign')
      .option('--key <path>', 'PEM private key (default: $ITS_SIGNING_KEY_FILE)')
      .action(async (options: ImageTargetOptions & { key?: string }, command) => {
        const key = await readKey(options.key, 'ITS_SIGNING_KEY_FILE', io, 'signing key');
        const { openRegistry, signImage } = await import('@its/registry');
        const { client, settings } = await openRegistry(io.env, { log: (line) => log(io, line) });
        const repository = environmentRepository(settings.image, options.env);
        const digest = (await client.getManifest(repository, imageReference(options))).digest;
        const signed = await signImage(client, repository, digest, key);
        writeResult(io, command, signed, `signed ${repository}@${digest} (${signed.tag})`);
      });

    sign
      .command('verify')
      .summary('verify an image signature (exit 1 when missing or invalid)')
      .addOption(environmentRepositoryOption())
      .option('--tag <tag>', 'tag to verify')
      .option('--digest <digest>', 'digest to verify')
      .option('--key <path>', 'PEM public key (default: $ITS_SIGNING_PUBLIC_KEY_FILE)')
      .action(async (options: ImageTargetOptions & { key?: string }, command) => {
        const key = await readKey(options.key, 'ITS_SIGNING_PUBLIC_KEY_FILE', io, 'public key');
        const { openRegistry, verifyImageSignature } = await import('@its/registry');
        const { client, settings } = await openRegistry(io.env, { log: (line) => log(io, line) });
        const repository = environmentRepository(settings.image, options.env);
        const verified = await verifyImageSignature(client, repository, imageReference(options), [key], {
          allowedRepositories: environmentRepositories(settings.image),
        });
        writeResult(
          io,
          command,
          verified,
          `verified ${repository}@${verified.digest}: signed by ${verified.keyFingerprint} as ${verified.identity}`,
        );
      });
  },
};
