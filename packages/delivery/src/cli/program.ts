import { Command, CommanderError } from 'commander';
import { InternalError, UsageError, exitCodeFor, isKnownError } from '@its/core';
import { commands } from '../commands/index.js';
import { type CliIo, wasReported } from './io.js';

export function buildProgram(io: CliIo): Command {
  const program = new Command('itsctl')
    .description('ITS Camera AI delivery system: versions, image tags, builds, gates and deployments')
    .option('--json', 'print one JSON document on stdout (logs stay on stderr)')
    .showHelpAfterError('(run with --help for usage and examples)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  program.addHelpText(
    'after',
    `
Exit codes: 0 success, 1 a step failed, 2 bad usage or configuration, 70 internal error.

Examples:
  $ itsctl tags --json                        image tags and labels for the current commit
  $ itsctl version                            next version from conventional commits
  $ itsctl release --dry-run                  what a release would write and tag
  $ itsctl <command> --help                   details and examples for one command`,
  );
  for (const command of commands) command.register(program, io);
  // Subcommands inherit the output and error handling so every error reaches runCli's handler.
  for (const sub of program.commands)
    sub.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  return program;
}

function describe(error: unknown): { kind: string; message: string; fix?: string } {
  if (isKnownError(error))
    return { kind: error.kind, message: error.message, ...(error.fix ? { fix: error.fix } : {}) };
  return {
    kind: 'internal',
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  };
}

/**
 * The one top-level handler: runs the program and turns every error into an exit code and a message
 * that names the field and the fix (2 usage/config, 1 step failed, 70 internal). Each message once:
 * an error the command marked `alreadyReported` adds nothing to its text output, and with --json the
 * error document is printed only when the command has not already printed its one document.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let wroteStdout = false;
  const program = buildProgram({
    ...io,
    stdout: (text) => {
      wroteStdout = true;
      io.stdout(text);
    },
  });
  const json = argv.includes('--json');
  const printDocument = (described: ReturnType<typeof describe>) => {
    if (json && !wroteStdout) io.stdout(`${JSON.stringify({ error: described }, null, 2)}\n`);
  };
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (caught) {
    let error = caught;
    if (caught instanceof CommanderError) {
      // Help and --version are not errors; commander already printed its own message for the others.
      if (
        caught.exitCode === 0 ||
        caught.code === 'commander.helpDisplayed' ||
        caught.code === 'commander.help'
      )
        return 0;
      error = new UsageError(caught.message.replace(/^error: /, ''));
      printDocument(describe(error));
      return exitCodeFor(error);
    }
    if (wasReported(caught) && !json) return exitCodeFor(caught);
    if (!isKnownError(caught)) error = new InternalError(describe(caught).message, { cause: caught });
    const described = describe(error);
    io.stderr(`itsctl: ${described.message}\n${described.fix ? `  fix: ${described.fix}\n` : ''}`);
    printDocument(described);
    return exitCodeFor(error);
  }
}
