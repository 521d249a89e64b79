import { request, type RequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import { ConfigError, StepFailedError } from '@its/core';
import {
  type DaemonApiRange,
  type EngineFeatures,
  engineFeatures,
  negotiateApiVersion,
  parseVersionRefusal,
} from './api-version.js';
import { SshStdioSocket } from './ssh-socket.js';

/**
 * A small Docker Engine API client over the local socket, tcp://, or ssh://host (through
 * `ssh host docker system dial-stdio`, the way the docker CLI itself does it). Only what deployments
 * need; no dependency.
 *
 * API versions (api-version.ts): the client speaks 1.41 (Docker 20.10, Debian 12) up to 1.52 (Docker
 * 29.0). Before its first request each DockerEngine asks the daemon once (`GET /version`, unversioned,
 * falling back to `/_ping`'s API-Version header) and then speaks the highest version both know; Docker
 * 29 refuses anything below 1.44. DOCKER_API_VERSION forces a version, as with the docker CLI. A
 * daemon outside the range fails with EngineVersionError (both ranges and the fix) before anything is
 * sent; a daemon upgraded under a running client ("client version … is too old") is asked again once.
 * What a version changes in the bodies we send is `engineFeatures` (StartInterval, CheckDuplicate).
 */

export interface EngineTarget {
  socketPath?: string;
  host?: string;
  port?: number;
  ssh?: string;
  /** The ssh program and its options, e.g. ["ssh", "-F", "/etc/its/ssh_config"] (ITS_SSH_COMMAND). */
  sshCommand?: string[];
  /** DOCKER_API_VERSION: speak this version instead of negotiating (validated at the first request). */
  apiVersion?: string;
  /** The DOCKER_HOST text this target came from, for messages; undefined: the default socket. */
  dockerHost?: string;
}

/**
 * ITS_SSH_COMMAND (like git's GIT_SSH_COMMAND): the ssh program and options used for ssh:// hosts,
 * words separated by spaces, no quoting (it is never run through a shell).
 */
export function parseSshCommand(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const words = value.trim().split(/\s+/);
  if (words.some((w) => /['"\\`$]/.test(w)))
    throw new ConfigError(`ITS_SSH_COMMAND: "${value}" contains quotes or shell characters`, {
      fix: 'give the program and its options as plain words, e.g. ssh -F /path/to/ssh_config',
    });
  return words;
}

export function resolveEngineTarget(
  dockerHost: string | undefined,
  sshCommand?: string,
  apiVersion?: string,
): EngineTarget {
  const extra: Pick<EngineTarget, 'apiVersion' | 'dockerHost'> = {
    ...(apiVersion !== undefined && apiVersion !== '' ? { apiVersion } : {}),
    ...(dockerHost ? { dockerHost } : {}),
  };
  if (!dockerHost || dockerHost === '') return { socketPath: '/var/run/docker.sock', ...extra };
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length), ...extra };
  const tcp = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(dockerHost);
  if (tcp) return { host: tcp[1]!, port: Number(tcp[2]), ...extra };
  const ssh = /^ssh:\/\/([^\s/]+)\/?$/.exec(dockerHost);
  if (ssh) {
    const command = parseSshCommand(sshCommand);
    return { ssh: ssh[1]!, ...(command ? { sshCommand: command } : {}), ...extra };
  }
  throw new ConfigError(
    `DOCKER_HOST: "${dockerHost}" is not unix://PATH, tcp://HOST:PORT or ssh://[USER@]HOST`,
  );
}

/** Where a target points, as DOCKER_HOST would say it: unix:///var/run/docker.sock, tcp://…, ssh://…. */
export function describeEngineTarget(target: EngineTarget): string {
  if (target.socketPath) return `unix://${target.socketPath}`;
  if (target.ssh) return `ssh://${target.ssh}`;
  return `tcp://${target.host ?? '?'}:${target.port ?? '?'}`;
}

/** How to reach an engine that did not answer, per kind of target. */
export function unreachableFix(target: EngineTarget): string {
  const unset = target.dockerHost ? ', or unset DOCKER_HOST to use the local socket' : '';
  if (target.socketPath)
    return (
      'start Docker Engine: `dockerd > /var/log/dockerd.log 2>&1 &` (as root) and wait for ' +
      `${target.socketPath}${target.dockerHost ? '' : ', or set DOCKER_HOST to the engine (tcp://HOST:PORT, ssh://USER@HOST)'}${unset}`
    );
  if (target.ssh)
    return `check that \`ssh ${target.ssh} docker version\` works without a prompt (keys, BatchMode)${unset}`;
  return `check that a Docker Engine listens on ${target.host}:${target.port} (dockerd -H tcp://${target.host}:${target.port}), or correct DOCKER_HOST${unset}`;
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  State: string;
  Labels: Record<string, string>;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  State: {
    Status: string;
    Running: boolean;
    ExitCode: number;
    Health?: { Status: string; Log?: Array<{ ExitCode: number; Output: string }> };
  };
  Config: { Labels: Record<string, string>; Image: string; Healthcheck?: { Test?: string[] } };
  NetworkSettings: {
    Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
    Networks: Record<string, { IPAddress: string }>;
  };
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Config: { Healthcheck?: { Test?: string[] } | null; Labels?: Record<string, string> | null };
}

export class EngineError extends StepFailedError {
  constructor(
    readonly status: number,
    what: string,
    message: string,
  ) {
    super(`Docker Engine: ${what}: ${status} ${message}`, { fix: engineErrorFix(message) });
  }
}

/**
 * Pure: what to do about an engine error the user can act on, or undefined. Today: a published port
 * another process holds (Docker's userland proxy or its own allocator says so).
 */
export function engineErrorFix(message: string): string | undefined {
  const taken =
    /listen tcp[46]? ([\d.:[\]a-f]*?):(\d+): bind: address already in use/.exec(message) ??
    /Bind for ([\d.:[\]a-f]*?):(\d+) failed: port is already allocated/.exec(message);
  if (!taken) return undefined;
  const [, host, port] = taken;
  return (
    `another process or container holds ${host}:${port} — \`ss -ltnp 'sport = :${port}'\` names a process, ` +
    `\`docker ps --filter publish=${port}\` a container; stop it, or publish on another port`
  );
}

/** The daemon and this client share no API version, or DOCKER_API_VERSION is wrong: nothing was sent. */
export class EngineVersionError extends ConfigError {
  constructor(
    readonly problem: string,
    message: string,
    fix: string,
  ) {
    super(message, { fix });
  }
}

interface Negotiated {
  features: EngineFeatures;
  how: 'negotiated' | 'DOCKER_API_VERSION';
}

type RawResult = { status: number; text: string; body: Buffer; headers: Record<string, string> };

export class DockerEngine {
  readonly #target: EngineTarget;
  #negotiation: Promise<Negotiated> | undefined;

  constructor(target: EngineTarget) {
    this.#target = target;
  }

  /** unix:///var/run/docker.sock, tcp://HOST:PORT or ssh://DEST: where this client talks to. */
  get where(): string {
    return describeEngineTarget(this.#target);
  }

  #options(method: string, path: string, headers: Record<string, string>): RequestOptions {
    const base: RequestOptions = { method, path, headers: { host: 'docker', ...headers } };
    if (this.#target.socketPath) return { ...base, socketPath: this.#target.socketPath };
    if (this.#target.ssh) {
      const dest = this.#target.ssh;
      return {
        ...base,
        createConnection: () => {
          // The URI form carries a port (ssh://user@host:2222), which a plain user@host destination cannot.
          const [program, ...options] = this.#target.sshCommand ?? ['ssh'];
          // node:http wants a net.Socket here; SshStdioSocket is shaped like one (ssh-socket.ts).
          return new SshStdioSocket(program!, [
            ...options,
            '-o',
            'BatchMode=yes',
            '--',
            `ssh://${dest}`,
            'docker',
            'system',
            'dial-stdio',
          ]) as unknown as Socket;
        },
      };
    }
    return { ...base, host: this.#target.host, port: this.#target.port };
  }

  /** One HTTP exchange on an exact path (versioned or not); rejects only on transport errors. */
  #send(
    method: string,
    path: string,
    payload: Buffer | undefined,
    timeoutMs: number,
    extraHeaders: Record<string, string> = {},
  ): Promise<RawResult> {
    const headers: Record<string, string> = {
      ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
      ...extraHeaders,
    };
    return new Promise((resolve, reject) => {
      const req = request(this.#options(method, path, headers), (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          const flat: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, text: bytes.toString('utf8'), body: bytes, headers: flat });
        });
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () =>
        req.destroy(
          new Error(
            `no answer from the Docker Engine at ${this.where} in ${timeoutMs} ms (${method} ${path})`,
          ),
        ),
      );
      req.on('error', (error: NodeJS.ErrnoException) =>
        reject(
          new StepFailedError(
            `Docker Engine unreachable at ${this.where} (${this.#target.dockerHost ? 'DOCKER_HOST' : 'the default socket; DOCKER_HOST is unset'}): ${error.message}`,
            { fix: unreachableFix(this.#target), cause: error },
          ),
        ),
      );
      req.end(payload);
    });
  }

  /**
   * The API version and features this client speaks with the daemon: asked once per DockerEngine (the
   * first request of any kind waits on it), then cached. A failure is not cached, so a daemon that
   * comes up later is asked again.
   */
  features(): Promise<EngineFeatures> {
    return this.#negotiated().then((n) => n.features);
  }

  async apiVersion(): Promise<string> {
    return (await this.features()).apiVersion;
  }

  #negotiated(): Promise<Negotiated> {
    if (!this.#negotiation) {
      const pending = this.#negotiate();
      this.#negotiation = pending;
      pending.catch(() => {
        if (this.#negotiation === pending) this.#negotiation = undefined;
      });
    }
    return this.#negotiation;
  }

  async #askDaemon(): Promise<DaemonApiRange> {
    // Unversioned on purpose: every daemon answers /version and /_ping at its own current version.
    const version = await this.#send('GET', '/version', undefined, 15_000);
    if (version.status === 200) {
      try {
        const v = JSON.parse(version.text) as {
          ApiVersion?: unknown;
          MinAPIVersion?: unknown;
          Version?: unknown;
        };
        if (typeof v.ApiVersion === 'string')
          return {
            max: v.ApiVersion,
            ...(typeof v.MinAPIVersion === 'string' ? { min: v.MinAPIVersion } : {}),
            ...(typeof v.Version === 'string' ? { engineVersion: v.Version } : {}),
          };
      } catch {
        /* not JSON: try /_ping below */
      }
    }
    const ping = await this.#send('GET', '/_ping', undefined, 10_000);
    const advertised = ping.headers['api-version'];
    if (ping.status === 200 && advertised) return { max: advertised };
    throw new StepFailedError(
      `the Docker Engine at ${this.where} did not say which API versions it speaks ` +
        `(GET /version → ${version.status}, GET /_ping → ${ping.status} without an API-Version header)`,
      { fix: 'check that DOCKER_HOST points at a Docker Engine, not another HTTP server' },
    );
  }

  async #negotiate(): Promise<Negotiated> {
    const daemon = await this.#askDaemon();
    const chosen = negotiateApiVersion({ daemon, override: this.#target.apiVersion });
    if (!chosen.ok)
      throw new EngineVersionError(chosen.problem, `${chosen.message} (at ${this.where})`, chosen.fix);
    return { features: engineFeatures(chosen.version), how: chosen.how };
  }

  /**
   * One request at the negotiated version; resolves with status, body text, raw body bytes and
   * headers, rejects only on transport errors and version mismatches. `headers` may carry secrets
   * (X-Registry-Auth): they are sent, never printed.
   */
  async raw(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = 120_000,
    headers: Record<string, string> = {},
  ): Promise<RawResult> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const first = await this.#negotiated();
    const res = await this.#send(
      method,
      `/v${first.features.apiVersion}${path}`,
      payload,
      timeoutMs,
      headers,
    );
    // Docker refuses a version outside its range before doing anything, so asking again and resending
    // is safe: the daemon was upgraded (or downgraded) under this client.
    if (res.status === 400 && first.how === 'negotiated' && parseVersionRefusal(res.text)) {
      this.#negotiation = undefined;
      const again = await this.#negotiated();
      if (again.features.apiVersion !== first.features.apiVersion)
        return this.#send(method, `/v${again.features.apiVersion}${path}`, payload, timeoutMs, headers);
    }
    return res;
  }

  async #call<T>(
    method: string,
    path: string,
    what: string,
    body?: unknown,
    accept: number[] = [200, 201, 204, 304],
  ): Promise<T> {
    const res = await this.raw(method, path, body);
    if (!accept.includes(res.status)) {
      let message = res.text.trim();
      try {
        message = (JSON.parse(res.text) as { message?: string }).message ?? message;
      } catch {
        /* plain text body */
      }
      throw new EngineError(res.status, what, message);
    }
    return (res.text === '' ? undefined : JSON.parse(res.text)) as T;
  }

  /** Reachable, and speaking a version both sides know (negotiates when not done yet). */
  async ping(): Promise<void> {
    const res = await this.raw('GET', '/_ping', undefined, 10_000);
    if (res.status !== 200) throw new EngineError(res.status, 'ping', res.text);
  }

  listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const filters = JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
    return this.#call(
      'GET',
      `/containers/json?all=true&filters=${encodeURIComponent(filters)}`,
      'list containers',
    );
  }

  async inspectContainer(idOrName: string): Promise<ContainerInspect | undefined> {
    const res = await this.raw('GET', `/containers/${encodeURIComponent(idOrName)}/json`);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new EngineError(res.status, `inspect ${idOrName}`, res.text);
    return JSON.parse(res.text) as ContainerInspect;
  }

  async createContainer(name: string, spec: unknown): Promise<string> {
    const out = await this.#call<{ Id: string }>(
      'POST',
      `/containers/create?name=${encodeURIComponent(name)}`,
      `create ${name}`,
      spec,
    );
    return out.Id;
  }

  startContainer(id: string): Promise<void> {
    return this.#call('POST', `/containers/${encodeURIComponent(id)}/start`, `start ${id}`);
  }

  /** SIGTERM, then SIGKILL after graceSeconds; an already stopped or missing container is fine. */
  async stopContainer(id: string, graceSeconds = 15): Promise<void> {
    await this.#call(
      'POST',
      `/containers/${encodeURIComponent(id)}/stop?t=${graceSeconds}`,
      `stop ${id}`,
      undefined,
      [204, 304, 404],
    );
  }

  async removeContainer(id: string): Promise<void> {
    await this.#call(
      'DELETE',
      `/containers/${encodeURIComponent(id)}?force=true&v=true`,
      `remove ${id}`,
      undefined,
      [204, 404],
    );
  }

  async waitContainer(id: string, timeoutMs: number): Promise<number> {
    const res = await this.raw('POST', `/containers/${encodeURIComponent(id)}/wait`, undefined, timeoutMs);
    if (res.status !== 200) throw new EngineError(res.status, `wait ${id}`, res.text);
    return (JSON.parse(res.text) as { StatusCode: number }).StatusCode;
  }

  /** stdout and stderr of a stopped container, demultiplexed (non-TTY stream framing). */
  async logs(id: string, tail = 50): Promise<string> {
    const res = await this.raw(
      'GET',
      `/containers/${encodeURIComponent(id)}/logs?stdout=true&stderr=true&tail=${tail}`,
    );
    return demultiplexLogs(res.body) ?? res.text;
  }

  /** Output since a time (whole seconds, rounded down: callers filter finer by their own timestamps). */
  async logsSince(id: string, sinceMs: number): Promise<string> {
    const since = Math.max(0, Math.floor(sinceMs / 1000) - 1);
    const res = await this.raw(
      'GET',
      `/containers/${encodeURIComponent(id)}/logs?stdout=true&stderr=true&since=${since}`,
    );
    if (res.status !== 200) throw new EngineError(res.status, `logs of ${id}`, res.text);
    return demultiplexLogs(res.body) ?? res.text;
  }

  async inspectImage(ref: string): Promise<ImageInspect | undefined> {
    const res = await this.raw('GET', `/images/${encodeURIComponent(ref)}/json`);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new EngineError(res.status, `inspect image ${ref}`, res.text);
    return JSON.parse(res.text) as ImageInspect;
  }

  /** Local tags of one repository (e.g. its-camera-ai → [production, 1.2.0, …]). */
  async listLocalTags(repository: string): Promise<string[]> {
    const filters = JSON.stringify({ reference: [repository] });
    const images = await this.#call<Array<{ RepoTags: string[] | null }>>(
      'GET',
      `/images/json?filters=${encodeURIComponent(filters)}`,
      'list images',
    );
    return images
      .flatMap((i) => i.RepoTags ?? [])
      .filter((t) => t.startsWith(`${repository}:`))
      .map((t) => t.slice(repository.length + 1))
      .sort();
  }

  /**
   * `registryAuth`: the X-Registry-Auth header value for the image's registry (registry-auth-header.ts),
   * when credentials are configured; anonymous otherwise. Never part of any message.
   */
  async pullImage(repository: string, tag: string, registryAuth?: string): Promise<void> {
    const res = await this.raw(
      'POST',
      `/images/create?fromImage=${encodeURIComponent(repository)}&tag=${encodeURIComponent(tag)}`,
      undefined,
      600_000,
      registryAuth ? { 'x-registry-auth': registryAuth } : {},
    );
    // The pull reports errors inside its 200 progress stream.
    const failed = /"error"\s*:\s*"([^"]*)"/.exec(res.text);
    if (res.status !== 200 || failed)
      throw new EngineError(res.status, `pull ${repository}:${tag}`, failed?.[1] ?? res.text);
  }

  async ensureNetwork(name: string, labels: Record<string, string>): Promise<void> {
    const res = await this.raw('GET', `/networks/${encodeURIComponent(name)}`);
    if (res.status === 200) return;
    const { networkCheckDuplicate } = await this.features();
    const created = await this.raw('POST', '/networks/create', {
      Name: name,
      Driver: 'bridge',
      // Deprecated in API 1.44 (the daemon always refuses a duplicate name since): sent only below it.
      ...(networkCheckDuplicate ? { CheckDuplicate: true } : {}),
      Labels: labels,
    });
    if (created.status !== 201 && created.status !== 409)
      throw new EngineError(created.status, `create network ${name}`, created.text);
  }

  async removeNetworks(labels: Record<string, string>): Promise<void> {
    const filters = JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
    const nets = await this.#call<Array<{ Id: string }>>(
      'GET',
      `/networks?filters=${encodeURIComponent(filters)}`,
      'list networks',
    );
    for (const n of nets) await this.raw('DELETE', `/networks/${n.Id}`);
  }
}

