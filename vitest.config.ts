import { defineConfig } from 'vitest/config';

// One config for the whole workspace. Files named *.int.test.ts talk to real servers
// (PostgreSQL, Redis, ffmpeg, browsers); *.test.ts are unit tests.
// The "source" condition makes workspace packages resolve to their TypeScript sources,
// so tests never depend on a prior build.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    // scripts/: the repository's own entry points (setup, the README's commands on a fresh clone).
    include: ['{apps,packages}/*/{src,test}/**/*.test.ts', 'scripts/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default', 'junit'] : ['default'],
    outputFile: { junit: 'reports/junit/vitest.xml' },
    coverage: {
      provider: 'v8',
      reporter: ['text-summary', 'json-summary', 'lcov'],
      reportsDirectory: 'coverage',
      include: ['apps/*/src/**/*.ts', 'packages/*/src/**/*.ts'],
      exclude: [
        '**/*.test.ts',
        '**/*.d.ts',
        '**/src/bin/**',
        '**/src/server.ts',
        'apps/web/src/client/**',
        'packages/testkit/**',
      ],
      thresholds: { lines: 90 },
    },
  },
});
