import type { CommandModule } from '../cli/io.js';
import { gateCommand } from './gate/gate-command.js';
import { releaseCommand } from './release/release-command.js';
import { tagsCommand } from './tags/tags-command.js';
import { versionCommand } from './version/version-command.js';
import { workflowsCommand } from './workflows/workflows-command.js';
import { promoteCommand, recordCommand } from './promote/promotion-commands.js';
import { publishCommand, registryCommand } from './registry/registry-commands.js';
import { sbomCommand, signCommand } from './sign/supply-chain-commands.js';
import { structureTestCommand } from './structure-test/structure-test-command.js';
import { buildCommand } from './build/build-command.js';
import { deployCommand } from './deploy/deploy-command.js';
import { historyCommand, lockCommand, retireCommand, statusCommand } from './status/status-commands.js';
import { teardownCommand } from './teardown/teardown-command.js';

/** Every `itsctl` command. Adding one (build, deploy, gate, publish, promote…) is one line here. */
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
