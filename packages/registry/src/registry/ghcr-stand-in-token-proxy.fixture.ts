/**
 * A stand-in for ghcr.io's auth (which cannot be reached from here): an HTTP server on 127.0.0.1
 * that answers 401 with a Bearer (or Basic) challenge, issues tokens at /token for the right
 * username and password, checks each token's scope against the repository and action, and forwards
 * authorized requests to a real docker-registry.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface AuthProxy {
  host: string;
  /** Tokens issued so far, and the scopes each carries. */
  issued: Array<{ scopes: string[] }>;
  close(): Promise<void>;
}

export async function startAuthProxy(options: {
  upstream: string;
  username: string;
  password: string;
  scheme: 'bearer' | 'basic';
}): Promise<AuthProxy> {
  const tokens = new Map<string, string[]>();
  const issued: AuthProxy['issued'] = [];
  let host = '';
  const basic = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      res.writeHead(502).end(String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname === '/token') {
      if (req.headers.authorization !== basic) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"DENIED"}]}');
        return;
      }
      const token = randomBytes(16).toString('hex');
      const scopes = url.searchParams.getAll('scope');
      tokens.set(token, scopes);
      issued.push({ scopes });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token, expires_in: 300 }));
      return;
    }
    const repo = url.pathname.match(/^\/v2\/(.+?)\/(manifests|blobs|tags|referrers)\//)?.[1];
    const action =
      req.method === 'GET' || req.method === 'HEAD' ? 'pull' : req.method === 'DELETE' ? 'delete' : 'push';
    const auth = req.headers.authorization ?? '';
    let allowed: boolean;
    if (options.scheme === 'basic') allowed = auth === basic;
    else {
      const scopes = tokens.get(auth.replace(/^Bearer /, ''));
      allowed =
        scopes !== undefined &&
        (repo === undefined ||
          scopes.some(
            (s) => s.startsWith(`repository:${repo}:`) && s.split(':')[2]!.split(',').includes(action),
          ));
    }
    if (!allowed) {
      const challenge =
        options.scheme === 'basic'
          ? 'Basic realm="ghcr stand-in"'
          : `Bearer realm="http://${host}/token",service="ghcr-stand-in"${repo ? `,scope="repository:${repo}:${action}"` : ''}`;
      res
        .writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' })
        .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      // Framing headers are the proxy's own business: fetch re-frames the body it forwards.
      const hopByHop = ['authorization', 'host', 'connection', 'transfer-encoding', 'content-length'];
      if (!hopByHop.includes(k) && typeof v === 'string') headers[k] = v;
    }
    const init: RequestInit = { method: req.method ?? 'GET', headers, redirect: 'manual' };
    if (chunks.length) init.body = Buffer.concat(chunks);
    const upstream = await fetch(`http://${options.upstream}${url.pathname}${url.search}`, init);
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (k === 'content-length' || k === 'transfer-encoding' || k === 'connection') return;
      out[k] = k === 'location' ? v.replace(`http://${options.upstream}`, `http://${host}`) : v;
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    if (req.method !== 'HEAD') out['content-length'] = String(body.length);
    else if (upstream.headers.get('content-length'))
      out['content-length'] = upstream.headers.get('content-length')!;
    res.writeHead(upstream.status, out).end(req.method === 'HEAD' ? undefined : body);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  host = `127.0.0.1:${addr && typeof addr === 'object' ? addr.port : 0}`;
  return {
    host,
    issued,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
