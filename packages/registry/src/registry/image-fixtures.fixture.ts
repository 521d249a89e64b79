/**
 * Test images made from nothing: a tar writer, a 150-byte static x86-64 program, and a way to push an
 * image straight through the registry API. No base image, no build, no pull.
 */
import { gzipSync } from 'node:zlib';
import { computeDigest } from './digest.js';
import {
  DOCKER_CONFIG,
  DOCKER_LAYER_GZIP,
  DOCKER_MANIFEST,
  OCI_CONFIG,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
} from './media-types.js';
import type { Descriptor, RegistryClient } from './registry-client.js';

export interface TarFile {
  path: string;
  data?: Buffer | string;
  mode?: number;
  /** '0' file (default), '2' symlink (to `linkname`), '5' directory. */
  type?: '0' | '2' | '5';
  linkname?: string;
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

/** A ustar archive; names over 100 bytes get a GNU long-name entry, like GNU tar writes. */
export function buildTar(files: TarFile[]): Buffer {
  const blocks: Buffer[] = [];
  const header = (name: string, size: number, type: string, mode: number, linkname = ''): Buffer => {
    const h = Buffer.alloc(512);
    h.write(name.slice(0, 100), 0, 'utf8');
    h.write(linkname.slice(0, 100), 157, 'utf8');
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
  for (const f of files) {
    const data = f.type === '5' || f.type === '2' ? Buffer.alloc(0) : Buffer.from(f.data ?? '');
    if (Buffer.byteLength(f.path) > 100) {
      const name = Buffer.from(`${f.path}\0`);
      blocks.push(header('././@LongLink', name.length, 'L', 0o644), name, pad(name.length));
    }
    blocks.push(
      header(
        f.path,
        data.length,
        f.type ?? '0',
        f.mode ?? (f.type === '5' || f.type === '2' ? 0o755 : 0o644),
        f.linkname,
      ),
      data,
      pad(data.length),
    );
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** A static x86-64 Linux program that prints `message` and exits 0 (ELF header, one segment, 8 instructions). */
export function buildTinyElf(message: string): Buffer {
  const msg = Buffer.from(message);
  const code = Buffer.concat([
    Buffer.from([0xb8, 1, 0, 0, 0]), // mov eax, 1 (write)
    Buffer.from([0xbf, 1, 0, 0, 0]), // mov edi, 1 (stdout)
    Buffer.from([0x48, 0x8d, 0x35, 16, 0, 0, 0]), // lea rsi, [rip+16] → msg
    Buffer.from([0xba, msg.length & 0xff, (msg.length >> 8) & 0xff, 0, 0]), // mov edx, len
    Buffer.from([0x0f, 0x05]), // syscall
    Buffer.from([0xb8, 60, 0, 0, 0]), // mov eax, 60 (exit)
    Buffer.from([0x31, 0xff]), // xor edi, edi
    Buffer.from([0x0f, 0x05]), // syscall
  ]);
  const total = 64 + 56 + code.length + msg.length;
  const base = 0x400000n;
  const ehdr = Buffer.alloc(64);
  ehdr.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  ehdr.writeUInt16LE(2, 16); // ET_EXEC
  ehdr.writeUInt16LE(0x3e, 18); // x86-64
  ehdr.writeUInt32LE(1, 20);
  ehdr.writeBigUInt64LE(base + 120n, 24); // entry
  ehdr.writeBigUInt64LE(64n, 32); // phoff
  ehdr.writeUInt16LE(64, 52);
  ehdr.writeUInt16LE(56, 54);
  ehdr.writeUInt16LE(1, 56);
  const phdr = Buffer.alloc(56);
  phdr.writeUInt32LE(1, 0); // PT_LOAD
  phdr.writeUInt32LE(5, 4); // R+X
  phdr.writeBigUInt64LE(0n, 8);
  phdr.writeBigUInt64LE(base, 16);
  phdr.writeBigUInt64LE(base, 24);
  phdr.writeBigUInt64LE(BigInt(total), 32);
  phdr.writeBigUInt64LE(BigInt(total), 40);
  phdr.writeBigUInt64LE(0x1000n, 48);
  return Buffer.concat([ehdr, phdr, code, msg]);
}

export interface PushedImage {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  size: number;
  layers: Descriptor[];
}

/** Pushes a one-layer image (gzip tar of `files`) whose config claims `architecture`. */
export async function pushTestImage(
  client: RegistryClient,
  repository: string,
  tag: string,
  options: {
    files: TarFile[];
    architecture?: string;
    format?: 'oci' | 'docker';
    entrypoint?: string[];
    created?: string;
  },
): Promise<PushedImage> {
  const format = options.format ?? 'oci';
  const tar = buildTar(options.files);
  const gz = gzipSync(tar);
  const layer = await client.uploadBlob(
    repository,
    gz,
    format === 'oci' ? OCI_LAYER_GZIP : DOCKER_LAYER_GZIP,
  );
  const config = {
    architecture: options.architecture ?? 'amd64',
    os: 'linux',
    created: options.created ?? '2026-01-01T00:00:00Z',
    config: options.entrypoint ? { Entrypoint: options.entrypoint } : {},
    rootfs: { type: 'layers', diff_ids: [computeDigest(tar)] },
    history: [{ created: options.created ?? '2026-01-01T00:00:00Z', created_by: 'its test fixture' }],
  };
  const configDesc = await client.uploadBlob(
    repository,
    Buffer.from(JSON.stringify(config)),
    format === 'oci' ? OCI_CONFIG : DOCKER_CONFIG,
  );
  const mediaType = format === 'oci' ? OCI_MANIFEST : DOCKER_MANIFEST;
  const manifest = { schemaVersion: 2, mediaType, config: configDesc, layers: [layer] };
  const bytes = Buffer.from(JSON.stringify(manifest, null, 3));
  const { digest } = await client.putManifest(repository, tag, bytes, mediaType);
  return { digest, mediaType, bytes, size: bytes.length, layers: [layer] };
}
