/**
 * The effectful side of structure tests, on a real Docker Engine through Debian's docker client:
 * `image inspect` for metadata, `run --entrypoint ""` for commands (as the original tool, commands run
 * without the image's entrypoint), `commit` to carry setup steps, `cp CONTAINER:PATH -` for files.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { emulationRunArgs } from '../build/emulation.js';
import { StepFailedError } from '@its/core';
import {
  type DockerRunner,
  DOCKER_START_HINT,
  createDockerRunner,
  isDaemonUnreachable,
  resolveDockerCli,
} from '@its/docker-engine';
import { type CommandObservation, type FileStat, type ImageConfig, readImageConfig } from './evaluate.js';
import { readFirstTarEntry } from './tar-entry.js';

export interface ImageDriver {
  inspect(image: string): Promise<ImageConfig>;
  /** Runs setup steps (each committed), the command, then teardown steps; removes what it created. */
  runCommand(image: string, step: CommandStep): Promise<CommandObservation>;
  stat(image: string, path: string): Promise<FileStat | null>;
  readFile(image: string, path: string): Promise<string | null>;
  close(): Promise<void>;
}

export interface CommandStep {
  argv: string[];
  env: Record<string, string>;
  setup: string[][];
  teardown: string[][];
  timeoutMs: number;
}

const MAX_FILE_BYTES = 32 * 1024 * 1024;

function envArgs(env: Record<string, string>): string[] {
  return Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
}

