/**
 * Running a foreign architecture's image under QEMU user emulation (binfmt_misc), as structure tests
 * and the multi-architecture checks do here.
 *
 * Why a /proc/cpuinfo of our own: qemu-user (Debian 12's 7.2) passes the host's /proc/cpuinfo through,
 * so an aarch64 process reads an x86 CPU description. ONNX Runtime's CPU detection (pytorch/cpuinfo)
 * then finds no ARM core and dereferences NULL: every `import("onnxruntime-node")` in the emulated
 * arm64 edge image dies with SIGSEGV (seen 2026-12-03; a real arm64 device has its own cpuinfo and is
 * unaffected). runc allows a bind mount over /proc/cpuinfo (the lxcfs path), so emulated runs get a
 * plain Cortex-A72 description with one entry per emulated CPU.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** /proc/cpuinfo of `cpus` Cortex-A72 cores (implementer 0x41 = Arm, part 0xd08), as arm64 Linux prints it. */
export function arm64Cpuinfo(cpus: number): string {
  return Array.from(
    { length: Math.max(1, cpus) },
    (_, i) =>
      `processor\t: ${i}\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid\n` +
      `CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n`,
  ).join('\n');
}

let written: string | undefined;

/**
 * Extra `docker run` arguments for an image of `imageArch` on an engine of `nativeArch`: none natively
 * or for an architecture without the problem, a read-only /proc/cpuinfo mount for emulated arm64.
 */
export function emulationRunArgs(imageArch: string, nativeArch: string, cpus: number): string[] {
  if (imageArch === nativeArch || imageArch !== 'arm64') return [];
  if (!written) {
    written = join(mkdtempSync(join(tmpdir(), 'its-emulated-cpuinfo-')), 'cpuinfo');
    writeFileSync(written, arm64Cpuinfo(cpus), { mode: 0o644 });
  }
  return ['-v', `${written}:/proc/cpuinfo:ro`];
}
