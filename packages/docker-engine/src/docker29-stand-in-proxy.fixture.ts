import {
  Agent,
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A STAND-IN for a Docker Engine 29 daemon, for tests only: a loopback HTTP proxy in front of this
 * machine's real engine (Docker 20.10, API 1.41; no Docker 29 can be installed here). It behaves as
 * Docker 29 does towards a client's API version — and only that:
 *
 * - `/_ping` and `/version` (versioned or not) advertise API `max` with minimum `min` (29.0: 1.52 and
 *   1.44) and the engine version `engineVersion`;
 * - a versioned path below `min` gets Docker's own refusal, HTTP 400
 *   `{"message":"client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade
 *   your client to a newer version"}`; above `max`, Docker's "too new" refusal;
 * - anything else is forwarded to the real daemon with the version rewritten to `upstreamApi` (1.41,
 *   what the real daemon speaks), responses streamed back as they come (logs, wait, pulls) and
 *   hijacked connections (attach, exec, BuildKit sessions) piped both ways.
 *
 * It does not emulate anything else of Docker 29 (fields the 20.10 daemon does not know are ignored
 * by it). It records every request — method, path as received, path forwarded, status, and JSON
 * bodies — so tests can assert what a client sent (e.g. Healthcheck.StartInterval). Listens on
 * 127.0.0.1 only, on a port the kernel picks.
 */

export interface StandInOptions {
  /** The newest API version advertised (Docker 29.0: 1.52). */
  max?: string;
  /** The oldest accepted (Docker 29.0: 1.44). */
  min?: string;
  /** The product version advertised (Server.Version). */
  engineVersion?: string;
  /** The real daemon's socket. */
  upstreamSocket?: string;
  /** The version the real daemon speaks; forwarded paths use it. */
  upstreamApi?: string;
}

export interface RecordedRequest {
  method: string;
  /** The path and query as the client sent them. */
  path: string;
  /** The path sent to the real daemon; undefined when the stand-in answered itself. */
  forwarded: string | undefined;
  status: number;
  /** The request body when it was JSON (create bodies); undefined otherwise. */
  json: unknown;
  /** Header names the client sent (values are not kept: one may be X-Registry-Auth). */
  headerNames: string[];
}

const MAX_RECORDED_BODY = 256 * 1024;

function minorOf(version: string): number {
  const [major, minor] = version.split('.').map(Number);
  return major! * 1000 + minor!;
}

export class Docker29StandInProxy {
  readonly requests: RecordedRequest[] = [];
  /** Requests node:http could not parse (a test that sees one here has found a stand-in bug). */
  readonly clientErrors: string[] = [];
  readonly #server: Server;
  readonly #options: Required<StandInOptions>;
  readonly #sockets = new Set<Socket>();
  /** Its own pool to the real daemon, so close() can end every upstream connection. */
  readonly #agent = new Agent({ keepAlive: false });

  private constructor(options: Required<StandInOptions>) {
    this.#options = options;
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.#upgrade(req, socket, head),
    );
    this.#server.on('clientError', (error: Error, socket: Socket) => {
      this.clientErrors.push(error.message);
      socket.destroy();
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(options: StandInOptions = {}): Promise<Docker29StandInProxy> {
    const proxy = new Docker29StandInProxy({
      max: options.max ?? '1.52',
      min: options.min ?? '1.44',
      engineVersion: options.engineVersion ?? '29.0.4',
      upstreamSocket: options.upstreamSocket ?? '/var/run/docker.sock',
      upstreamApi: options.upstreamApi ?? '1.41',
    });
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** DOCKER_HOST for clients of this stand-in. */
  get dockerHost(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    this.#agent.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The request bodies a path pattern received (e.g. /containers\/create/), in order. */
  bodiesOf(pattern: RegExp): unknown[] {
    return this.requests.filter((r) => pattern.test(r.path) && r.json !== undefined).map((r) => r.json);
  }

  /** What Docker 29 says to a client at `version`, or undefined when it accepts it. */
  #refusal(version: string): string | undefined {
    const { min, max } = this.#options;
    if (minorOf(version) < minorOf(min))
      return `client version ${version} is too old. Minimum supported API version is ${min}, please upgrade your client to a newer version`;
    if (minorOf(version) > minorOf(max))
      return `client version ${version} is too new. Maximum supported API version is ${max}`;
    return undefined;
  }

  #versionHeaders(): Record<string, string> {
    return {
      'api-version': this.#options.max,
      'docker-experimental': 'false',
      ostype: 'linux',
      server: `Docker/${this.#options.engineVersion} (linux)`,
    };
  }

  /** Splits /v1.44/containers/json into its version and the rest; unversioned paths have none. */
  #split(url: string): { version: string | undefined; rest: string } {
    const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(url);
    return m ? { version: m[1], rest: m[2]! } : { version: undefined, rest: url };
  }

  #record(req: IncomingMessage, entry: Omit<RecordedRequest, 'method' | 'path' | 'headerNames'>): void {
    this.requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      headerNames: Object.keys(req.headers),
      ...entry,
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const { version, rest } = this.#split(url);
    const refusal = version ? this.#refusal(version) : undefined;
    if (refusal) {
      req.resume();
      this.#record(req, { forwarded: undefined, status: 400, json: undefined });
      res.writeHead(400, { 'content-type': 'application/json', ...this.#versionHeaders() });
      res.end(`${JSON.stringify({ message: refusal })}\n`);
      return;
    }
    const path = rest.split('?')[0];
    if (path === '/_ping') {
      req.resume();
      this.#record(req, { forwarded: undefined, status: 200, json: undefined });
      res.writeHead(200, {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'no-cache, no-store, must-revalidate',
        ...this.#versionHeaders(),
      });
      res.end(req.method === 'HEAD' ? undefined : 'OK');
      return;
    }
    const forwarded = `/v${this.#options.upstreamApi}${rest}`;
    this.#forward(req, res, forwarded, path === '/version');
  }

  #forward(req: IncomingMessage, res: ServerResponse, forwarded: string, rewriteVersion: boolean): void {
    const isJson = /json/i.test(String(req.headers['content-type'] ?? ''));
    const chunks: Buffer[] = [];
    let size = 0;
    const entry: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      forwarded,
      status: 0,
      json: undefined,
      headerNames: Object.keys(req.headers),
    };
    this.requests.push(entry);
    const upstream = request(
      {
        socketPath: this.#options.upstreamSocket,
        agent: this.#agent,
        method: req.method,
        path: forwarded,
        headers: withoutHopHeaders(req.headers),
      },
      (up) => {
        entry.status = up.statusCode ?? 0;
        const headers = { ...withoutHopHeaders(up.headers), ...this.#versionHeaders() };
        if (!rewriteVersion || entry.status !== 200) {
          res.writeHead(entry.status, headers);
          // At once, as the daemon does: a client may wait for the headers of a long answer before its
          // next request (docker run waits for /wait's headers before it starts the container).
          res.flushHeaders();
          up.pipe(res);
          return;
        }
        const body: Buffer[] = [];
        up.on('data', (c: Buffer) => body.push(c));
        up.on('end', () => {
          const text = this.#rewriteVersion(Buffer.concat(body).toString('utf8'));
          delete headers['content-length'];
          res.writeHead(200, { ...headers, 'content-length': String(Buffer.byteLength(text)) });
          res.end(text);
        });
      },
    );
    upstream.on('error', (error) => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `stand-in: the real daemon failed: ${error.message}` }));
    });
    req.on('data', (c: Buffer) => {
      if (isJson && size < MAX_RECORDED_BODY) chunks.push(c);
      size += c.length;
    });
    req.on('end', () => {
      if (isJson && size > 0 && size <= MAX_RECORDED_BODY) {
        try {
          entry.json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          /* not JSON after all: not recorded */
        }
      }
    });
    req.pipe(upstream);
  }

  #rewriteVersion(text: string): string {
    const { max, min, engineVersion } = this.#options;
    try {
      const v = JSON.parse(text) as Record<string, unknown> & {
        Components?: Array<{ Name?: string; Version?: string; Details?: Record<string, unknown> }>;
      };
      v.ApiVersion = max;
      v.MinAPIVersion = min;
      v.Version = engineVersion;
      for (const c of v.Components ?? [])
        if (c.Name === 'Engine') {
          c.Version = engineVersion;
          c.Details = { ...c.Details, ApiVersion: max, MinAPIVersion: min };
        }
      return JSON.stringify(v);
    } catch {
      return text;
    }
  }

  /** attach, exec start, BuildKit sessions: the daemon answers 101 and the socket becomes a raw pipe. */
  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const { version, rest } = this.#split(req.url ?? '/');
    const refusal = version ? this.#refusal(version) : undefined;
    if (refusal) {
      this.#record(req, { forwarded: undefined, status: 400, json: undefined });
      const body = `${JSON.stringify({ message: refusal })}\n`;
      socket.end(
        `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    const forwarded = `/v${this.#options.upstreamApi}${rest}`;
    this.#record(req, { forwarded, status: 101, json: undefined });
    const upstream = connect(this.#options.upstreamSocket);
    this.#sockets.add(upstream);
    upstream.on('close', () => this.#sockets.delete(upstream));
    upstream.on('connect', () => {
      const lines = [`${req.method} ${forwarded} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  }
}

function withoutHopHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || k === 'connection' || k === 'keep-alive' || k === 'transfer-encoding') continue;
    out[k] = v;
  }
  return out;
}
