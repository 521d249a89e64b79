// One-shot job for compose: makes sure the vision worker has an API key with KEY_SCOPES (default
// ingest,read: what the worker calls). If KEY_FILE already holds a key the API accepts with those scopes,
// nothing changes; otherwise it creates one through POST /api/v1/admin/api-keys (Authorization: Bearer
// ADMIN_TOKEN) and writes it to KEY_FILE (mode 0600) for the worker to read.
import { readFile, writeFile, rename } from 'node:fs/promises';

const apiUrl = (process.env.API_URL ?? 'http://api:8000').replace(/\/$/, '');
const keyFile = process.env.KEY_FILE ?? '/run/its/vision-api-key';
const adminToken = process.env.ADMIN_TOKEN;
const keyName = process.env.KEY_NAME ?? 'vision-worker';
const scopes = (process.env.KEY_SCOPES ?? 'ingest,read')
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '');

function fail(message) {
  console.error(`provision-key: ${message}`);
  process.exit(1);
}

if (!adminToken) fail('ADMIN_TOKEN is not set: set it (same value) on the api and this job');

const existing = await readFile(keyFile, 'utf8').then(
  (s) => s.trim(),
  () => '',
);
if (existing) {
  // 204: valid with every scope; 401: unknown or revoked; 403: valid but lacking a scope.
  const res = await fetch(`${apiUrl}/api/v1/auth/check?scopes=${encodeURIComponent(scopes.join(','))}`, {
    headers: { authorization: `Bearer ${existing}` },
    signal: AbortSignal.timeout(5000),
  }).catch(() => undefined);
  if (res && res.status === 204) {
    console.log(
      `provision-key: ${keyFile} holds a key the API accepts (${scopes.join(', ')}); nothing to do`,
    );
    process.exit(0);
  }
  console.log(
    `provision-key: the key in ${keyFile} is not accepted with scopes ${scopes.join(', ')} (status ${res?.status ?? 'none'}); creating a new one`,
  );
}

const res = await fetch(`${apiUrl}/api/v1/admin/api-keys`, {
  method: 'POST',
  headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
  body: JSON.stringify({ name: keyName, scopes }),
  signal: AbortSignal.timeout(10_000),
}).catch((err) => fail(`cannot reach ${apiUrl}: ${err.message}`));
if (res.status !== 201 && res.status !== 200)
  fail(`POST /api/v1/admin/api-keys answered ${res.status}: ${await res.text()}`);
const body = await res.json();
if (typeof body.key !== 'string' || !body.key) fail('the API answered without a key');
await writeFile(`${keyFile}.tmp`, `${body.key}\n`, { mode: 0o600 });
await rename(`${keyFile}.tmp`, keyFile);
console.log(
  `provision-key: created key ${body.prefix ?? ''}… (${keyName}; ${(body.scopes ?? scopes).join(', ')}) and wrote it to ${keyFile}`,
);
