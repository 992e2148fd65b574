// Reading clipanion's command definitions (paths, options, descriptions): the one source for
// `sbx completion`, the man page generated at build time and the usage errors.

export interface OptionSpec {
  long: string[];
  short: string[];
  /** Takes a value (clipanion writes `--name #0`). */
  takesValue: boolean;
  description: string;
}

/** The flags of one option definition such as `-n,--discard` or `--name #0`. */
export function parseOption(definition: string, description = ''): OptionSpec {
  const [flags = '', ...rest] = definition.split(' ');
  const names = flags.split(',');
  return {
    long: names.filter((n) => n.startsWith('--')).map((n) => n.slice(2)),
    short: names.filter((n) => /^-[^-]$/.test(n)).map((n) => n.slice(1)),
    takesValue: rest.length > 0,
    description: description.replace(/\s+/g, ' ').trim(),
  };
}

/** Options whose value is a sandbox id or name, or a policy name. */
export const SANDBOX_VALUE_OPTIONS = ['in'];
export const POLICY_VALUE_OPTIONS = ['policy'];
/** Commands whose positional arguments are sandboxes, or policies. */
export const SANDBOX_ARG_COMMANDS = ['diff', 'commit', 'discard'];
export const POLICY_ARG_COMMANDS = ['policy show', 'policy compile'];
