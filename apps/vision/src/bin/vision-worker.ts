#!/usr/bin/env node
/** Entry point: `node dist/bin/vision-worker.js` (env-configured, see apps/vision/README.md). */
import { parseWorkerConfig, redactConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { consoleLogger, runWorker } from '../run-worker.js';

async function main(): Promise<number> {
  let config;
  try {
    config = parseWorkerConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = consoleLogger(config.LOG_LEVEL);
  log('info', `starting with ${JSON.stringify(redactConfig(config))}`);
  const running = await runWorker(config, { log });
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
  });
  log('info', 'shutting down: flushing open intervals');
  await running.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`vision worker failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
