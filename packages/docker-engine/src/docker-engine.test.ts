import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '@its/core';
import type { RegistryLogin } from './registry-auth-header.js';
import { Secret } from '@its/core';
import {
  DockerEngine,
  EngineError,
  EngineVersionError,
  demultiplexLogs,
  describeEngineTarget,
  resolveEngineTarget,
} from './docker-engine.js';
import { decodeRegistryAuthHeader, registryAuthHeader } from './registry-auth-header.js';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

// 200 bytes: a size byte ≥ 0x80 (0xc8), with multi-byte UTF-8 text inside.
const head = `migration failed: relation «caméras» — ${'é'.repeat(40)}`;
const stdout = `${head}${'x'.repeat(200 - Buffer.byteLength(head))}`;

describe('EngineError', () => {
  it('says what to do about a published port someone else holds, in both wordings the engine uses', () => {
    // As Docker 20.10 printed it in a CI run (its userland proxy), and as its port allocator words it.
    const proxy = new EngineError(
      500,
      'start b44e81c2',
      'driver failed programming external connectivity on endpoint app-router (7bd0d159): Error starting userland proxy: listen tcp4 127.0.0.1:34101: bind: address already in use',
    );
    expect(proxy.fix).toBe(
      "another process or container holds 127.0.0.1:34101 — `ss -ltnp 'sport = :34101'` names a process, `docker ps --filter publish=34101` a container; stop it, or publish on another port",
    );
    const allocator = new EngineError(
      500,
      'start 1',
      'driver failed programming external connectivity on endpoint x: Bind for 127.0.0.1:8080 failed: port is already allocated',
    );
    expect(allocator.fix).toMatch(/holds 127\.0\.0\.1:8080 — `ss -ltnp 'sport = :8080'`/);
    expect(new EngineError(404, 'inspect x', 'No such container: x').fix).toBeUndefined();
  });
});

describe('demultiplexLogs', () => {
  it('reads frames of 128 bytes and more with non-ASCII text', () => {
    expect(Buffer.byteLength(stdout)).toBe(200);
    const body = Buffer.concat([frame(1, stdout), frame(2, 'erreur: déjà vu ✗\n')]);
    expect(demultiplexLogs(body)).toBe(`${stdout}erreur: déjà vu ✗\n`);
  });

  it('keeps a character split across two frames', () => {
    const bytes = Buffer.from('é', 'utf8');
    const a = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 1]), bytes.subarray(0, 1)]);
    const b = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 1]), bytes.subarray(1)]);
    expect(demultiplexLogs(Buffer.concat([a, b]))).toBe('é');
  });

  it('is undefined for a body that is not a frame stream (TTY output) or is cut short', () => {
    expect(demultiplexLogs(Buffer.from('plain tty output\n'))).toBeUndefined();
    expect(demultiplexLogs(frame(1, stdout).subarray(0, 100))).toBeUndefined();
    expect(demultiplexLogs(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('DockerEngine.logs', () => {
  let server: Server | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('demultiplexes the raw body bytes the engine sends', async () => {
    dir = mkdtempSync(join(tmpdir(), 'engine-logs-'));
    const socketPath = join(dir, 'docker.sock');
    const body = Buffer.concat([frame(1, stdout), frame(2, 'échec ✗\n')]);
    server = createServer((req, res) => {
      if (req.url === '/version') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ApiVersion: '1.41', MinAPIVersion: '1.12', Version: '20.10.24' }));
        return;
      }
      expect(req.url).toMatch(/^\/v1\.41\/containers\/abc\/logs\?stdout=true&stderr=true/);
      res.writeHead(200, { 'content-type': 'application/vnd.docker.raw-stream' });
      res.end(body);
    });
    await new Promise<void>((resolve) => server!.listen(socketPath, resolve));
    expect(await new DockerEngine({ socketPath }).logs('abc')).toBe(`${stdout}échec ✗\n`);
  });
});

/**
 * A tiny daemon on a unix socket that answers /version with a range and refuses versioned paths
 * outside it with Docker's own 400 message; every request is recorded (path, headers, body).
 */
