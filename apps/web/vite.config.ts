/**
 * Builds the browser client (src/client) into dist/public, which the Node server serves.
 * `npm run dev -w @its/web` serves the client with hot reload and answers /config.json itself.
 */
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

// The dev server has no Fastify in front of it, so it answers the one dynamic route itself.
function devClientConfig(): Plugin {
  return {
    name: 'its-dev-client-config',
    configureServer(server) {
      server.middlewares.use('/config.json', (_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            apiBaseUrl: process.env.API_PUBLIC_URL ?? 'http://localhost:8000',
            version: 'dev',
          }),
        );
      });
    },
  };
}

export default defineConfig({
  root: new URL('./src/client', import.meta.url).pathname,
  // Workspace packages (@its/contracts) resolve to their TypeScript sources, as in tests.
  resolve: { conditions: ['source', ...defaultClientConditions] },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  plugins: [devClientConfig()],
  build: {
    outDir: new URL('./dist/public', import.meta.url).pathname,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // The chart and page code is small; one warning threshold that means something for this app.
    chunkSizeWarningLimit: 300,
  },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
});
