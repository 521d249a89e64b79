#!/usr/bin/env node
// Launcher for `itsctl`. In the repository (src/ present) it runs the TypeScript sources through tsx
// with the "source" export condition, so `npx itsctl` works right after `npm install`, without a build.
// Installed from a package (no src/), it runs the compiled dist/.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'bin', 'itsctl.ts');
const compiled = join(root, 'dist', 'bin', 'itsctl.js');

if (existsSync(source) && process.env.ITSCTL_USE_DIST !== '1') {
  let tsx;
  try {
    tsx = import.meta.resolve('tsx');
  } catch {
    process.stderr.write(
      'itsctl: tsx is not installed; run `npm install` at the repository root, or build with `npm run build -w @its/delivery` and set ITSCTL_USE_DIST=1\n',
    );
    process.exit(70);
  }
  const result = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', tsx, source, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  if (result.error) {
    process.stderr.write(`itsctl: ${result.error.message}\n`);
    process.exit(70);
  }
  process.exit(result.status ?? (result.signal ? 128 : 70));
} else {
  await import(pathToFileURL(compiled).href);
}
