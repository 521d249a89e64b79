/** /metrics (Prometheus), /health and /snapshot/:cameraId on a small HTTP server (loopback by default). */
import { createServer, type Server } from 'node:http';
import { redactUrlsInText } from '@its/core';
import type { Registry } from 'prom-client';
import type { Worker } from './worker.js';

export interface StatusServerDeps {
  registry: Registry;
  worker: Pick<Worker, 'pipelines'>;
  snapshot(url: string): Promise<Buffer>;
}

export function createStatusServer(deps: StatusServerDeps): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed\n');
    if (url.pathname === '/metrics') {
      deps.registry
        .metrics()
        .then((m) => send(200, deps.registry.contentType, m))
        .catch((err: Error) => send(500, 'text/plain', `${err.message}\n`));
      return;
    }
    if (url.pathname === '/health') {
      const cameras = [...deps.worker.pipelines().values()].map((p) => ({
        cameraId: p.camera.id,
        ...p.source(),
      }));
      return send(200, 'application/json', JSON.stringify({ status: 'ok', cameras }));
    }
    const snap = /^\/snapshot\/([0-9a-f-]{36})$/.exec(url.pathname);
    if (snap) {
      const p = deps.worker.pipelines().get(snap[1]!);
      if (!p) return send(404, 'text/plain', 'camera not served by this worker\n');
      deps
        .snapshot(p.camera.streamUrl)
        .then((jpeg) => send(200, 'image/jpeg', jpeg))
        .catch((err: Error) =>
          send(502, 'text/plain', `snapshot failed: ${redactUrlsInText(err.message)}\n`),
        );
      return;
    }
    send(404, 'text/plain', 'not found\n');
  });
}
