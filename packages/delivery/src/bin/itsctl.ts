import { CLOSED_STDOUT_EXIT_CODE, createStreamWriter } from '../cli/io.js';
import { runCli } from '../cli/program.js';

/** EX_IOERR (sysexits.h): stdout failed for a reason other than a reader that went away. */
const STDOUT_ERROR_EXIT_CODE = 74;

// The process edge: real streams, environment, working directory and clock.
let stdoutFailed = false;
const stderr = createStreamWriter(process.stderr);
const stdout = createStreamWriter(process.stdout, (error) => {
  stdoutFailed = true;
  stderr.write(`itsctl: stdout: ${error.message}; output stopped\n`);
});
// A write's error event arrives a tick after the write, possibly after runCli returned: the code is
// settled at exit. A closed stdout means the reader has what it wanted: 141, silently, as git and
// kubectl end in `… | head -1`. A closed stderr only loses log lines; the command's own code stands.
process.on('exit', () => {
  if (stdoutFailed) process.exitCode = STDOUT_ERROR_EXIT_CODE;
  else if (stdout.closed) process.exitCode = CLOSED_STDOUT_EXIT_CODE;
});
const code = await runCli(process.argv.slice(2), {
  stdout: (text) => stdout.write(text),
  stderr: (text) => stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  now: () => new Date(),
});
process.exitCode = code;
