/**
 * The one place that runs the docker client, always with an argument array (never a shell string).
 *
 * Which client (resolveDockerCli): DOCKER_CLI, then Debian's `/usr/bin/docker`, then `docker` on PATH —
 * the first that can talk to the daemon and, for builds, can build with BuildKit. Debian's 20.10 client
 * comes first because a newer client earlier on PATH may have no buildx plugin, and BuildKit builds then
 * fail ("buildx component is missing"); but 20.10 speaks API 1.41 at most, which Docker Engine 29
 * refuses ("client version 1.41 is too old"), so on such a host a newer client with buildx is chosen.
 * Each candidate is asked once per process (`docker version`, `docker buildx version`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { StepFailedError } from '@its/core';
import { parseVersionRefusal } from './api-version.js';

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

/** What a client is for: `run` (inspect, run, cp: structure tests) or `build` (also BuildKit). */
export type DockerCliPurpose = 'run' | 'build';

/** What one candidate client said about itself and the daemon (probeDockerCli). */
export interface DockerCliReport {
  cli: string;
  /** The file it resolved to on PATH, when it was found. */
  path?: string | undefined;
  found: boolean;
  /** Client.Version, e.g. 20.10.24+dfsg1 or 29.0.4. */
  clientVersion?: string | undefined;
  /** The newest API the client speaks (Client.DefaultAPIVersion, else Client.ApiVersion). */
  clientApi?: string | undefined;
  /** The daemon answered this client: Server.Version, ApiVersion, MinAPIVersion. */
  server?:
    { version?: string | undefined; api?: string | undefined; minApi?: string | undefined } | undefined;
  /** The daemon refused the client's version ("client version 1.41 is too old. Minimum … is 1.44"). */
  refusal?: string | undefined;
  /** The daemon did not answer at all (not running, wrong DOCKER_HOST): the range cannot be judged. */
  unreachable?: boolean | undefined;
  /** Another failure of `docker version`, as printed. */
  failure?: string | undefined;
  /** BuildKit builds: 20.10's built-in builder, the buildx plugin, or neither (asked only for builds). */
  buildkit?: 'built-in' | 'buildx' | 'none' | undefined;
}

/**
 * Reads `docker version --format '{{json .}}'`: the client part is printed even when the daemon
 * refuses or cannot be reached (then Server is null and stderr says why).
 */
export function parseDockerVersion(
  cli: string,
  result: { code: number; stdout: string; stderr: string },
): DockerCliReport {
  const report: DockerCliReport = { cli, found: true };
  try {
    const json = JSON.parse(result.stdout.trim().split('\n')[0] ?? '') as {
      Client?: { Version?: string; ApiVersion?: string; DefaultAPIVersion?: string } | null;
      Server?: { Version?: string; ApiVersion?: string; MinAPIVersion?: string } | null;
    };
    report.clientVersion = json.Client?.Version;
    report.clientApi = json.Client?.DefaultAPIVersion ?? json.Client?.ApiVersion;
    if (json.Server && result.code === 0)
      report.server = {
        version: json.Server.Version,
        api: json.Server.ApiVersion,
        minApi: json.Server.MinAPIVersion,
      };
  } catch {
    /* no JSON at all: judged from stderr below */
  }
  if (report.server) return report;
  const stderr = result.stderr.trim();
  if (parseVersionRefusal(stderr))
    report.refusal = stderr.split('\n').find((l) => parseVersionRefusal(l)) ?? stderr;
  else if (isDaemonUnreachable(stderr)) report.unreachable = true;
  else report.failure = stderr.split('\n').at(-1) || `exit ${result.code}`;
  return report;
}

/** Clients before 23.0 build with BuildKit themselves (DOCKER_BUILDKIT=1); later ones need buildx. */
export function hasBuiltInBuildKit(clientVersion: string | undefined): boolean {
  const major = Number(/^(\d+)\./.exec(clientVersion ?? '')?.[1]);
  return Number.isFinite(major) && major < 23;
}

