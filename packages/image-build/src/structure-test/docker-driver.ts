/**
 * The effectful side of structure tests, on a real Docker Engine through Debian's docker client:
 * `image inspect` for metadata, `run --entrypoint ""` for commands (as the original tool, commands run
 * without the image's entrypoint), `commit` to carry setup steps, `cp CONTAINER:PATH -` for files.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { emulationRunArgs } from '../build/emulation.js';
import { StepFailedError } from '@its/core';
import { readFirstTarEntry, type TarEntry, type TarEntryType } from '@its/core/tar';
import {
  type DockerRunner,
  DOCKER_START_HINT,
  createDockerRunner,
  isDaemonUnreachable,
  resolveDockerCli,
} from '@its/docker-engine';
import {
  type CommandObservation,
  type FileStat,
  type FileType,
  type ImageConfig,
  readImageConfig,
} from './evaluate.js';

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

/** The structure-test names (those of container-structure-test's file checks) for tar's entry types. */
const FILE_TYPES: Record<TarEntryType, FileType> = {
  file: 'file',
  'contiguous-file': 'file',
  link: 'hardlink',
  symlink: 'symlink',
  'character-device': 'char',
  'block-device': 'block',
  directory: 'dir',
  fifo: 'fifo',
  other: 'other',
};

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

  /**
   * Streams `docker cp ID:PATH -` and stops the copy once the first entry's header (and, when wanted and
   * small enough, its bytes) is in. undefined: the path does not exist.
   */
  async function copyOut(
    container: string,
    path: string,
    maxContentBytes: number,
    follow: boolean,
  ): Promise<TarEntry | undefined> {
    const child = spawn(cli, ['cp', ...(follow ? ['-L'] : []), `${container}:${path}`, '-'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    exited.catch(() => undefined); // awaited below only when the copy ends without an entry
    let entry: TarEntry | undefined;
    try {
      entry = await readFirstTarEntry(child.stdout, { maxContentBytes, label: `docker cp ${path}` });
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    if (entry) {
      child.kill('SIGKILL'); // the rest of the archive (a directory's contents) is not needed
      return entry;
    }
    const code = await exited;
    if (code === 0) return undefined;
    if (/Could not find the file|No such container:path|no such file or directory/i.test(stderr))
      return undefined;
    if (isDaemonUnreachable(stderr))
      throw new StepFailedError('Docker Engine is not reachable while reading files', {
        fix: DOCKER_START_HINT,
      });
    throw new StepFailedError(`docker cp ${path} failed: ${stderr.trim()}`);
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
      // Headers only: a stat needs no content, however small.
      const entry = await copyOut(container, path, 0, false);
      if (!entry) return null;
      return {
        type: FILE_TYPES[entry.type],
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
        ...(entry.linkname ? { linkTarget: entry.linkname } : {}),
      };
    },

    async readFile(image, path) {
      const container = await fileContainer(image);
      const entry = await copyOut(container, path, MAX_FILE_BYTES, true);
      if (!entry) return null;
      const type = FILE_TYPES[entry.type];
      if (type !== 'file') throw new StepFailedError(`${path} is a ${type}, not a file`);
      if (!entry.data)
        throw new StepFailedError(
          `${path} is larger than ${MAX_FILE_BYTES} bytes; file content tests read at most that`,
        );
      return entry.data.toString('utf8');
    },

    async close() {
      const ids = await Promise.all([...fileContainers.values()].map((p) => p.catch(() => '')));
      const live = ids.filter(Boolean);
      if (live.length) await docker(['rm', '-f', ...live]);
      fileContainers.clear();
    },
  };
}
