import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine, resolveEngineTarget } from '@its/docker-engine';
import {
  buildTestImages,
  cleanUp,
  freePort,
  makeEnvironments,
  runItsctl,
  testEnvironment,
  type TestEnvironments,
} from './test-support.fixture.js';

// DOCKER_HOST=ssh://… against a real OpenSSH server: a private sshd on a free 127.0.0.1 port with its
// own host key and one authorised key, all in a temp directory (no change to this machine's ssh
// setup). ITS_SSH_COMMAND points ssh at a config naming that key and known-hosts file. The "remote"
// Docker host is this machine's own daemon, reached only through ssh + `docker system dial-stdio`.

const APP = 'itsssh';
let sshd: ChildProcess | undefined;
let dir = '';
let sshPort = 0;
let sshCommand = '';
let envs: TestEnvironments;
let routerPort = 0;

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr.toString()}`);
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function withDockerHost<T>(value: string, fn: () => Promise<T>): Promise<T> {
  const saved = { host: process.env.DOCKER_HOST, ssh: process.env.ITS_SSH_COMMAND };
  process.env.DOCKER_HOST = value;
  process.env.ITS_SSH_COMMAND = sshCommand;
  try {
    return await fn();
  } finally {
    if (saved.host === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = saved.host;
    if (saved.ssh === undefined) delete process.env.ITS_SSH_COMMAND;
    else process.env.ITS_SSH_COMMAND = saved.ssh;
  }
}

beforeAll(async () => {
  if (spawnSync('/usr/sbin/sshd', ['-V']).error)
    throw new Error('OpenSSH server missing: apt-get install openssh-server (.ci/run installs it)');
  dir = mkdtempSync(join(tmpdir(), 'its-sshd-'));
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'id_ed25519'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id_ed25519.pub')));
  sshPort = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${sshPort}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      // The temp directory is not root's home: its modes are not what StrictModes expects.
      'StrictModes no',
    ].join('\n') + '\n',
  );
  const hostKey = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${sshPort} ${hostKey}\n`);
  writeFileSync(
    join(dir, 'ssh_config'),
    [
      'Host 127.0.0.1',
      `  IdentityFile ${join(dir, 'id_ed25519')}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${join(dir, 'known_hosts')}`,
      '  StrictHostKeyChecking yes',
      '  ConnectTimeout 5',
    ].join('\n') + '\n',
  );
  sshCommand = `ssh -F ${join(dir, 'ssh_config')}`;
  mkdirSync('/run/sshd', { recursive: true });
  sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' });
  const deadline = Date.now() + 20_000;
  while (!(await accepts(sshPort))) {
    if (Date.now() > deadline) throw new Error('sshd did not listen within 20 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  await cleanUp([APP]);
  buildTestImages();
  routerPort = await freePort();
  envs = makeEnvironments({ [APP]: testEnvironment(APP, routerPort, 'rolling') });
}, 300_000);

afterAll(async () => {
  sshd?.kill('SIGTERM');
  await cleanUp([APP]);
}, 120_000);

describe('DOCKER_HOST=ssh://', () => {
  it('talks to the engine through ssh and `docker system dial-stdio`', async () => {
    const engine = new DockerEngine(resolveEngineTarget(`ssh://root@127.0.0.1:${sshPort}`, sshCommand));
    await engine.ping();
    const local = new DockerEngine({ socketPath: '/var/run/docker.sock' });
    const viaSsh = (await engine.listContainers({})).map((c) => c.Id).sort();
    const direct = (await local.listContainers({})).map((c) => c.Id).sort();
    expect(viaSsh).toEqual(direct);
  });

  it('deploys and reports status over ssh, serving through the router', async () => {
    const run = await withDockerHost(`ssh://root@127.0.0.1:${sshPort}`, () =>
      runItsctl(['deploy', '-e', APP, '-v', '1.0.0'], envs),
    );
    expect(run.code, run.stderr).toBe(0);
    const res = await fetch(`http://127.0.0.1:${routerPort}/`);
    expect(((await res.json()) as { version: string }).version).toBe('1.0.0');
    const status = await withDockerHost(`ssh://root@127.0.0.1:${sshPort}`, () =>
      runItsctl(['status', '-e', APP, '--json'], envs),
    );
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { serving: { version: string } }).serving.version).toBe('1.0.0');
  }, 120_000);

  it('an unreachable ssh host or a malformed ITS_SSH_COMMAND is a clear error, and nothing changes', async () => {
    const dead = await freePort();
    const unreachable = await withDockerHost(`ssh://root@127.0.0.1:${dead}`, () =>
      runItsctl(['deploy', '-e', APP, '-v', '1.1.0'], envs),
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/Docker Engine unreachable/);
    const saved = sshCommand;
    sshCommand = 'ssh -o "ProxyCommand=$(id)"';
    const malformed = await withDockerHost(`ssh://root@127.0.0.1:${sshPort}`, () =>
      runItsctl(['status', '-e', APP], envs),
    );
    sshCommand = saved;
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/ITS_SSH_COMMAND: .* contains quotes or shell characters/);
    const res = await fetch(`http://127.0.0.1:${routerPort}/`);
    expect(((await res.json()) as { version: string }).version).toBe('1.0.0');
  }, 60_000);
});
