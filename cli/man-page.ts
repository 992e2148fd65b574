// sbx(1) in roff, generated at build time (scripts/gen-man.mjs) from the command definitions,
// so the man page says what `sbx COMMAND --help` says.
import { Cli, type Definition } from 'clipanion';
import { loadCommands } from './commands.js';
import { parseOption } from './definitions.js';

/** Every command's definition as clipanion describes it (what `--help` prints). */
export async function allDefinitions(): Promise<Definition[]> {
  const cli = new Cli({ binaryName: 'sbx' });
  for (const c of await loadCommands([])) cli.register(c);
  return cli.definitions();
}

/** roff-safe text: backslashes, leading dots and quotes cannot start requests. */
function roff(s: string): string {
  return s.replace(/\\/g, '\\e').replace(/-/g, '\\-').split('\n').map((l) => (/^[.']/.test(l) ? `\\&${l}` : l)).join('\n');
}

function paragraphs(text: string): string {
  return text.trim().split(/\n\s*\n/).map((p) => roff(p.replace(/\s*\n\s*/g, ' ').trim())).join('\n.PP\n');
}

export function manPage(defs: Definition[], version: string, date: string): string {
  const out: string[] = [];
  out.push(`.TH SBX 1 "${date}" "sbx ${version}" "User Commands"`);
  out.push('.SH NAME', 'sbx \\- run a command in a throwaway copy\\-on\\-write sandbox of this machine, then review and keep or discard what it changed');
  out.push('.SH SYNOPSIS');
  for (const d of defs) out.push(`.B ${roff(d.usage)}`, '.br');
  out.push('.SH DESCRIPTION', paragraphs(`sbx runs a command inside new user, mount, pid, ipc, uts, cgroup and network namespaces whose root is a copy-on-write view of the host (one overlay per host mount), under a seccomp filter. What the command writes lands in the sandbox. Afterwards sbx lists what changed and lets you commit it to the host, discard it, or save the sandbox for later (sbx diff, sbx commit).

sbx writes its own messages to standard error; standard output belongs to the command.`));
  out.push('.SH COMMANDS');
  for (const d of defs) {
    out.push(`.SS "${roff(d.path)}"`);
    out.push(`.B ${roff(d.usage)}`, '.PP', paragraphs(d.description ?? ''));
    if (d.details) out.push('.PP', paragraphs(d.details));
    for (const o of d.options) {
      const spec = parseOption(o.definition, o.description ?? '');
      const flags = [...spec.short.map((s) => `\\-${s}`), ...spec.long.map((l) => `\\-\\-${roff(l)}`)].join(', ');
      out.push('.TP', `.B ${flags}${spec.takesValue ? ' \\fIVALUE\\fR' : ''}`, roff(spec.description));
    }
    if (d.examples?.length) {
      out.push('.PP', 'Examples:');
      for (const [what, cmd] of d.examples) out.push('.TP', roff(what.trim()), '.B', roff(cmd.trim()));
    }
  }
  out.push('.SH EXIT STATUS', paragraphs('The command\'s own exit status; 125 if sbx itself failed, 126 if the command could not be executed, 127 if it was not found, 128+N if it was killed by signal N, 124 if --timeout expired.'));
  out.push('.SH FILES', '.TP', '.I ~/.local/state/sbx/', 'saved sandboxes ($SBX_HOME, else $XDG_STATE_HOME/sbx)', '.TP', '.I ~/.cache/sbx/', 'compiled seccomp programs, and the helper when sbx built it on first use ($XDG_CACHE_HOME/sbx)');
  out.push('.SH SEE ALSO', 'sbx completion bash|zsh|fish prints a shell completion script; sbx doctor checks what this machine allows.');
  return `${out.join('\n')}\n`;
}
