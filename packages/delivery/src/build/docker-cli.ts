/**
 * The one place that runs Debian's docker client, always with an argument array (never a shell string).
 * `/usr/bin/docker` first: a newer client earlier on PATH may have no buildx, and BuildKit builds then
 * fail ("buildx component is missing"). DOCKER_CLI overrides.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { StepFailedError } from '../errors.js';

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunDockerOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  /** Called with each chunk of stderr/stdout as it arrives (build progress). */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
}

export type DockerRunner = (args: readonly string[], options?: RunDockerOptions) => Promise<DockerResult>;

export function resolveDockerCli(
  env: NodeJS.ProcessEnv = process.env,
  exists: (p: string) => boolean = existsSync,
): string {
  if (env.DOCKER_CLI) return env.DOCKER_CLI;
  return exists('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
}

export const DOCKER_START_HINT =
  'start Docker Engine: `dockerd > /var/log/dockerd.log 2>&1 &` (as root) and wait for /var/run/docker.sock, ' +
  'or run scripts/ci-containers.sh, which installs and starts it';

/** Creates a runner bound to one client binary. */
export function createDockerRunner(
  cli: string = resolveDockerCli(),
  baseEnv: NodeJS.ProcessEnv = process.env,
): DockerRunner {
  return (args, options = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn(cli, [...args], { env: options.env ?? baseEnv, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              child.kill('SIGKILL');
            }, options.timeoutMs);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        options.onOutput?.(chunk, 'stdout');
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        options.onOutput?.(chunk, 'stderr');
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (timer) clearTimeout(timer);
        if (err.code === 'ENOENT') {
          reject(
            new StepFailedError(`the docker client ${cli} is not installed`, {
              fix: 'apt-get install -y docker.io (Debian 12), then ' + DOCKER_START_HINT,
            }),
          );
        } else reject(err);
      });
      child.on('close', (code) => {
        if (timer) clearTimeout(timer);
        resolve({ code: code ?? 137, stdout, stderr, timedOut });
      });
      child.stdin.end(options.input ?? '');
    });
}

/** True when stderr says the client could not reach the daemon at all. */
export function isDaemonUnreachable(stderr: string): boolean {
  return /Cannot connect to the Docker daemon|Is the docker daemon running|error during connect|docker\.sock: connect: (no such file|connection refused)/i.test(
    stderr,
  );
}

/** Fails with how to start the engine when it is not running; returns the server version otherwise. */
export async function ensureDockerRunning(docker: DockerRunner): Promise<string> {
  const res = await docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 15_000 });
  if (res.code === 0 && res.stdout.trim()) return res.stdout.trim();
  if (res.timedOut || isDaemonUnreachable(res.stderr) || res.code !== 0) {
    throw new StepFailedError(
      `Docker Engine is not reachable: ${res.stderr.trim().split('\n').at(-1) ?? 'no answer'}`,
      { fix: DOCKER_START_HINT },
    );
  }
  return res.stdout.trim();
}
