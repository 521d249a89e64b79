#!/usr/bin/env node
// `npm start`: run ITS Camera AI on this machine with its embedded defaults (no database or Redis
// server needed): install dependencies if missing or stale, build, start the API (8000) and the dashboard
// (3000) bound to 127.0.0.1, print their URLs, and stop both cleanly on Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const step = (msg) => console.log(`\n▸ ${msg}`);
const runOrExit = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(
      `✗ ${cmd} ${args.join(' ')} failed (exit ${r.status}). Fix the error above and run \`npm start\` again.`,
    );
    process.exit(r.status ?? 1);
  }
};

// The shared setup (scripts/setup.sh deps): npm ci when node_modules is missing or differs from the
// lockfile; it says so itself, and does nothing when it is current.
runOrExit('bash', [join(root, 'scripts', 'setup.sh'), 'deps']);
step('building');
runOrExit('npm', ['run', 'build']);

const apiPort = process.env.API_PORT ?? '8000';
const webPort = process.env.WEB_PORT ?? '3000';
const host = process.env.HOST ?? '127.0.0.1';
const apiUrl = `http://localhost:${apiPort}`;
const children = [
  spawn(process.execPath, ['apps/api/dist/server.js'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PORT: apiPort, HOST: host },
  }),
  spawn(process.execPath, ['apps/web/dist/server.js'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PORT: webPort, HOST: host, API_PUBLIC_URL: process.env.API_PUBLIC_URL ?? apiUrl },
  }),
];

async function waitHealthy(url, name) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not become healthy at ${url} within 60 s; see its log above.`);
}

let stopping = false;
const stop = (code) => {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode === null ? c.once('exit', r) : r())))).then(
    () => process.exit(code),
  );
};
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
for (const c of children)
  c.on('exit', (code) => !stopping && (console.error(`a service exited (${code}); stopping`), stop(1)));

try {
  await Promise.all([
    waitHealthy(`${apiUrl}/health`, 'API'),
    waitHealthy(`http://localhost:${webPort}/health`, 'dashboard'),
  ]);
  console.log(`\n✓ ITS Camera AI is running (embedded store under ./data; Ctrl-C stops it)
  dashboard  http://localhost:${webPort}
  API        ${apiUrl}   (docs: ${apiUrl}/docs, health: ${apiUrl}/health/ready)`);
} catch (err) {
  console.error(`✗ ${err.message}`);
  stop(1);
}