export function createDockerDriver(
  options: { cli?: string; docker?: DockerRunner; label?: string; env?: NodeJS.ProcessEnv } = {},
): ImageDriver {
  const cli = options.cli ?? resolveDockerCli();
  const env = options.env ?? process.env;
  const docker = options.docker ?? createDockerRunner(cli, env);
  const label = options.label ?? 'ai.its.structure-test=1';
  const fileContainers = new Map<string, Promise<string>>();

  const fail = (what: string, stderr: string): never => {
    if (isDaemonUnreachable(stderr))
      throw new StepFailedError(`Docker Engine is not reachable while ${what}`, { fix: DOCKER_START_HINT });
    throw new StepFailedError(`${what} failed: ${stderr.trim()}`);
  };

  // A foreign architecture's image runs under QEMU and may need a little help (build/emulation.ts);
  // decided once per image from the image's and the engine's architectures.
  const emulation = new Map<string, Promise<string[]>>();
  function emulationArgs(image: string): Promise<string[]> {
    let pending = emulation.get(image);
    if (!pending) {
      pending = Promise.all([
        docker(['image', 'inspect', '--format', '{{.Architecture}}', image]),
        docker(['version', '--format', '{{.Server.Arch}}']),
      ]).then(([img, engine]) =>
        img.code === 0 && engine.code === 0
          ? emulationRunArgs(img.stdout.trim(), engine.stdout.trim(), availableParallelism())
          : [],
      );
      emulation.set(image, pending);
    }
    return pending;
  }

  async function runOnce(
    image: string,
    argv: string[],
    env: Record<string, string>,
    timeoutMs: number,
    name?: string,
  ) {
    const args = [
      'run',
      ...(name ? ['--name', name] : ['--rm']),
      '--label',
      label,
      '--entrypoint',
      '',
      '--network',
      'none',
      ...(await emulationArgs(image)),
      ...envArgs(env),
      image,
      ...argv,
    ];
    return docker(args, { timeoutMs });
  }

  function fileContainer(image: string): Promise<string> {
    let pending = fileContainers.get(image);
    if (!pending) {
      // Never started: the entrypoint only has to be a string; nothing runs inside.
      pending = docker(['create', '--label', label, '--entrypoint', '/its-structure-test-noop', image]).then(
        (res) =>
          res.code === 0 ? res.stdout.trim() : fail(`creating a container from ${image}`, res.stderr),
      );
      fileContainers.set(image, pending);
    }
    return pending;
  }

  /** Streams `docker cp ID:PATH -` and stops once the first entry (and, if wanted, its bytes) is in. */
  function copyOut(container: string, path: string, wantContent: boolean, follow: boolean) {
    return new Promise<{ entry: ReturnType<typeof readFirstTarEntry>; missing: boolean; stderr: string }>(
      (resolve, reject) => {
        const child = spawn(cli, ['cp', ...(follow ? ['-L'] : []), `${container}:${path}`, '-'], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env,
        });
        const chunks: Buffer[] = [];
        let total = 0;
        let stderr = '';
        let settled = false;
        const finish = (value: {
          entry: ReturnType<typeof readFirstTarEntry>;
          missing: boolean;
          stderr: string;
        }) => {
          if (settled) return;
          settled = true;
          child.kill('SIGKILL');
          resolve(value);
        };
        child.stdout.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          total += chunk.length;
          if (total > MAX_FILE_BYTES + 4096)
            return finish({ entry: readFirstTarEntry(Buffer.concat(chunks)), missing: false, stderr });
          try {
            const entry = readFirstTarEntry(Buffer.concat(chunks));
            if (entry && (!wantContent || entry.content !== undefined || entry.type !== 'file'))
              finish({ entry, missing: false, stderr });
          } catch (err) {
            if (!settled) {
              settled = true;
              child.kill('SIGKILL');
              reject(err as Error);
            }
          }
        });
        child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
        child.on('error', reject);
        child.on('close', (code) => {
          if (settled) return;
          if (code !== 0) {
            if (/Could not find the file|No such container:path|no such file or directory/i.test(stderr))
              finish({ entry: undefined, missing: true, stderr });
            else {
              settled = true;
              if (isDaemonUnreachable(stderr))
                reject(
                  new StepFailedError('Docker Engine is not reachable while reading files', {
                    fix: DOCKER_START_HINT,
                  }),
                );
              else reject(new StepFailedError(`docker cp ${path} failed: ${stderr.trim()}`));
            }
            return;
          }
          finish({
            entry: total ? readFirstTarEntry(Buffer.concat(chunks)) : undefined,
            missing: total === 0,
            stderr,
          });
        });
      },
    );
  }

  return {
    async inspect(image) {
      const res = await docker(['image', 'inspect', image]);
      if (res.code !== 0) {
        if (/No such image/i.test(res.stderr))
          throw new StepFailedError(`image ${image} does not exist locally`, {
            fix: 'build it first, e.g. itsctl build --target production',
          });
        fail(`inspecting ${image}`, res.stderr);
      }
      const parsed = JSON.parse(res.stdout) as unknown[];
      return readImageConfig(parsed[0]);
    },

    async runCommand(image, step) {
      let current = image;
      const made: string[] = [];
      const suffix = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      try {
        for (const [i, setup] of step.setup.entries()) {
          const name = `its-st-setup-${suffix}-${i}`;
          const res = await runOnce(current, setup, step.env, step.timeoutMs, name);
          const commit = await docker(['commit', name]);
          await docker(['rm', '-f', name]);
          if (res.code !== 0)
            return {
              stdout: res.stdout,
              stderr: res.stderr,
              exitCode: res.code,
              error: `setup step ${JSON.stringify(setup)} exited ${res.code}: ${res.stderr.trim()}`,
            };
          if (commit.code !== 0) fail('committing a setup step', commit.stderr);
          current = commit.stdout.trim();
          made.push(current);
        }
        const res = await runOnce(current, step.argv, step.env, step.timeoutMs);
        if (res.timedOut)
          return {
            stdout: res.stdout,
            stderr: res.stderr,
            exitCode: -1,
            error: `timed out after ${step.timeoutMs} ms`,
          };
        if (res.code === 125 && /Unable to find image|docker: Error response from daemon/i.test(res.stderr)) {
          if (isDaemonUnreachable(res.stderr)) fail('running a command', res.stderr);
          return {
            stdout: res.stdout,
            stderr: res.stderr,
            exitCode: res.code,
            error: `docker could not start the container: ${res.stderr.trim()}`,
          };
        }
        for (const teardown of step.teardown) await runOnce(current, teardown, step.env, step.timeoutMs);
        return { stdout: res.stdout, stderr: res.stderr, exitCode: res.code };
      } finally {
        if (made.length) await docker(['image', 'rm', '-f', ...made]);
      }
    },

    async stat(image, path) {
      const container = await fileContainer(image);
      const { entry, missing } = await copyOut(container, path, false, false);
      if (missing || !entry) return null;
      return {
        type: entry.type,
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
        ...(entry.linkTarget ? { linkTarget: entry.linkTarget } : {}),
      };
    },

    async readFile(image, path) {
      const container = await fileContainer(image);
      const { entry, missing } = await copyOut(container, path, true, true);
      if (missing || !entry) return null;
      if (entry.type !== 'file') throw new StepFailedError(`${path} is a ${entry.type}, not a file`);
      if (!entry.content)
        throw new StepFailedError(
          `${path} is larger than ${MAX_FILE_BYTES} bytes; file content tests read at most that`,
        );
      return entry.content.toString('utf8');
    },

    async close() {
      const ids = await Promise.all([...fileContainers.values()].map((p) => p.catch(() => '')));
      const live = ids.filter(Boolean);
      if (live.length) await docker(['rm', '-f', ...live]);
      fileContainers.clear();
    },
  };
}
