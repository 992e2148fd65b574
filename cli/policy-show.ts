import { Command, Option } from 'clipanion';
import { displayText } from '../sandbox-core/base/bpath.js';
import { loadPolicy, compilePolicy, parseArch } from '../policies/seccomp/index.js';
import { resolveCapabilities } from '../policies/capabilities/index.js';
import { actionToString, conditionToString, type Action } from '../policies/seccomp/policy.js';
import { knownErrnoName as errnoName } from '../sandbox-core/base/errno.js';
import { wordLines } from './wrap.js';

const act = (a: Action): string => actionToString(a, errnoName);

export class PolicyShowCommand extends Command {
  static override paths = [['policy', 'show']];

  static override usage = Command.Usage({
    category: 'Policies',
    description: 'show a seccomp policy as readable rules',
    details: `
      Prints the policy with \`extends\` applied: its default action, then every rule in the order it is matched (the first matching rule decides a syscall), with argument conditions and the reason given in the file.

      With \`--syscalls\`, prints instead the decision for every syscall of an architecture (\`--arch\`, default: this machine): its action, or the conditions tried before the fallback.
    `,
    examples: [
      ['Show the default policy', 'sbx policy show default'],
      ['Show your own policy', 'sbx policy show ./mine.json'],
      ['What each aarch64 syscall gets under strict', 'sbx policy show strict --syscalls --arch aarch64'],
    ],
  });

  name = Option.String({ required: true, name: 'policy' });
  syscalls = Option.Boolean('--syscalls', false, { description: 'List the decision for every syscall instead of the rules' });
  arch = Option.String('--arch', { description: 'x86_64 or aarch64 (with --syscalls; default: this machine)' });
  capAdd = Option.Array('--cap-add', [], { description: 'Show the policy for a command with this capability added (as sbx run --cap-add)' });
  capDrop = Option.Array('--cap-drop', [], { description: 'Show the policy for a command without this capability (as sbx run --cap-drop)' });

  override async execute(): Promise<number> {
    const out = this.context.stdout;
    const policy = loadPolicy(this.name, resolveCapabilities(this.capAdd, this.capDrop));
    if (this.syscalls) {
      const arch = parseArch(this.arch);
      const { decisions } = compilePolicy(policy, arch);
      const width = Math.max(...decisions.map((d) => d.name.length));
      out.write(`# ${displayText(policy.name)} on ${arch}; any other syscall number: ${act(policy.defaultAction)}\n`);
      for (const d of decisions) {
        const conds = d.conditional.map((r) => `${act(r.action)} if ${r.args.map(conditionToString).join(' && ')}; `).join('');
        out.write(`${String(d.nr).padStart(4)} ${d.name.padEnd(width)}  ${conds}${conds ? 'else ' : ''}${act(d.fallback)}\n`);
      }
      return 0;
    }
    out.write(`${displayText(policy.name)}: ${displayText(policy.description)}\n`);
    out.write(`files: ${policy.chain.map(displayText).join(' <- ')}\n`);
    out.write(`default action: ${act(policy.defaultAction)}\n`);
    out.write(`for a command holding: ${policy.capabilities?.join(' ') || 'no capabilities'} (rules with ifCaps/unlessCaps follow --cap-add/--cap-drop)\n`);
    for (const rule of policy.rules) {
      out.write('\n');
      const cond = rule.args.length ? ` if ${rule.args.map(conditionToString).join(' && ')}` : '';
      const caps = [rule.ifCaps ? `with ${rule.ifCaps.join(', ')}` : '', rule.unlessCaps ? `without ${rule.unlessCaps.join(', ')}` : ''].filter(Boolean).join(', ');
      out.write(`${act(rule.action)}${cond}${caps ? ` [${caps}]` : ''}:\n`);
      out.write(wrap(rule.syscalls.join(' '), 76, '    '));
      if (rule.comment) out.write(wrap(displayText(rule.comment), 76, '    # '));
    }
    return 0;
  }
}

function wrap(text: string, width: number, prefix: string): string {
  return wordLines(text, width).map((l) => `${prefix}${l}\n`).join('');
}
