import { Command, Option } from 'clipanion';
import { displayText } from '../sandbox-core/base/bpath.js';
import { loadPolicy, compilePolicy, ARCHES } from '../policies/seccomp/index.js';
import { PolicyError } from '../policies/seccomp/errors.js';
import { reportPolicyProblems } from './report-error.js';
import { warn } from './output.js';

export class PolicyCheckCommand extends Command {
  static override paths = [['policy', 'check']];

  static override usage = Command.Usage({
    category: 'Policies',
    description: 'validate a seccomp policy file',
    details: `
      Reads the policy (and what it \`extends\`), reports every problem with the file, the JSON path of the bad field and, for an unknown syscall or constant, the nearest valid names; then compiles it for every supported architecture. Exits 0 when it can be used with \`sbx run --policy\`, 125 when not.

      Rules that can never match (an earlier rule without conditions already decides the syscall) are reported as warnings.
    `,
    examples: [
      ['Check your own policy', 'sbx policy check ./mine.json'],
      ['Check a shipped policy', 'sbx policy check strict'],
    ],
  });

  file = Option.String({ required: true, name: 'file' });

  override async execute(): Promise<number> {
    let policy: ReturnType<typeof loadPolicy>;
    try {
      policy = loadPolicy(this.file);
    } catch (e) {
      // Checking is the place to see every mistake at once; a run says the first.
      if (e instanceof PolicyError) return reportPolicyProblems(e);
      throw e;
    }
    const sizes: string[] = [];
    const shadowed = new Map<string, string[]>();
    for (const arch of ARCHES) {
      const { program, decisions } = compilePolicy(policy, arch);
      sizes.push(`${arch} ${program.length} instructions`);
      for (const d of decisions) {
        for (const r of d.shadowed) {
          const key = `${r.file}: ${r.path}`;
          const list = shadowed.get(key) ?? [];
          if (!list.includes(d.name)) list.push(d.name);
          shadowed.set(key, list);
        }
      }
    }
    for (const [where, names] of shadowed) {
      warn(`${where}: never matches for ${names.join(', ')}: an earlier rule without conditions decides ${names.length > 1 ? 'them' : 'it'}`);
    }
    this.context.stdout.write(`${displayText(policy.name)}: ok, ${policy.rules.length} rules; ${sizes.join(', ')}\n`);
    return 0;
  }
}
