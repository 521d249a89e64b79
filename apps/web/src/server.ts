/**
 * Entry point: `node dist/server.js` (or `npm start -w @its/web`). Listens on HOST:PORT and shuts down
 * gracefully on SIGTERM/SIGINT so a rolling deployment never cuts a page load in half.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWebApp } from './app.js';
import { WebConfigError, loadWebConfig } from './config.js';

// Bounded so a stuck keep-alive connection cannot hold a deployment hostage.
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadWebConfig(process.env);
  } catch (err) {
    if (err instanceof WebConfigError) {
      console.error(`web: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  // dist/server.js → dist/public (vite build output); src/server.ts under tsx → ../dist/public.
  const here = dirname(fileURLToPath(import.meta.url));
  const publicDir =
    process.env.WEB_PUBLIC_DIR ?? join(here, here.endsWith('src') ? '../dist/public' : 'public');
  const app = await buildWebApp({ config, publicDir });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.log.error('shutdown grace period exceeded; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error while closing');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  await app.listen({ host: config.host, port: config.port });
  app.log.info(
    `dashboard on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port} (API ${config.apiPublicUrl})`,
  );
}

void main().catch((err: unknown) => {
  console.error('web: failed to start:', err);
  process.exit(1);
});
