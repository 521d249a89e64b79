// HEALTHCHECK for every role: GETs the role's /health on loopback within 3 s; exit 0 healthy, 1 not.
// The role is read from PID 1's command line (tini -- its-entrypoint ROLE) because the healthcheck runs
// as a separate `docker exec`, which does not see the entrypoint's variables. ITS_HEALTH_URL overrides.
import { readFileSync } from 'node:fs';

const DEFAULT_URLS = {
  api: () => `http://127.0.0.1:${process.env.PORT ?? 8000}/health`,
  web: () => `http://127.0.0.1:${process.env.PORT ?? 3000}/health`,
  vision: () => `http://127.0.0.1:${process.env.METRICS_PORT ?? 9464}/health`,
};

function detectRole() {
  try {
    const argv = readFileSync('/proc/1/cmdline', 'utf8').split('\0');
    const role = argv.find((arg) => arg in DEFAULT_URLS || arg.startsWith('dev-'));
    return role?.replace(/^dev-/, '');
  } catch {
    return undefined;
  }
}

const role = process.argv[2] ?? detectRole() ?? 'api';
const url = process.env.ITS_HEALTH_URL || DEFAULT_URLS[role]?.();
if (!url) {
  console.error(`healthcheck: no health URL for role '${role}'; set ITS_HEALTH_URL`);
  process.exit(1);
}
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!res.ok) {
    console.error(`healthcheck: ${url} answered ${res.status}`);
    process.exit(1);
  }
  console.log(`healthcheck: ${url} ok`);
} catch (err) {
  console.error(`healthcheck: ${url} failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
