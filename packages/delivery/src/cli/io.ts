import type { Command } from 'commander';
import type { Env } from '../tags/read-context.js';

/** Everything a command touches outside itself, passed in so tests run commands in-process. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Env;
  cwd: string;
  now: () => Date;
}

/** One command of `itsctl`: adding a command is one line in commands/index.ts. */
export interface CommandModule {
  register: (program: Command, io: CliIo) => void;
}

/** Whether the global --json flag is set for this command. */
export function wantsJson(command: Command): boolean {
  return (command.optsWithGlobals() as { json?: boolean }).json === true;
}

/** With --json: one JSON document on stdout. Otherwise the human text. Logs always go to stderr. */
export function writeResult(io: CliIo, command: Command, data: unknown, text: string): void {
  if (wantsJson(command)) io.stdout(`${JSON.stringify(data, null, 2)}\n`);
  else if (text !== '') io.stdout(text.endsWith('\n') ? text : `${text}\n`);
}

export function log(io: CliIo, message: string): void {
  io.stderr(`${message}\n`);
}

/** Repeatable list options: `--tags a --tags b`. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
