/**
 * The API process: load config, migrate, listen; on SIGTERM/SIGINT shut down gracefully and exit 0.
 * Exit 2: a bad variable, or the embedded store's directory held by another process; 1: anything else.
 */
import { loadConfig } from './config.js';
import { DataDirLockedError, StoreUnreadableError } from './db/store-errors.js';
import { ConfigError } from './errors.js';
import { createRuntime } from './runtime.js';
import { shutDown } from './shutdown.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const runtime = await createRuntime(config);
  const { app, logger } = runtime;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info(
      { signal, timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
      'shutting down: no new connections, finishing in-flight requests',
    );
    void shutDown(runtime, {
      timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      forceClose: () => app.server.closeAllConnections(),
      log: (msg) => logger.warn(msg),
    }).then((code) => {
      logger.info({ code }, 'stopped');
      logger.flush?.();
      process.exit(code);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await app.listen({ port: config.PORT, host: config.HOST });
}

main().catch((err: unknown) => {
  // The store's own errors say what to do; a stack would only bury that.
  if (err instanceof DataDirLockedError) {
    console.error(`api failed to start: ${err.message}`);
    process.exit(2);
  }
  if (err instanceof StoreUnreadableError) {
    console.error(`api failed to start: ${err.message}`);
    process.exit(1);
  }
  console.error(`api failed to start: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
