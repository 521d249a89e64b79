import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

// Fault tests that disturb the whole machine (they restart the Docker daemon): never run with the
// other suites. `npm run test:fault` (root) runs them, one file at a time, from the repository root.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['packages/delivery/fault/**/*.fault.test.ts'],
    fileParallelism: false,
    outputFile: { junit: 'reports/junit/fault.xml' },
  },
});
