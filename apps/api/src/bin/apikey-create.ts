/**
 * `npm run -w @its/api apikey:create -- --name worker [--json]`
 * Creates an API key in the configured store (DATABASE_URL, or the embedded store under DATA_DIR) and
 * prints it once. The embedded store is single-process: stop the API first, or use the admin endpoint.
 */
import { parseArgs } from 'node:util';
import { createApiKey } from '../auth/api-keys.js';
import { loadConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { createStore } from '../store/create-store.js';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { name: { type: 'string' }, json: { type: 'boolean', default: false } },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\nusage: apikey:create -- --name <name> [--json]`);
    return 2;
  }
  const name = values.name?.trim();
  if (!name || name.length > 120) {
    console.error(
      '--name: required, 1 to 120 characters (e.g. --name worker)\nusage: apikey:create -- --name <name> [--json]',
    );
    return 2;
  }
  const config = loadConfig();
  const store = await createStore({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  try {
    await store.migrate();
    const created = await createApiKey(store.repo, name);
    if (values.json) console.log(JSON.stringify(created));
    else {
      console.log(`API key "${created.name}" created (id ${created.id}, prefix ${created.prefix}).`);
      console.log('Store it now; it is not shown again:');
      console.log(created.key);
    }
    return 0;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(
      err instanceof ConfigError ? err.message : `apikey:create failed: ${(err as Error).message}`,
    );
    process.exit(1);
  },
);
