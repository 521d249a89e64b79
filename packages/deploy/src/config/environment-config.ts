import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, ENVIRONMENT_NAME, UsageError } from '@its/core';
import { EnvironmentSchema, stackConfigErrors, type EnvironmentConfig } from './environment-schema.js';

/**
 * An environment file (deploy/environments/<name>.yml), read and validated once at the edge against
 * config/environment-schema.ts: messages start with the field path; every error is reported at once.
 */

export interface ParsedEnvironment {
  config: EnvironmentConfig | undefined;
  errors: string[];
}

/**
 * How many times a file's aliases (`*name`) may be expanded. An environment file needs a handful; a
 * "billion laughs" document nests aliases of aliases so that a few hundred bytes expand to gigabytes.
 * 100 is the yaml package's default, set here so that it is a decision: beyond it the file is refused.
 */
const MAX_YAML_ALIASES = 100;

/** Parses and validates one environment file's text; all YAML and schema errors at once. */
export function parseEnvironment(text: string, name: string, file: string): ParsedEnvironment {
  const doc = parseDocument(text, { prettyErrors: false });
  const errors = doc.errors.map((e) => `${file}: ${e.message.split('\n')[0]}`);
  if (errors.length > 0) return { config: undefined, errors };
  let raw: unknown;
  try {
    // Aliases are resolved here: an alias bomb, or an alias to an anchor that does not exist.
    raw = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    return { config: undefined, errors: [`${file}: ${describeYamlError(error)}`] };
  }
  const parsed = EnvironmentSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      config: undefined,
      errors: parsed.error.issues.map((i) => `${file}: ${i.path.join('.') || '(root)'}: ${i.message}`),
    };
  }
  const config = { ...parsed.data, name };
  const semantic: string[] = [];
  if (config.image.requireSignature && config.image.publicKeys.length === 0)
    semantic.push(`${file}: image.publicKeys: required when image.requireSignature is true`);
  if (config.strategy.batchSize > config.replicas)
    semantic.push(
      `${file}: strategy.batchSize: ${config.strategy.batchSize} is more than replicas (${config.replicas})`,
    );
  if (config.strategy.order === 'stop-first' && config.strategy.default !== 'rolling')
    semantic.push(
      `${file}: strategy.order: stop-first works with rolling only (${config.strategy.default} runs both versions at once)`,
    );
  if (config.strategy.canary.replicas > config.replicas)
    semantic.push(
      `${file}: strategy.canary.replicas: ${config.strategy.canary.replicas} is more than replicas (${config.replicas})`,
    );
  semantic.push(...stackConfigErrors(config, file));
  if (semantic.length > 0) return { config: undefined, errors: semantic };
  return { config, errors: [] };
}

function describeYamlError(error: unknown): string {
  const message = (error as Error).message.split('\n')[0] ?? '';
  return /excessive alias count/i.test(message)
    ? `its YAML aliases expand more than ${MAX_YAML_ALIASES} times (an alias bomb?): write the values out instead of nesting aliases`
    : `not valid YAML: ${message}`;
}

/** The environments that exist: one file each under dir. */
export async function listEnvironments(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir))
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => f.replace(/\.ya?ml$/, ''))
      .sort();
  } catch {
    return [];
  }
}

/** Reads deploy/environments/<name>.yml; unknown names list what exists. */
export async function loadEnvironment(dir: string, name: string): Promise<EnvironmentConfig> {
  const known = await listEnvironments(dir);
  if (!ENVIRONMENT_NAME.test(name) || !known.includes(name))
    throw new UsageError(`unknown environment "${name}"`, {
      fix: known.length > 0 ? `use one of: ${known.join(', ')}` : `create ${join(dir, `${name}.yml`)}`,
    });
  const file = join(dir, `${name}.yml`);
  const parsed = parseEnvironment(await readFile(file, 'utf8'), name, file);
  if (!parsed.config)
    throw new ConfigError(`${parsed.errors.length} error(s) in ${file}:\n  ${parsed.errors.join('\n  ')}`, {
      fix: 'correct the fields named above (see packages/deploy/docs/deploy.md for each field and default)',
    });
  return parsed.config;
}

/** Parses KEY=VALUE env files (comments and blank lines ignored; quotes around values stripped). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line
      .slice(0, eq)
      .replace(/^export\s+/, '')
      .trim();
    let value = line.slice(eq + 1).trim();
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    out[key] = value;
  }
  return out;
}

const SECRET_KEY = /SECRET|PASSWORD|TOKEN|KEY|DSN|DATABASE_URL|REDIS_URL|WEBHOOK/i;

/** Values printed in plans and logs: secrets replaced by [REDACTED]. */
export function redactEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[REDACTED]' : v]));
}
