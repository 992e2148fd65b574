import { Command, Option } from 'clipanion';
import { SecretMatcher, loadSecretsRules, shippedSecretsPath } from '../policies/secrets.js';
import { secretPaths } from '../sandbox-core/secrets.js';
import { displayText } from '../sandbox-core/base/bpath.js';
import { codeUnitOrder } from '../sandbox-core/base/code-order.js';

export class PolicySecretsCommand extends Command {
  static override paths = [['policy', 'secrets']];

  static override usage = Command.Usage({
    category: 'Policies',
    description: 'list what --hide-secrets hides (the default with --net)',
    details: `
      Prints the rules of policies/secrets.json: environment variable names dropped (case-insensitive, \`*\` matches any run of characters), the exceptions, the value rules (a URL with a password or token before the host, a value in a format only secrets have), and the files and directories under $HOME replaced by an empty, unreadable stand-in.

      With \`--check\`, prints instead which variables of the current environment and which files of the current $HOME would be hidden, and why (names only, never values).
    `,
    examples: [
      ['The rules', 'sbx policy secrets'],
      ['What a --net run would hide here', 'sbx policy secrets --check'],
    ],
  });

  check = Option.Boolean('--check', false, { description: 'Show what this environment and $HOME would lose' });

  override async execute(): Promise<number> {
    const out = this.context.stdout;
    const rules = loadSecretsRules();
    if (this.check) {
      const m = new SecretMatcher(rules);
      for (const [k, v] of Object.entries(process.env).sort(([a], [b]) => codeUnitOrder(a, b))) {
        const r = m.envRule(k, v);
        if (r) out.write(`env   ${displayText(k)}  (${'name' in r ? r.name : r.match})\n`);
      }
      for (const p of secretPaths(process.env.HOME, rules)) out.write(`file  ${displayText(p)}\n`);
      return 0;
    }
    out.write(`# ${shippedSecretsPath()}\n# ${rules.description}\n`);
    out.write('\nenvironment variables dropped by name:\n');
    for (const r of rules.env) out.write(`  ${r.name.padEnd(26)} ${r.why}\n`);
    out.write('\nkept although they match (name exceptions):\n');
    for (const r of rules.envKeep) out.write(`  ${r.name.padEnd(26)} ${r.why}\n`);
    out.write('\nenvironment variables dropped by value:\n');
    for (const r of rules.envValues) out.write(`  ${r.match.padEnd(26)} ${r.why}\n`);
    out.write('\nfiles and directories under $HOME hidden:\n');
    for (const r of rules.files) out.write(`  ~/${r.path.padEnd(24)} ${r.why}\n`);
    return 0;
  }
}