function describeCandidate(r: DockerCliReport, purpose: DockerCliPurpose): string {
  const name = r.path && r.path !== r.cli ? `${r.cli} (${r.path})` : r.cli;
  if (!r.found) return `${name}: not installed`;
  const client = `${name} ${r.clientVersion ?? '?'} (API ≤ ${r.clientApi ?? '?'})`;
  if (r.refusal) return `${client}: refused by the daemon: ${r.refusal}`;
  if (r.failure) return `${client}: docker version failed: ${r.failure}`;
  if (purpose === 'build' && r.buildkit === 'none')
    return `${client}: cannot build with BuildKit (no buildx plugin)`;
  return `${client}: usable`;
}

/**
 * The client to use, from candidates in preference order: the first the daemon accepts (for builds,
 * with BuildKit). When the daemon answers none of them (not running), the first installed one that
 * could build: ensureDockerRunning then says how to start the engine. An error names every candidate.
 */
export function chooseDockerCli(
  reports: readonly DockerCliReport[],
  purpose: DockerCliPurpose,
): { cli: string } | { message: string; fix: string } {
  const canBuild = (r: DockerCliReport) => purpose === 'run' || r.buildkit !== 'none';
  const accepted = reports.find((r) => r.found && r.server && canBuild(r));
  if (accepted) return { cli: accepted.cli };
  const unjudged = reports.find((r) => r.found && r.unreachable && canBuild(r));
  if (unjudged) return { cli: unjudged.cli };
  const server = reports.find((r) => r.server)?.server;
  const refusal = reports.map((r) => (r.refusal ? parseVersionRefusal(r.refusal) : undefined)).find(Boolean);
  const daemon = server
    ? `Docker Engine ${server.version ?? '?'} (API ${server.minApi ?? '?'}–${server.api ?? '?'})`
    : refusal
      ? `the Docker Engine (${refusal.bound} API ${refusal.daemon})`
      : 'the Docker Engine';
  const need = purpose === 'build' ? 'can build with BuildKit on' : 'can talk to';
  const minimum = refusal?.bound === 'minimum' ? refusal.daemon : server?.minApi;
  return {
    message: `no docker client here ${need} ${daemon}:\n  ${reports.map((r) => describeCandidate(r, purpose)).join('\n  ')}`,
    fix:
      `install a docker client that speaks API ${minimum ?? "the daemon's version"} or newer` +
      (purpose === 'build'
        ? " with the buildx plugin (Docker's docker-ce-cli and docker-buildx-plugin)"
        : '') +
      ', or point DOCKER_CLI at one; a daemon older than its clients is also fixed by upgrading Docker Engine',
  };
}

export interface DockerCliProbe {
  /** The absolute file a command name resolves to (PATH lookup), or undefined when there is none. */
  locate(cli: string, env: NodeJS.ProcessEnv): string | undefined;
  run(cli: string, args: string[], env: NodeJS.ProcessEnv): { code: number; stdout: string; stderr: string };
}

export const systemDockerCliProbe: DockerCliProbe = {
  locate(cli, env) {
    if (isAbsolute(cli) || cli.includes('/')) return existsSync(cli) ? cli : undefined;
    for (const dir of (env.PATH ?? '').split(delimiter)) {
      if (dir && existsSync(join(dir, cli))) return join(dir, cli);
    }
    return undefined;
  },
  run(cli, args, env) {
    const r = spawnSync(cli, args, { env, encoding: 'utf8', timeout: 15_000 });
    const stderr = r.error
      ? `${r.stderr ?? ''}${(r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? 'no answer in 15 s' : r.error.message}`
      : (r.stderr ?? '');
    return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr };
  },
};

/** Asks one candidate what it is and whether the daemon accepts it; for builds, whether it has BuildKit. */
export function probeDockerCli(
  cli: string,
  env: NodeJS.ProcessEnv,
  purpose: DockerCliPurpose,
  probe: DockerCliProbe = systemDockerCliProbe,
): DockerCliReport {
  const path = probe.locate(cli, env);
  if (!path) return { cli, found: false };
  const report = {
    ...parseDockerVersion(cli, probe.run(path, ['version', '--format', '{{json .}}'], env)),
    path,
  };
  if (purpose === 'build')
    report.buildkit = hasBuiltInBuildKit(report.clientVersion)
      ? 'built-in'
      : probe.run(path, ['buildx', 'version'], env).code === 0
        ? 'buildx'
        : 'none';
  return report;
}

