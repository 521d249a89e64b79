import { z } from 'zod';
import { EnvironmentSchema } from './environment-schema.js';

/** Where the repository keeps it, next to the files it describes (each names it in its first line). */
export const ENVIRONMENT_JSON_SCHEMA_FILE = 'deploy/environments/environment.schema.json';

/**
 * The JSON Schema of an environment file, generated from the zod schema (the one place its fields are
 * defined), for editors: `# yaml-language-server: $schema=./environment.schema.json` at the top of a
 * file gives completion, defaults and checks while typing. Cross-field rules (weights rising, stack
 * tiers) exist only in zod; `itsctl deploy --dry-run` reports them.
 */
export function environmentJsonSchema(): string {
  const schema = z.toJSONSchema(EnvironmentSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify(
    {
      ...schema,
      $id: 'https://its-camera-ai.local/schemas/environment.schema.json',
      title: 'ITS Camera AI environment file (deploy/environments/<name>.yml)',
      description:
        'Generated from packages/deploy/src/config/environment-schema.ts by `npm run schema`; every field, its default and why: packages/deploy/docs/deploy.md.',
    },
    null,
    2,
  )}\n`;
}
