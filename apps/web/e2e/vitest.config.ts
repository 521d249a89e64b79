import { defineConfig } from 'vitest/config';

// The end-to-end suite: the real dashboard and API in Debian's Chromium and Firefox ESR at three
// viewports. Its own invocation (`npm run test:e2e`): the stack starts once (global setup) and the
// browser files run one after the other, so two browsers never fight over two CPU cores.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    root: new URL('../../..', import.meta.url).pathname,
    include: ['apps/web/e2e/**/*.e2e.test.ts'],
    globalSetup: ['apps/web/e2e/support/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default', 'junit'] : ['default'],
    outputFile: { junit: 'reports/junit/e2e.xml' },
  },
});
