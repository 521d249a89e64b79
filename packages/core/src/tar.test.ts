import { execFileSync } from 'node:child_process';
import { chmodSync, link, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { pack, type Pack } from 'tar-stream';
import { describe, expect, it, vi } from 'vitest';
import { StepFailedError } from './errors.js';
import { readFirstTarEntry, readTarEntries, type TarEntry } from './tar.js';

async function* chunked(buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function entries(buf: Buffer, want = (_p: string) => true, chunk = 97, mediaType?: string) {
  const out: TarEntry[] = [];
  const options = { want: (h: { name: string }) => want(h.name), ...(mediaType ? { mediaType } : {}) };
  for await (const e of readTarEntries(chunked(buf, chunk), options)) out.push(e);
  return out;
}

/** An archive from tar-stream's own writer. */
async function packed(
  items: Array<{ header: Parameters<Pack['entry']>[0]; data?: string | Buffer }>,
): Promise<Buffer> {
  const p = pack();
  for (const item of items) p.entry(item.header, item.data ?? '');
  p.finalize();
  const parts: Buffer[] = [];
  for await (const chunk of p) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

// Real tar streams from GNU tar, in the shapes `docker cp … -` produces (one top-level entry).
function tarOf(dir: string, name: string, extra: string[] = []): Buffer {
  return execFileSync('tar', [
    '-C',
    dir,
    '--owner=1000',
    '--group=1000',
    '--numeric-owner',
    ...extra,
    '-cf',
    '-',
    name,
  ]);
}

interface TarFile {
  path: string;
  data?: Buffer | string;
  mode?: number;
  type?: '0' | '5';
}

/** A ustar archive written by hand; names over 100 bytes get a GNU long-name entry, as GNU tar writes. */
function buildTar(files: TarFile[]): Buffer {
  const octal = (value: number, length: number) => `${value.toString(8).padStart(length - 1, '0')}\0`;
  const header = (name: string, size: number, type: string, mode: number): Buffer => {
    const h = Buffer.alloc(512);
    h.write(name.slice(0, 100), 0, 'utf8');
    h.write(octal(mode, 8), 100);
    h.write(octal(0, 8), 108);
    h.write(octal(0, 8), 116);
    h.write(octal(size, 12), 124);
    h.write(octal(0, 12), 136);
    h.write('        ', 148);
    h.write(type, 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    return h;
  };
  const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);
  const blocks: Buffer[] = [];
  for (const f of files) {
    const data = f.type === '5' ? Buffer.alloc(0) : Buffer.from(f.data ?? '');
    if (Buffer.byteLength(f.path) > 100) {
      const name = Buffer.from(`${f.path}\0`);
      blocks.push(header('././@LongLink', name.length, 'L', 0o644), name, pad(name.length));
    }
    blocks.push(
      header(f.path, data.length, f.type ?? '0', f.mode ?? (f.type === '5' ? 0o755 : 0o644)),
      data,
      pad(data.length),
    );
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

describe('readTarEntries', () => {
  const long = `app/node_modules/${'deep/'.repeat(25)}pkg/package.json`;
  const tar = buildTar([
    { path: 'app', type: '5' },
    { path: 'app/a.txt', data: 'hello' },
    { path: long, data: '{"name":"pkg","version":"1.0.0"}' },
    { path: 'big.bin', data: Buffer.alloc(3000, 7) },
  ]);

  it('reads names, long names, sizes and wanted contents across odd chunk boundaries', async () => {
    const got = await entries(tar, (p) => p.endsWith('.txt') || p.endsWith('package.json'));
    expect(got.map((e) => [e.name, e.type, e.size])).toEqual([
      ['app', 'directory', 0],
      ['app/a.txt', 'file', 5],
      [long, 'file', 32],
      ['big.bin', 'file', 3000],
    ]);
    expect(got[1]!.data?.toString()).toBe('hello');
    expect(got[3]!.data).toBeUndefined();
  });

  it('inflates gzip layers and honours pax path and size', async () => {
    const pax = (k: string, v: string) => {
      const body = ` ${k}=${v}\n`;
      let len = body.length + 1;
      len = `${len}${body}`.length;
      return `${len}${body}`;
    };
    const records = pax('path', 'pax/renamed.txt');
    const paxTar = buildTar([
      { path: 'PaxHeader', data: records },
      { path: 'short', data: 'pax!' },
    ]);
    paxTar[156] = 'x'.charCodeAt(0); // turn the first entry into a pax extended header
    const header = paxTar.subarray(0, 512);
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    const got = await entries(gzipSync(paxTar));
    expect(got.map((e) => [e.name, e.data?.toString()])).toEqual([['pax/renamed.txt', 'pax!']]);
  });

  it('stops at the end-of-archive blocks and on an empty stream; fails on a truncated entry', async () => {
    expect(await entries(Buffer.alloc(0))).toEqual([]);
    await expect(entries(tar.subarray(0, 512 * 2 + 100))).rejects.toThrow(/ended inside an entry/);
  });

  it('reads a gzip layer (as a registry serves it) with every header field', async () => {
    const mtime = new Date('2026-01-02T03:04:05Z');
    const layer = gzipSync(
      await packed([
        { header: { name: 'etc', type: 'directory', mode: 0o755, mtime } },
        { header: { name: 'etc/os-release', mode: 0o644, uid: 0, gid: 0, mtime }, data: 'ID=debian\n' },
        { header: { name: 'home/app/.profile', mode: 0o600, uid: 1000, gid: 1001, mtime }, data: 'x' },
      ]),
    );
    const got = await entries(
      layer,
      (p) => p === 'etc/os-release',
      13,
      'application/vnd.oci.image.layer.v1.tar+gzip',
    );
    expect(got.map(({ data, ...header }) => ({ ...header, data: data?.toString() }))).toEqual([
      { name: 'etc', type: 'directory', mode: 0o755, size: 0, uid: 0, gid: 0, mtime, data: undefined },
      {
        name: 'etc/os-release',
        type: 'file',
        mode: 0o644,
        size: 10,
        uid: 0,
        gid: 0,
        mtime,
        data: 'ID=debian\n',
      },
      {
        name: 'home/app/.profile',
        type: 'file',
        mode: 0o600,
        size: 1,
        uid: 1000,
        gid: 1001,
        mtime,
        data: undefined,
      },
    ]);
  });

  it('keeps no content unless asked', async () => {
    const got: TarEntry[] = [];
    for await (const e of readTarEntries(tar)) got.push(e);
    expect(got).toHaveLength(4);
    expect(got.every((e) => e.data === undefined)).toBe(true);
  });

  describe('refuses zstd layers instead of reading them as empty', () => {
    const zstdMediaType = 'application/vnd.oci.image.layer.v1.tar+zstd';
    // The zstd frame magic (28 b5 2f fd) and a few bytes of frame; never inflated.
    const zstdBytes = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x05, 0x29, 0x00, 0x00]);
    const label = 'layer sha256:abc of app@sha256:def';

    it('by media type, before reading a byte', async () => {
      const pulled = vi.fn();
      async function* blob(): AsyncGenerator<Uint8Array> {
        pulled();
        yield zstdBytes;
      }
      const reading = entries(Buffer.alloc(0), () => true, 97, zstdMediaType);
      await expect(reading).rejects.toThrow(StepFailedError);
      const err = await readTarEntries(blob(), { label, mediaType: zstdMediaType })
        .next()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StepFailedError);
      expect((err as Error).message).toBe(
        `${label} is zstd-compressed (media type ${zstdMediaType}); zstd layers are not supported yet`,
      );
      expect((err as StepFailedError).fix).toMatch(/gzip/);
      expect(pulled).not.toHaveBeenCalled();
    });

    it('by magic bytes, whatever the media type says, also split across chunks', async () => {
      const mislabelled = readTarEntries(chunked(zstdBytes, 1), {
        label,
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
      }).next();
      await expect(mislabelled).rejects.toThrow(
        `${label} is zstd-compressed (zstd magic bytes, media type application/vnd.oci.image.layer.v1.tar); zstd layers are not supported yet`,
      );
      await expect(readFirstTarEntry(zstdBytes)).rejects.toThrow(/tar stream is zstd-compressed/);
    });
  });

  it('applies PAX, GNU and ustar-prefix long names and long link targets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tar-long-'));
    const deep = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(60)}`;
    const leaf = `${'n'.repeat(150)}.txt`;
    mkdirSync(join(dir, deep), { recursive: true });
    writeFileSync(join(dir, deep, leaf), 'long');
    symlinkSync(`${deep}/${leaf}`, join(dir, 'far'));
    const name = `${deep}/${leaf}`;
    for (const format of ['gnu', 'pax']) {
      const got = await entries(tarOf(dir, '.', [`--format=${format}`]), (p) => p.endsWith('.txt'));
      expect(got.find((e) => e.name === `./${name}`)?.data?.toString()).toBe('long');
      expect(got.find((e) => e.name === './far')).toMatchObject({ type: 'symlink', linkname: name, size: 0 });
    }
    // tar-stream's writer splits a long path into the ustar prefix field when it can, PAX when not.
    const ustar = await packed([{ header: { name: `${'p'.repeat(120)}/short.txt` }, data: 'u' }]);
    const paxOnly = await packed([{ header: { name: 'q'.repeat(300) }, data: 'p' }]);
    expect((await entries(ustar)).map((e) => [e.name, e.data?.toString()])).toEqual([
      [`${'p'.repeat(120)}/short.txt`, 'u'],
    ]);
    expect((await entries(paxOnly)).map((e) => [e.name, e.data?.toString()])).toEqual([
      ['q'.repeat(300), 'p'],
    ]);
  });

  it('reads symlinks and hard links as links, with no content', async () => {
    const tarball = await packed([
      { header: { name: 'bin/real', mode: 0o755 }, data: '#!/bin/sh\n' },
      { header: { name: 'bin/soft', type: 'symlink', linkname: 'real' } },
      { header: { name: 'bin/hard', type: 'link', linkname: 'bin/real' } },
    ]);
    const got = await entries(tarball);
    expect(got.map((e) => [e.name, e.type, e.linkname, e.size, e.data?.toString()])).toEqual([
      ['bin/real', 'file', undefined, 10, '#!/bin/sh\n'],
      ['bin/soft', 'symlink', 'real', 0, undefined],
      ['bin/hard', 'link', 'bin/real', 0, undefined],
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'tar-links-'));
    writeFileSync(join(dir, 'a'), 'same');
    await promisify(link)(join(dir, 'a'), join(dir, 'b'));
    const fromGnuTar = await entries(tarOf(dir, '.', ['--sort=name']));
    expect(fromGnuTar.find((e) => e.name === './b')).toMatchObject({
      type: 'link',
      linkname: './a',
      size: 0,
    });
  });

  it('gives a clear error for a truncated archive, plain or gzip', async () => {
    const cut = tar.subarray(0, 512 * 2 + 100);
    const plain = await (async () => {
      for await (const _ of readTarEntries(cut, { label: 'layer sha256:abc' }));
    })().catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(StepFailedError);
    expect((plain as Error).message).toBe('layer sha256:abc ended inside an entry: the archive is truncated');
    const gz = gzipSync(tar);
    await expect(entries(gz.subarray(0, gz.length - 20))).rejects.toThrow(StepFailedError);
    await expect(entries(gz.subarray(0, gz.length - 20))).rejects.toThrow(
      /gzip data is corrupt or cut short/,
    );
  });

  it('rejects bytes that are not tar at all', async () => {
    await expect(entries(Buffer.from('not a tar archive\n'.repeat(64)))).rejects.toThrow(
      /tar stream is not a readable tar archive: Invalid tar header\.$/,
    );
  });

  it("passes the source's own failure through as it is", async () => {
    const digestMismatch = new Error('blob digest mismatch');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield tar.subarray(0, 1024);
      throw digestMismatch;
    }
    const reading = (async () => {
      for await (const _ of readTarEntries(failing()));
    })();
    await expect(reading).rejects.toBe(digestMismatch);
  });

  it('releases the source when the reader stops early', async () => {
    let released = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        yield* chunked(tar, 512);
        for (;;) yield Buffer.alloc(512); // endless end-of-archive padding
      } finally {
        released = true;
      }
    }
    for await (const e of readTarEntries(source())) {
      expect(e.name).toBe('app');
      break;
    }
    await vi.waitFor(() => expect(released).toBe(true));
  });
});

describe('readFirstTarEntry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tar-entry-'));
  writeFileSync(join(dir, 'hello.txt'), 'hello world\n');
  chmodSync(join(dir, 'hello.txt'), 0o640);
  mkdirSync(join(dir, 'sub'));
  chmodSync(join(dir, 'sub'), 0o1777);
  writeFileSync(join(dir, 'sub', 'inner'), 'x');
  symlinkSync('hello.txt', join(dir, 'link'));
  const long = `${'n'.repeat(150)}.txt`;
  writeFileSync(join(dir, long), 'long');

  it('reads a file header and its content', async () => {
    const entry = await readFirstTarEntry(tarOf(dir, 'hello.txt'));
    expect(entry).toMatchObject({
      name: 'hello.txt',
      type: 'file',
      mode: 0o640,
      uid: 1000,
      gid: 1000,
      size: 12,
    });
    expect(entry?.data?.toString()).toBe('hello world\n');
  });

  it('reads a directory with its sticky bit', async () => {
    expect(await readFirstTarEntry(tarOf(dir, 'sub'))).toMatchObject({
      name: 'sub/',
      type: 'directory',
      mode: 0o1777,
    });
  });

  it('reads a symlink and its target', async () => {
    expect(await readFirstTarEntry(tarOf(dir, 'link'))).toMatchObject({
      type: 'symlink',
      linkname: 'hello.txt',
    });
  });

  it('applies GNU long names and PAX paths', async () => {
    expect((await readFirstTarEntry(tarOf(dir, long)))?.name).toBe(long);
    expect((await readFirstTarEntry(tarOf(dir, long, ['--format=pax'])))?.name).toBe(long);
  });

  it('gives nothing when the bytes end inside the header, and the header alone inside the content', async () => {
    const tar = tarOf(dir, 'hello.txt');
    expect(await readFirstTarEntry(tar.subarray(0, 100))).toBeUndefined();
    const headerOnly = await readFirstTarEntry(tar.subarray(0, 512));
    expect(headerOnly).toMatchObject({ type: 'file', size: 12 });
    expect(headerOnly?.data).toBeUndefined();
  });

  it('rejects an empty archive', async () => {
    await expect(readFirstTarEntry(Buffer.alloc(1024))).rejects.toThrow(/empty tar/);
    await expect(readFirstTarEntry(Buffer.alloc(1024))).rejects.toThrow(StepFailedError);
    expect(await readFirstTarEntry(Buffer.alloc(0))).toBeUndefined();
  });

  it('returns once the first entry is in, without waiting for the rest (the caller stops the writer)', async () => {
    const tar = tarOf(dir, 'sub');
    let released = false;
    async function* stalled(): AsyncGenerator<Uint8Array> {
      try {
        yield tar.subarray(0, 1024); // 'sub/' and the header of 'sub/inner'
        await new Promise(() => undefined); // a `docker cp` still writing
      } finally {
        released = true;
      }
    }
    expect(await readFirstTarEntry(stalled())).toMatchObject({ name: 'sub/', type: 'directory' });
    expect(released).toBe(false); // still held by the pending read; the caller kills the writer
  });

  it('reads content up to maxContentBytes only, and headers only with 0', async () => {
    const tar = tarOf(dir, 'hello.txt');
    expect((await readFirstTarEntry(tar, { maxContentBytes: 12 }))?.data?.toString()).toBe('hello world\n');
    const tooBig = await readFirstTarEntry(tar, { maxContentBytes: 11 });
    expect(tooBig).toMatchObject({ name: 'hello.txt', size: 12 });
    expect(tooBig?.data).toBeUndefined();
    expect((await readFirstTarEntry(tar, { maxContentBytes: 0 }))?.data).toBeUndefined();
    // A header that promises more than a stalled writer sends: returned without waiting for the content.
    async function* headerThenStall(): AsyncGenerator<Uint8Array> {
      yield tar.subarray(0, 512);
      await new Promise(() => undefined);
    }
    expect(await readFirstTarEntry(headerThenStall(), { maxContentBytes: 0 })).toMatchObject({ size: 12 });
  });
});

describe('@its/core', () => {
  it('keeps its main entry free of tar-stream (only @its/core/tar loads it)', () => {
    const index = readFileSync(new URL('./index.ts', import.meta.url), 'utf8');
    expect(index).not.toMatch(/['"]\.\/tar(\.js)?['"]|tar-stream/);
  });
});