const chosenClients = new Map<string, string>();

/**
 * The docker client to run: see the header. Cached per process for one set of the variables that
 * change the answer (DOCKER_CLI, DOCKER_HOST, DOCKER_API_VERSION, DOCKER_CONTEXT, PATH) and purpose.
 * A DOCKER_CLI that does not exist is returned as is: running it then says it is not installed.
 */
export function resolveDockerCli(
  env: NodeJS.ProcessEnv = process.env,
  options: { purpose?: DockerCliPurpose; probe?: DockerCliProbe } = {},
): string {
  const purpose = options.purpose ?? 'run';
  const probe = options.probe ?? systemDockerCliProbe;
  const merged = { ...process.env, ...env };
  const key = JSON.stringify([
    purpose,
    env.DOCKER_CLI,
    merged.DOCKER_HOST,
    merged.DOCKER_API_VERSION,
    merged.DOCKER_CONTEXT,
    merged.PATH,
  ]);
  const cached = options.probe ? undefined : chosenClients.get(key);
  if (cached) return cached;
  const explicit = env.DOCKER_CLI;
  if (explicit && !probe.locate(explicit, merged)) return explicit;
  const candidates = [...new Set([...(explicit ? [explicit] : []), '/usr/bin/docker', 'docker'])];
  const reports: DockerCliReport[] = [];
  const seen = new Set<string>();
  let chosen: { cli: string } | { message: string; fix: string } | undefined;
  for (const cli of candidates) {
    const path = probe.locate(cli, merged);
    if (path && seen.has(path)) continue;
    if (path) seen.add(path);
    reports.push(probeDockerCli(cli, merged, purpose, probe));
    const pick = chooseDockerCli(reports, purpose);
    // Stop at the first accepted client (later ones are not asked: each ask costs a process), or at
    // an unreachable daemon, which every other candidate would find unreachable too.
    if ('cli' in pick && (reports.at(-1)!.server || reports.at(-1)!.unreachable)) {
      chosen = pick;
      break;
    }
  }
  chosen ??= chooseDockerCli(reports, purpose);
  if (!('cli' in chosen)) {
    // Nothing installed at all keeps the old behaviour: `docker`, whose runner says how to install it.
    if (reports.every((r) => !r.found)) return 'docker';
    throw new StepFailedError(chosen.message, { fix: chosen.fix });
  }
  if (!options.probe) chosenClients.set(key, chosen.cli);
  return chosen.cli;
}

export const DOCKER_START_HINT =
  'start Docker Engine: `dockerd > /var/log/dockerd.log 2>&1 &` (as root) and wait for /var/run/docker.sock, ' +
  'or run scripts/setup.sh docker (as root), which installs and starts it';

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

const composeCommands = new Map<string, readonly string[] | undefined>();

/**
 * Docker Compose as an argument prefix: `['docker', 'compose']` (v2, the plugin Docker Engine 29
 * ships) when `docker compose version` works, else `['docker-compose']` (v1 1.29, Debian 12), else
 * undefined. The TypeScript twin of scripts/lib/compose.sh; COMPOSE_CMD overrides both. Cached.
 */
export function resolveComposeCommand(
  env: NodeJS.ProcessEnv = process.env,
  probe: Pick<DockerCliProbe, 'run'> = systemDockerCliProbe,
): readonly string[] | undefined {
  if (env.COMPOSE_CMD) return env.COMPOSE_CMD.trim().split(/\s+/);
  const key = JSON.stringify([env.PATH, env.DOCKER_CLI]);
  if (probe === systemDockerCliProbe && composeCommands.has(key)) return composeCommands.get(key);
  const works = (argv: readonly string[]) =>
    probe.run(argv[0]!, [...argv.slice(1), 'version'], env).code === 0;
  const candidates: Array<readonly string[]> = [
    ...(env.DOCKER_CLI ? [[env.DOCKER_CLI, 'compose']] : []),
    ['docker', 'compose'],
    ['docker-compose'],
  ];
  const found = candidates.find(works);
  if (probe === systemDockerCliProbe) composeCommands.set(key, found);
  return found;
}
