import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_JSON_SCHEMA_FILE, environmentJsonSchema } from './environment-json-schema.js';

const root = join(import.meta.dirname, '..', '..', '..', '..');
const dir = join(root, 'deploy', 'environments');

describe('the environment files’ JSON Schema', () => {
  it('is committed exactly as the zod schema generates it (run `npm run schema` after changing the schema)', () => {
    expect(readFileSync(join(root, ENVIRONMENT_JSON_SCHEMA_FILE), 'utf8')).toBe(environmentJsonSchema());
  });

  it('names every field with its default, and refuses unknown fields', () => {
    const schema = JSON.parse(environmentJsonSchema()) as {
      properties: Record<string, { properties?: Record<string, { default?: unknown }> }>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(schema.required).toEqual(expect.arrayContaining(['app', 'image', 'router']));
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.router!.properties!.bind!.default).toBe('127.0.0.1');
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['strategy', 'watch', 'healthChecks', 'accessories', 'secrets', 'stack']),
    );
  });

  it('is referenced from the first line of every environment file', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yml'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text.split('\n')[0], f).toBe('# yaml-language-server: $schema=./environment.schema.json');
      expect(parse(text), f).toBeTypeOf('object');
    }
  });
});
