import type { Command } from 'commander';
import type { Env } from '@its/versioning';

/** Everything a command touches outside itself, passed in so tests run commands in-process. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Env;
  cwd: string;
  now: () => Date;
}

/**
 * Exit code when the reader of stdout went away before we finished (`itsctl tags --json | head -c 10`):
 * 128 + SIGPIPE, what a shell reports for git or kubectl in the same pipe. The command still runs to
 * its end (a deploy is never cut half-way because a pager closed); only its output is dropped.
 */
export const CLOSED_STDOUT_EXIT_CODE = 141;

/** The part of a process stream the writer needs (process.stdout, process.stderr, or a test double). */
export interface OutputStream {
  write: (text: string) => boolean;
  on: (event: 'error', listener: (error: NodeJS.ErrnoException) => void) => unknown;
}

export interface StreamWriter {
  /** Writes the text, or drops it once the stream is closed. */
  write: (text: string) => void;
  /** Whether the reader went away (EPIPE): nothing more is written. */
  readonly closed: boolean;
}

/**
 * A CliIo writer over a process stream that ends quietly on a closed pipe: EPIPE (and the "write after
 * destroy" that follows it) marks the stream closed instead of crashing with an unhandled 'error' event.
 * Any other write error is also the end of that stream, reported once through `onOtherError`.
 */
export function createStreamWriter(
  stream: OutputStream,
  onOtherError: (error: NodeJS.ErrnoException) => void = () => {},
): StreamWriter {
  let closed = false;
  stream.on('error', (error) => {
    if (closed) return;
    closed = true;
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') onOtherError(error);
  });
  return {
    write(text) {
      if (!closed) stream.write(text);
    },
    get closed() {
      return closed;
    },
  };
}

/** One command of `itsctl`: adding one is a folder commands/<name>/ and one line in commands/index.ts. */
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

const reported = new WeakSet<object>();

/**
 * Marks an error whose message the command's own output already says (the gate's table ends with its
 * verdict): runCli then adds nothing in text mode but the exit code, so every message is printed once.
 * With --json the document on stdout is not for people, so the one-line message still goes to stderr.
 */
export function alreadyReported<E extends Error>(error: E): E {
  reported.add(error);
  return error;
}

export function wasReported(error: unknown): boolean {
  return typeof error === 'object' && error !== null && reported.has(error);
}

/** Repeatable list options: `--tags a --tags b`. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
