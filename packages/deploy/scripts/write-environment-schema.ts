/**
 * `npm run schema`: writes deploy/environments/environment.schema.json from the zod schema. A unit test
 * (environment-json-schema.test.ts) fails while the committed file differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ENVIRONMENT_JSON_SCHEMA_FILE,
  environmentJsonSchema,
} from '../src/config/environment-json-schema.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
writeFileSync(join(root, ENVIRONMENT_JSON_SCHEMA_FILE), environmentJsonSchema());
console.log(`wrote ${ENVIRONMENT_JSON_SCHEMA_FILE}`);
