/**
 * `npm run -w @its/api apikey:create -- --name worker [--scopes ingest,read] [--json]`
 * Creates an API key in the configured store (DATABASE_URL, or the embedded store under DATA_DIR) and
 * prints it once. The embedded store is single-process: stop the API first, or use the admin endpoint.
 * Exit 2 for a usage error (missing name, unknown scope) or an embedded store held by another process
 * (the running API: the message names it), 1 when the store fails.
 */
import { issueApiKey } from '../auth/api-key-store.js';
import { parseApiKeyCliArgs } from '../auth/apikey-cli-args.js';
import { loadConfig } from '../config.js';
import { DataDirLockedError, StoreUnreadableError } from '../db/store-errors.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createStore } from '../store/create-store.js';

async function main(): Promise<number> {
  const parsed = parseApiKeyCliArgs(process.argv.slice(2));
  if ('error' in parsed) {
    console.error(parsed.error);
    return 2;
  }
  const { name, scopes, json } = parsed.args;
  const config = loadConfig();
  const store = await createStore({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    // stderr: stdout carries the key (and only the key's JSON with --json).
    logger: createLogger('warn', process.stderr),
  });
  try {
    await store.migrate();
    const created = await issueApiKey(store.db, { name, scopes });
    if (json) console.log(JSON.stringify(created));
    else {
      console.log(
        `API key "${created.name}" created (id ${created.id}, prefix ${created.prefix}, scopes ${created.scopes.join(', ')}).`,
      );
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
    if (err instanceof DataDirLockedError) {
      console.error(`apikey:create failed: ${err.message}`);
      process.exit(2);
    }
    console.error(
      err instanceof ConfigError || err instanceof StoreUnreadableError
        ? err.message
        : `apikey:create failed: ${(err as Error).message}`,
    );
    process.exit(1);
  },
);