async function fakeDaemon(range: { max: string; min: string; version?: string }) {
  const dir = mkdtempSync(join(tmpdir(), 'engine-negotiate-'));
  const socketPath = join(dir, 'docker.sock');
  const seen: Array<{ method: string; url: string; headers: Record<string, unknown>; body: string }> = [];
  const state = { ...range };
  const num = (v: string) => Number(v.split('.')[1]);
  const srv = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'api-version': state.max });
        res.end(JSON.stringify(value));
      };
      if (req.url === '/version')
        return json(200, { ApiVersion: state.max, MinAPIVersion: state.min, Version: state.version ?? 'x' });
      const v = /^\/v1\.(\d+)\//.exec(req.url ?? '');
      if (v && Number(v[1]) < num(state.min))
        return json(400, {
          message: `client version 1.${v[1]} is too old. Minimum supported API version is ${state.min}, please upgrade your client to a newer version`,
        });
      if (req.url?.includes('/networks/create')) return json(201, { Id: 'n1' });
      if (req.url?.includes('/networks/')) return json(404, { message: 'network not found' });
      if (req.url?.includes('/images/create')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"status":"Pulling"}\n{"status":"Done"}\n');
      }
      return json(200, []);
    });
  });
  await new Promise<void>((resolve) => srv.listen(socketPath, resolve));
  return {
    socketPath,
    seen,
    state,
    close: () =>
      new Promise<void>((resolve) =>
        srv.close(() => (rmSync(dir, { recursive: true, force: true }), resolve())),
      ),
  };
}

