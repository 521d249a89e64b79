/** `itsctl sign keygen|image|verify` and `itsctl sbom`: registered in commands/index.ts. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Option } from 'commander';
import { ConfigError, UsageError } from '@its/core';
import { log, writeResult, type CliIo, type CommandModule } from '../../cli/io.js';
import {
  ENVIRONMENTS,
  environmentRepositories,
  environmentRepository,
  isDigest,
  type Environment,
} from '@its/registry/names';

// The registry client, signing and SBOM code are loaded inside the actions, not at the top, so
// registering every command stays cheap (`itsctl --help`).
const loadRegistry = () => import('@its/registry');

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

interface TargetOptions {
  env: Environment;
  tag?: string;
  digest?: string;
}

function reference(options: TargetOptions): string {
  const ref = options.digest ?? options.tag;
  if (!ref) throw new UsageError('--tag or --digest: say which image');
  if (options.digest && !isDigest(options.digest))
    throw new UsageError(`--digest ${options.digest}: should be sha256:<64 hex>`);
  return ref;
}

const envOption = () =>
  new Option('--env <env>', 'environment repository').choices([...ENVIRONMENTS]).default('development');

export const signCommand: CommandModule = {
  register(program, io) {
    const sign = program.command('sign').summary('image signatures by digest (ECDSA P-256, cosign layout)');

    sign
      .command('keygen')
      .summary('write a new key pair: cosign.key (PKCS#8, mode 600) and cosign.pub')
      .requiredOption('--out <dir>', 'directory for the two files')
      .action(async (options: { out: string }, command) => {
        const { generateSigningKeyPair, keyFingerprint } = await loadRegistry();
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
      .addOption(envOption())
      .option('--tag <tag>', 'tag to resolve')
      .option('--digest <digest>', 'digest to sign')
      .option('--key <path>', 'PEM private key (default: $ITS_SIGNING_KEY_FILE)')
      .action(async (options: TargetOptions & { key?: string }, command) => {
        const key = await readKey(options.key, 'ITS_SIGNING_KEY_FILE', io, 'signing key');
        const [{ openRegistry }, { signImage }] = await Promise.all([loadRegistry(), loadRegistry()]);
        const { client, settings } = await openRegistry(io.env);
        const repository = environmentRepository(settings.image, options.env);
        const digest = (await client.getManifest(repository, reference(options))).digest;
        const signed = await signImage(client, repository, digest, key);
        writeResult(io, command, signed, `signed ${repository}@${digest} (${signed.tag})`);
      });

    sign
      .command('verify')
      .summary('verify an image signature (exit 1 when missing or invalid)')
      .addOption(envOption())
      .option('--tag <tag>', 'tag to verify')
      .option('--digest <digest>', 'digest to verify')
      .option('--key <path>', 'PEM public key (default: $ITS_SIGNING_PUBLIC_KEY_FILE)')
      .action(async (options: TargetOptions & { key?: string }, command) => {
        const key = await readKey(options.key, 'ITS_SIGNING_PUBLIC_KEY_FILE', io, 'public key');
        const [{ openRegistry }, { verifyImageSignature }] = await Promise.all([
          loadRegistry(),
          loadRegistry(),
        ]);
        const { client, settings } = await openRegistry(io.env);
        const repository = environmentRepository(settings.image, options.env);
        const verified = await verifyImageSignature(client, repository, reference(options), [key], {
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

export const sbomCommand: CommandModule = {
  register(program, io) {
    program
      .command('sbom')
      .summary(
        'generate a CycloneDX 1.5 SBOM from an image in the registry and attach it (or print the attached one)',
      )
      .addOption(envOption())
      .option('--tag <tag>', 'tag of the image')
      .option('--digest <digest>', 'digest of the image')
      .option('--show', 'print the SBOM already attached instead of generating one')
      .action(async (options: TargetOptions & { show?: boolean }, command) => {
        const [{ openRegistry }, { attachSbom, readSbom }] = await Promise.all([
          loadRegistry(),
          import('@its/registry'),
        ]);
        const { client, settings } = await openRegistry(io.env);
        const repository = environmentRepository(settings.image, options.env);
        const digest = (await client.getManifest(repository, reference(options))).digest;
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
