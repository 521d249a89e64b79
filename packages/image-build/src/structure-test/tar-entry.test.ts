import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFirstTarEntry } from './tar-entry.js';

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

  it('reads a file header and its content', () => {
    const entry = readFirstTarEntry(tarOf(dir, 'hello.txt'));
    expect(entry).toMatchObject({
      name: 'hello.txt',
      type: 'file',
      mode: 0o640,
      uid: 1000,
      gid: 1000,
      size: 12,
    });
    expect(entry?.content?.toString()).toBe('hello world\n');
  });

  it('reads a directory with its sticky bit', () => {
    expect(readFirstTarEntry(tarOf(dir, 'sub'))).toMatchObject({ name: 'sub/', type: 'dir', mode: 0o1777 });
  });

  it('reads a symlink and its target', () => {
    expect(readFirstTarEntry(tarOf(dir, 'link'))).toMatchObject({ type: 'symlink', linkTarget: 'hello.txt' });
  });

  it('applies GNU long names and PAX paths', () => {
    expect(readFirstTarEntry(tarOf(dir, long))?.name).toBe(long);
    expect(readFirstTarEntry(tarOf(dir, long, ['--format=pax']))?.name).toBe(long);
  });

  it('asks for more bytes when the header is incomplete, and gives the header before the content', () => {
    const tar = tarOf(dir, 'hello.txt');
    expect(readFirstTarEntry(tar.subarray(0, 100))).toBeUndefined();
    const headerOnly = readFirstTarEntry(tar.subarray(0, 512));
    expect(headerOnly).toMatchObject({ type: 'file', size: 12 });
    expect(headerOnly?.content).toBeUndefined();
  });

  it('rejects an empty archive', () => {
    expect(() => readFirstTarEntry(Buffer.alloc(1024))).toThrow(/empty tar/);
  });
});
