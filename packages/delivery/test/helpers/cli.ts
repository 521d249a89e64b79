import { runCli } from '../../src/cli/program.js';

/** Runs itsctl in-process with captured output, a fixed clock and the given environment. */
export async function runItsctl(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; now?: Date },
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: options.env ?? {},
    cwd: options.cwd,
    now: () => options.now ?? new Date('2026-11-26T00:00:00Z'),
  });
  return { code, stdout, stderr };
}
