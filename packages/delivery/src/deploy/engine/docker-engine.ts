import { request, type RequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import { ConfigError, StepFailedError } from '../../errors.js';
import { SshStdioSocket } from './ssh-socket.js';

/**
 * A small Docker Engine API client (API 1.41, Docker 20.10) over the local socket, tcp://, or
 * ssh://host (through `ssh host docker system dial-stdio`, the way the docker CLI itself does it).
 * Only what deployments need; no dependency.
 */

export interface EngineTarget {
  socketPath?: string;
  host?: string;
  port?: number;
  ssh?: string;
  /** The ssh program and its options, e.g. ["ssh", "-F", "/etc/its/ssh_config"] (ITS_SSH_COMMAND). */
  sshCommand?: string[];
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

export function resolveEngineTarget(dockerHost: string | undefined, sshCommand?: string): EngineTarget {
  if (!dockerHost || dockerHost === '') return { socketPath: '/var/run/docker.sock' };
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  const tcp = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(dockerHost);
  if (tcp) return { host: tcp[1]!, port: Number(tcp[2]) };
  const ssh = /^ssh:\/\/([^\s/]+)\/?$/.exec(dockerHost);
  if (ssh) {
    const command = parseSshCommand(sshCommand);
    return { ssh: ssh[1]!, ...(command ? { sshCommand: command } : {}) };
  }
  throw new ConfigError(
    `DOCKER_HOST: "${dockerHost}" is not unix://PATH, tcp://HOST:PORT or ssh://[USER@]HOST`,
  );
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
    super(`Docker Engine: ${what}: ${status} ${message}`);
  }
}

export class DockerEngine {
  readonly #target: EngineTarget;

  constructor(target: EngineTarget) {
    this.#target = target;
  }

  #options(method: string, path: string, headers: Record<string, string>): RequestOptions {
    const base: RequestOptions = { method, path: `/v1.41${path}`, headers: { host: 'docker', ...headers } };
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

  /** One request; resolves with status, body text and raw body bytes, rejects only on transport errors. */
  raw(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = 120_000,
  ): Promise<{ status: number; text: string; body: Buffer }> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = payload
      ? { 'content-type': 'application/json', 'content-length': String(payload.length) }
      : {};
    return new Promise((resolve, reject) => {
      const req = request(this.#options(method, path, headers), (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, text: bytes.toString('utf8'), body: bytes });
        });
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () =>
        req.destroy(new Error(`no answer from the Docker Engine in ${timeoutMs} ms (${method} ${path})`)),
      );
      req.on('error', (error) =>
        reject(
          new StepFailedError(`Docker Engine unreachable: ${error.message}`, {
            fix: 'start dockerd, or set DOCKER_HOST',
            cause: error,
          }),
        ),
      );
      req.end(payload);
    });
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

  async pullImage(repository: string, tag: string): Promise<void> {
    const res = await this.raw(
      'POST',
      `/images/create?fromImage=${encodeURIComponent(repository)}&tag=${encodeURIComponent(tag)}`,
      undefined,
      600_000,
    );
    // The pull reports errors inside its 200 progress stream.
    const failed = /"error"\s*:\s*"([^"]*)"/.exec(res.text);
    if (res.status !== 200 || failed)
      throw new EngineError(res.status, `pull ${repository}:${tag}`, failed?.[1] ?? res.text);
  }

  async ensureNetwork(name: string, labels: Record<string, string>): Promise<void> {
    const res = await this.raw('GET', `/networks/${encodeURIComponent(name)}`);
    if (res.status === 200) return;
    const created = await this.raw('POST', '/networks/create', {
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
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
