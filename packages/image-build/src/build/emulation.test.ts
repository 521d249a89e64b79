import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { arm64Cpuinfo, emulationRunArgs } from './emulation.js';

describe('emulationRunArgs', () => {
  const cases: { name: string; image: string; engine: string; mounts: boolean }[] = [
    { name: 'native amd64', image: 'amd64', engine: 'amd64', mounts: false },
    { name: 'native arm64', image: 'arm64', engine: 'arm64', mounts: false },
    { name: 'arm64 emulated on amd64', image: 'arm64', engine: 'amd64', mounts: true },
    {
      name: 'amd64 emulated on arm64 (qemu-x86_64 passes an ARM cpuinfo: no known crash)',
      image: 'amd64',
      engine: 'arm64',
      mounts: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const args = emulationRunArgs(c.image, c.engine, 2);
      if (!c.mounts) return expect(args).toEqual([]);
      expect(args[0]).toBe('-v');
      const [file, target, mode] = args[1]!.split(':');
      expect([target, mode]).toEqual(['/proc/cpuinfo', 'ro']);
      expect(readFileSync(file!, 'utf8')).toBe(arm64Cpuinfo(2));
    });
  }
  it('describes one Arm core per CPU, as arm64 Linux does', () => {
    const text = arm64Cpuinfo(3);
    expect(text.match(/^processor\t: \d+$/gm)).toEqual([
      'processor\t: 0',
      'processor\t: 1',
      'processor\t: 2',
    ]);
    expect(text.match(/^CPU implementer\t: 0x41$/gm)).toHaveLength(3);
  });
});
