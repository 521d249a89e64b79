import type { Command } from 'commander';

/** The options `itsctl version` and `itsctl release` share. */
export function addVersionOptions(command: Command): Command {
  return command
    .option('--branch <name>', 'the branch to version for (default: the checked-out branch)')
    .option('--stable-branches <list>', 'branches whose releases are final, comma separated', 'main,master')
    .option('--channel <id>', 'force a pre-release channel, e.g. rc or beta')
    .option('--stable', 'force a final version even on a pre-release branch')
    .option('--release-as <version>', 'force the version, e.g. 1.0.0 to leave 0.x');
}
