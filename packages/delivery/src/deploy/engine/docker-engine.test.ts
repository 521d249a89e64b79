import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerEngine, demultiplexLogs } from './docker-engine.js';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

// 200 bytes: a size byte ≥ 0x80 (0xc8), with multi-byte UTF-8 text inside.
const head = `migration failed: relation «caméras» — ${'é'.repeat(40)}`;
const stdout = `${head}${'x'.repeat(200 - Buffer.byteLength(head))}`;

describe('demultiplexLogs', () => {
  it('reads frames of 128 bytes and more with non-ASCII text', () => {
    expect(Buffer.byteLength(stdout)).toBe(200);
    const body = Buffer.concat([frame(1, stdout), frame(2, 'erreur: déjà vu ✗\n')]);
    expect(demultiplexLogs(body)).toBe(`${stdout}erreur: déjà vu ✗\n`);
  });

  it('keeps a character split across two frames', () => {
    const bytes = Buffer.from('é', 'utf8');
    const a = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 1]), bytes.subarray(0, 1)]);
    const b = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 1]), bytes.subarray(1)]);
    expect(demultiplexLogs(Buffer.concat([a, b]))).toBe('é');
  });

  it('is undefined for a body that is not a frame stream (TTY output) or is cut short', () => {
    expect(demultiplexLogs(Buffer.from('plain tty output\n'))).toBeUndefined();
    expect(demultiplexLogs(frame(1, stdout).subarray(0, 100))).toBeUndefined();
    expect(demultiplexLogs(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('DockerEngine.logs', () => {
  let server: Server | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('demultiplexes the raw body bytes the engine sends', async () => {
    dir = mkdtempSync(join(tmpdir(), 'engine-logs-'));
    const socketPath = join(dir, 'docker.sock');
    const body = Buffer.concat([frame(1, stdout), frame(2, 'échec ✗\n')]);
    server = createServer((req, res) => {
      expect(req.url).toMatch(/^\/v1\.41\/containers\/abc\/logs\?stdout=true&stderr=true/);
      res.writeHead(200, { 'content-type': 'application/vnd.docker.raw-stream' });
      res.end(body);
    });
    await new Promise<void>((resolve) => server!.listen(socketPath, resolve));
    expect(await new DockerEngine({ socketPath }).logs('abc')).toBe(`${stdout}échec ✗\n`);
  });
});
