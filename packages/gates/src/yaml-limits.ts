/**
 * The limit on YAML aliases for the files the gate reads (the policy, the security ignore file). A
 * "billion laughs" document nests aliases of aliases so that a few hundred bytes expand to gigabytes;
 * these files need a handful of aliases at most. 100 is the yaml package's own default, set here so
 * that it is a decision, not an accident of the library: beyond it the file is refused as invalid.
 */
export const MAX_YAML_ALIASES = 100;

/** The one-line reason a YAML text could not be turned into data, for `<file>: <reason>`. */
export function describeYamlError(err: unknown): string {
  const message = (err as Error).message.split('\n')[0] ?? '';
  return /excessive alias count/i.test(message)
    ? `its YAML aliases expand more than ${MAX_YAML_ALIASES} times (an alias bomb?): write the values out instead of nesting aliases`
    : `not valid YAML: ${message}`;
}
