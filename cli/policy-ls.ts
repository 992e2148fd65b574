import { Command } from 'clipanion';
import { listShippedPolicies } from '../policies/seccomp/index.js';

export class PolicyLsCommand extends Command {
  static override paths = [['policy', 'ls']];

  static override usage = Command.Usage({
    category: 'Policies',
    description: 'list the shipped seccomp policies',
    details: `
      Prints each shipped policy's name, what it extends, and its description. Use a name with \`sbx run --policy NAME\`, or write your own JSON file (see docs/policies.md) and pass its path.
    `,
    examples: [['List policies', 'sbx policy ls']],
  });

  override async execute(): Promise<number> {
    const out = this.context.stdout;
    const policies = listShippedPolicies();
    const width = Math.max(...policies.map((p) => p.name.length));
    for (const p of policies) {
      const ext = p.extends ? ` (extends ${p.extends})` : '';
      out.write(`${p.name.padEnd(width)}  ${p.description}${ext}\n`);
    }
    return 0;
  }
}
