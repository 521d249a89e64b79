/**
 * Starts Debian's docker-registry (distribution 2.8) on a loopback port with deletes enabled, in a
 * directory of its own. Integration tests use it; scripts/registry.sh is the long-lived equivalent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, StepFailedError } from '@its/core';
import { freePort } from '@its/core';

export interface LocalRegistry {
  /** `127.0.0.1:<port>`, as DOCKER_REGISTRY would name it. */
  host: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startLocalRegistry(
  options: { bin?: string; port?: number } = {},
): Promise<LocalRegistry> {
  const bin = options.bin ?? process.env.REGISTRY_BIN ?? '/usr/bin/docker-registry';
  if (!existsSync(bin)) {
    throw new ConfigError(`${bin} not found`, {
      fix: 'apt-get install -y docker-registry (or set REGISTRY_BIN)',
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'its-registry-'));
  const dataDir = join(dir, 'data');
  await mkdir(dataDir);
  const port = options.port ?? (await freePort());
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: { level: error }',
      `storage: { filesystem: { rootdirectory: ${dataDir} }, delete: { enabled: true } }`,
      `http: { addr: 127.0.0.1:${port} }`,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  const registry: LocalRegistry = {
    host: `127.0.0.1:${port}`,
    port,
    dataDir,
    async start() {
      const proc = spawn(bin, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = proc;
      let stderr = '';
      proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
      const deadline = Date.now() + 15_000;
      for (;;) {
        if (proc.exitCode !== null) throw new StepFailedError(`docker-registry exited: ${stderr.trim()}`);
        const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) return;
        if (Date.now() > deadline)
          throw new StepFailedError(`docker-registry did not answer on 127.0.0.1:${port}: ${stderr.trim()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      const p = child;
      child = undefined;
      if (!p || p.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
      });
    },
    async destroy() {
      await registry.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await registry.start();
  return registry;
}
