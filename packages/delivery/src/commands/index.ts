import type { CommandModule } from '../cli/io.js';
import { tagsCommand } from './tags/index.js';
import { versionCommand } from './version/index.js';
import { releaseCommand } from './release/index.js';
import { workflowsCommand } from './workflows/index.js';
import { publishCommand } from './publish/index.js';
import { promoteCommand } from './promote/index.js';
import { recordCommand } from './record/index.js';
import { registryCommand } from './registry/index.js';
import { signCommand } from './sign/index.js';
import { sbomCommand } from './sbom/index.js';
import { structureTestCommand } from './structure-test/index.js';
import { buildCommand } from './build/index.js';
import { gateCommand } from './gate/index.js';
import { deployCommand } from './deploy/index.js';
import { statusCommand } from './status/index.js';
import { historyCommand } from './history/index.js';
import { lockCommand } from './lock/index.js';
import { retireCommand } from './retire/index.js';
import { teardownCommand } from './teardown/index.js';

/**
 * Every `itsctl` command, in the order `itsctl --help` lists them. Each lives in its own folder,
 * commands/<name>/index.ts; what several commands share is in commands/shared/, so command folders never
 * import each other. Adding a command is one folder and one line here.
 */
export const commands: readonly CommandModule[] = [
  tagsCommand,
  versionCommand,
  releaseCommand,
  workflowsCommand,
  publishCommand,
  promoteCommand,
  recordCommand,
  registryCommand,
  signCommand,
  sbomCommand,
  structureTestCommand,
  buildCommand,
  gateCommand,
  deployCommand,
  statusCommand,
  historyCommand,
  lockCommand,
  retireCommand,
  teardownCommand,
];
