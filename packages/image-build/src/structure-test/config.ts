/**
 * The container-structure-test configuration, schema version 2.0.0, validated with zod. Field names and
 * defaults follow GoogleContainerTools/container-structure-test so existing configs work unchanged:
 * fileExistenceTests default to shouldExist: true; uid/gid are only checked when given.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '@its/core';

const EnvVar = z
  .object({
    key: z.string().min(1, 'must not be empty'),
    value: z.string(),
    isRegex: z.boolean().default(false),
  })
  .strict();
const Argv = z.array(z.string()).min(1, 'must hold at least the command');

export const CommandTest = z
  .object({
    name: z.string().min(1, 'every test needs a name'),
    command: z.string().min(1, 'the command to run'),
    args: z.array(z.string()).default([]),
    envVars: z.array(EnvVar.omit({ isRegex: true })).default([]),
    setup: z.array(Argv).default([]),
    teardown: z.array(Argv).default([]),
    expectedOutput: z.array(z.string()).default([]),
    excludedOutput: z.array(z.string()).default([]),
    expectedError: z.array(z.string()).default([]),
    excludedError: z.array(z.string()).default([]),
    /** 0 by default, as in the original tool: a command test expects success unless told otherwise. */
    exitCode: z.number().int().default(0),
  })
  .strict();
export type CommandTest = z.output<typeof CommandTest>;

export const FileExistenceTest = z
  .object({
    name: z.string().min(1, 'every test needs a name'),
    path: z.string().min(1, 'the path to check'),
    shouldExist: z.boolean().default(true),
    /** Go's FileMode.String() form, e.g. -rwxr-xr-x or drwxr-xr-x. */
    permissions: z
      .string()
      .regex(
        /^[dalTLDpSugct?-]*[r-][w-][xsS-][r-][w-][xsS-][r-][w-][xtT-]$/,
        'use the ls-style form, e.g. -rw-r--r--',
      )
      .optional(),
    uid: z.number().int().min(-1).optional(),
    gid: z.number().int().min(-1).optional(),
    isExecutableBy: z.enum(['any', 'owner', 'group', 'other']).optional(),
  })
  .strict();
export type FileExistenceTest = z.output<typeof FileExistenceTest>;

export const FileContentTest = z
  .object({
    name: z.string().min(1, 'every test needs a name'),
    path: z.string().min(1, 'the file to read'),
    expectedContents: z.array(z.string()).default([]),
    excludedContents: z.array(z.string()).default([]),
  })
  .strict();
export type FileContentTest = z.output<typeof FileContentTest>;

export const MetadataTest = z
  .object({
    env: z.array(EnvVar).default([]),
    labels: z.array(EnvVar).default([]),
    exposedPorts: z.array(z.string().min(1)).default([]),
    unexposedPorts: z.array(z.string().min(1)).default([]),
    volumes: z.array(z.string().min(1)).default([]),
    unmountedVolumes: z.array(z.string().min(1)).default([]),
    entrypoint: z.array(z.string()).optional(),
    cmd: z.array(z.string()).optional(),
    workdir: z.string().optional(),
    user: z.string().optional(),
  })
  .strict();
export type MetadataTest = z.output<typeof MetadataTest>;

export const StructureTestConfig = z
  .object({
    schemaVersion: z.literal('2.0.0', {
      message: 'must be "2.0.0" (the only schema this runner implements)',
    }),
    globalEnvVars: z.array(EnvVar.omit({ isRegex: true })).default([]),
    commandTests: z.array(CommandTest).default([]),
    fileExistenceTests: z.array(FileExistenceTest).default([]),
    fileContentTests: z.array(FileContentTest).default([]),
    metadataTest: MetadataTest.optional(),
  })
  .strict();
export type StructureTestConfig = z.output<typeof StructureTestConfig>;

/**
 * How many times a config's YAML aliases may be expanded. A "billion laughs" document nests aliases of
 * aliases so that a few hundred bytes expand to gigabytes; a structure-test config needs a handful.
 * 100 is the yaml package's default, set here so that it is a decision: beyond it the file is refused.
 */
const MAX_YAML_ALIASES = 100;

/** Parses YAML (or JSON) text; every problem is reported with its field path, e.g. `commandTests.2.name`. */
export function parseStructureTestConfig(text: string, source: string): StructureTestConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    const message = (err as Error).message;
    if (/excessive alias count/i.test(message))
      throw new ConfigError(
        `${source}: its YAML aliases expand more than ${MAX_YAML_ALIASES} times (an alias bomb?): write the values out instead of nesting aliases`,
        { fix: 'use an alias for a value, not aliases of aliases; a structure-test config needs only a few' },
      );
    throw new ConfigError(`${source}: not valid YAML: ${message}`);
  }
  const parsed = StructureTestConfig.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`${source}: invalid structure test config\n  ${lines.join('\n  ')}`, {
      fix: 'see docker/structure-tests/*.yaml for examples of schemaVersion 2.0.0',
    });
  }
  return parsed.data;
}