describe('DockerEngine API negotiation', () => {
  let daemon: Awaited<ReturnType<typeof fakeDaemon>> | undefined;
  afterEach(async () => {
    await daemon?.close();
    daemon = undefined;
  });

  it('asks once, then speaks the highest common version on every request (Docker 29: 1.52)', async () => {
    daemon = await fakeDaemon({ max: '1.52', min: '1.44', version: '29.0.4' });
    const engine = new DockerEngine({ socketPath: daemon.socketPath });
    await engine.listContainers({ 'its.app': 'a' });
    await engine.listContainers({ 'its.app': 'b' });
    expect(daemon.seen.map((r) => r.url.split('?')[0])).toEqual([
      '/version',
      '/v1.52/containers/json',
      '/v1.52/containers/json',
    ]);
    expect(await engine.apiVersion()).toBe('1.52');
  });

  it('speaks 1.41 to Docker 20.10 and sends CheckDuplicate only there', async () => {
    daemon = await fakeDaemon({ max: '1.41', min: '1.12' });
    await new DockerEngine({ socketPath: daemon.socketPath }).ensureNetwork('n', { 'its.app': 'a' });
    const create = daemon.seen.find((r) => r.url === '/v1.41/networks/create')!;
    expect(JSON.parse(create.body)).toEqual({
      Name: 'n',
      Driver: 'bridge',
      CheckDuplicate: true,
      Labels: { 'its.app': 'a' },
    });
    await daemon.close();
    daemon = await fakeDaemon({ max: '1.52', min: '1.44' });
    await new DockerEngine({ socketPath: daemon.socketPath }).ensureNetwork('n', { 'its.app': 'a' });
    const modern = daemon.seen.find((r) => r.url === '/v1.52/networks/create')!;
    expect(JSON.parse(modern.body)).toEqual({ Name: 'n', Driver: 'bridge', Labels: { 'its.app': 'a' } });
  });

  it('refuses a daemon older than 1.41 before sending anything else, naming both ranges', async () => {
    daemon = await fakeDaemon({ max: '1.30', min: '1.12', version: '17.06.0' });
    const engine = new DockerEngine({ socketPath: daemon.socketPath });
    const error = await engine.createContainer('x', { Image: 'i' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineVersionError);
    expect((error as EngineVersionError).message).toMatch(
      /Docker Engine 17\.06\.0 speaks API 1\.12–1\.30; itsctl speaks Docker Engine API 1\.41–1\.52 \(at unix:\/\//,
    );
    expect((error as EngineVersionError).fix).toMatch(/upgrade Docker Engine to 20\.10 or newer/);
    expect(daemon.seen.map((r) => r.url)).toEqual(['/version']);
  });

  it('honours a valid DOCKER_API_VERSION and rejects one the daemon refuses', async () => {
    daemon = await fakeDaemon({ max: '1.52', min: '1.44' });
    const forced = new DockerEngine(resolveEngineTarget(`unix://${daemon.socketPath}`, undefined, '1.45'));
    await forced.listContainers({});
    expect(daemon.seen.at(-1)!.url).toMatch(/^\/v1\.45\/containers\/json/);
    const wrong = new DockerEngine(resolveEngineTarget(`unix://${daemon.socketPath}`, undefined, '1.41'));
    await expect(wrong.ping()).rejects.toThrow(
      /DOCKER_API_VERSION: 1\.41 is outside what .* accepts \(API 1\.44–1\.52\)/,
    );
  });

  it('asks again once when the daemon is upgraded under it ("client version … is too old")', async () => {
    daemon = await fakeDaemon({ max: '1.41', min: '1.12' });
    const engine = new DockerEngine({ socketPath: daemon.socketPath });
    await engine.listContainers({});
    daemon.state.max = '1.52';
    daemon.state.min = '1.44';
    await engine.listContainers({});
    expect(daemon.seen.map((r) => r.url.split('?')[0])).toEqual([
      '/version',
      '/v1.41/containers/json',
      '/v1.41/containers/json',
      '/version',
      '/v1.52/containers/json',
    ]);
  });

  it('sends X-Registry-Auth on a pull when credentials are given', async () => {
    daemon = await fakeDaemon({ max: '1.52', min: '1.44' });
    const credentials: RegistryLogin = { username: 'ci', password: new Secret('s3cr3t/+?') };
    const header = registryAuthHeader(credentials, '127.0.0.1:5000');
    await new DockerEngine({ socketPath: daemon.socketPath }).pullImage(
      '127.0.0.1:5000/app',
      '1.0.0',
      header,
    );
    const pull = daemon.seen.find((r) => r.url.startsWith('/v1.52/images/create'))!;
    expect(decodeRegistryAuthHeader(String(pull.headers['x-registry-auth']))).toEqual({
      username: 'ci',
      password: 's3cr3t/+?',
      serveraddress: '127.0.0.1:5000',
    });
    await new DockerEngine({ socketPath: daemon.socketPath }).pullImage('127.0.0.1:5000/app', '1.0.0');
    expect(daemon.seen.at(-1)!.headers['x-registry-auth']).toBeUndefined();
  });

  it('names DOCKER_HOST, the cause and the fix when nothing listens there', async () => {
    const port = await freePort();
    const engine = new DockerEngine(resolveEngineTarget(`tcp://127.0.0.1:${port}`));
    const error = (await engine.ping().catch((e: unknown) => e)) as Error & { fix?: string };
    expect(error.message).toBe(
      `Docker Engine unreachable at tcp://127.0.0.1:${port} (DOCKER_HOST): connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(error.fix).toMatch(
      new RegExp(`a Docker Engine listens on 127\\.0\\.0\\.1:${port}.*unset DOCKER_HOST`),
    );
  });

  it('describes targets as DOCKER_HOST would', () => {
    expect(describeEngineTarget(resolveEngineTarget(undefined))).toBe('unix:///var/run/docker.sock');
    expect(describeEngineTarget(resolveEngineTarget('tcp://127.0.0.1:2375'))).toBe('tcp://127.0.0.1:2375');
    expect(describeEngineTarget(resolveEngineTarget('ssh://u@h:2222'))).toBe('ssh://u@h:2222');
  });
});

describe('registryAuthHeader', () => {
  it('is padded base64url JSON of username, password and serveraddress', () => {
    const credentials: RegistryLogin = { username: 'u', password: new Secret('p>?~') };
    const header = registryAuthHeader(credentials, 'ghcr.io');
    expect(header).toMatch(/^[A-Za-z0-9_-]+=*$/);
    expect(header.length % 4).toBe(0);
    expect(Buffer.from(header, 'base64').toString()).toBe(
      '{"username":"u","password":"p>?~","serveraddress":"ghcr.io"}',
    );
    expect(decodeRegistryAuthHeader(header)).toEqual({
      username: 'u',
      password: 'p>?~',
      serveraddress: 'ghcr.io',
    });
  });
  it('never prints the password through the credentials it comes from', () => {
    const credentials: RegistryLogin = { username: 'u', password: new Secret('hunter2') };
    expect(JSON.stringify(credentials)).not.toContain('hunter2');
    expect(registryAuthHeader(credentials, 'r.example')).not.toContain('hunter2');
  });
});