/**
 * Docker's stream framing (non-TTY logs): frames of an 8-byte header — stream type (0 stdin, 1 stdout,
 * 2 stderr), three zero bytes, payload size as uint32 big-endian — then the payload. Works on the raw
 * bytes (a size byte may be ≥ 0x80) and decodes the joined payloads once, so a UTF-8 character split
 * across frames survives. Undefined when the body is not such a stream (a TTY container's raw output).
 */
export function demultiplexLogs(body: Buffer): string | undefined {
  const payloads: Buffer[] = [];
  let i = 0;
  while (i < body.length) {
    if (i + 8 > body.length) return undefined;
    const stream = body[i]!;
    if (stream > 2 || body[i + 1] !== 0 || body[i + 2] !== 0 || body[i + 3] !== 0) return undefined;
    const size = body.readUInt32BE(i + 4);
    if (i + 8 + size > body.length) return undefined;
    payloads.push(body.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return payloads.length > 0 ? Buffer.concat(payloads).toString('utf8') : undefined;
}

/** The host port a container's port is published on (127.0.0.1 only), or undefined. */
export function publishedPort(container: ContainerInspect, containerPort: number): number | undefined {
  const bindings = container.NetworkSettings.Ports[`${containerPort}/tcp`];
  const first = bindings?.find((b) => b.HostIp === '127.0.0.1') ?? bindings?.[0];
  return first ? Number(first.HostPort) : undefined;
}
