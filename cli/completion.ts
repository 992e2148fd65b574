// sbx completion bash|zsh|fish: a completion script for the shell; --sandboxes and --policies
// print the words those scripts complete with (saved sandbox ids and names, policy names).
import { Command, Option, UsageError } from 'clipanion';
import { displayText } from '../sandbox-core/base/bpath.js';

export class CompletionCommand extends Command {
  static override paths = [['completion']];

  static override usage = Command.Usage({
    description: 'print a shell completion script (bash, zsh or fish)',
    details: `
      Completes commands, options, saved sandbox ids and names (for diff, commit, discard and --in) and seccomp policy names. Install it once:

      bash: sbx completion bash > ~/.local/share/bash-completion/completions/sbx

      zsh: sbx completion zsh > "\${fpath[1]}/_sbx" (or eval "$(sbx completion zsh)" in ~/.zshrc)

      fish: sbx completion fish > ~/.config/fish/completions/sbx.fish
    `,
    examples: [['Enable completion in the current bash', 'source <(sbx completion bash)']],
  });

  shell = Option.String({ required: false, name: 'shell' });
  sandboxes = Option.Boolean('--sandboxes', false, { description: 'Print saved sandbox ids and names, one per line' });
  policies = Option.Boolean('--policies', false, { description: 'Print shipped seccomp policy names, one per line' });

  override async execute(): Promise<number> {
    const out = this.context.stdout;
    if (this.sandboxes) {
      const { Store, isPlainName } = await import('../sandbox-core/store.js');
      // Names come from meta.json (hostile input): only well-formed ids and names are printed.
      // Broken entries too: 'sbx discard ID' is how they go.
      for (const e of new Store().entries()) for (const w of [e.id, e.meta?.name]) if (typeof w === 'string' && isPlainName(w)) out.write(`${w}\n`);
      return 0;
    }
    if (this.policies) {
      const { shippedPolicyNames } = await import('../policies/seccomp/load.js');
      for (const n of shippedPolicyNames()) out.write(`${n}\n`);
      return 0;
    }
    const scripts = await import('./completion-scripts.js');
    // loadCommands registered every command for a script (commands.ts).
    const defs = this.cli.definitions();
    switch (this.shell) {
      case 'bash': out.write(scripts.bashScript(defs)); return 0;
      case 'zsh': out.write(scripts.zshScript(defs)); return 0;
      case 'fish': out.write(scripts.fishScript(defs)); return 0;
      default: throw new UsageError(`sbx completion: give a shell: bash, zsh or fish${this.shell ? ` (not '${displayText(this.shell)}')` : ''}`);
    }
  }
}
