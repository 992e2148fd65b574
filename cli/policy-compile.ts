import { Command, Option } from 'clipanion';
import { loadPolicy, compilePolicy, syscallNames, parseArch } from '../policies/seccomp/index.js';
import { encode } from '../policies/seccomp/bpf.js';
import { disassemble } from '../policies/seccomp/disasm.js';
import { SbxError } from '../sandbox-core/base/errors.js';
import { displayText } from '../sandbox-core/base/bpath.js';

export class PolicyCompileCommand extends Command {
  static override paths = [['policy', 'compile']];

  static override usage = Command.Usage({
    category: 'Policies',
    description: 'compile a seccomp policy to BPF',
    details: `
      Compiles a shipped policy or a JSON file for an architecture (\`--arch\`, default: this machine).

      \`--format asm\` (the default) prints a readable disassembly with labels: the architecture check, the binary search over syscall numbers, the argument checks and one return per action. \`--format bpf\` writes the raw program (8-byte \`struct sock_filter\` records, little-endian) to stdout, as the helper installs it; redirect it to a file.
    `,
    examples: [
      ['Read the compiled default policy', 'sbx policy compile default'],
      ['Raw program for aarch64', 'sbx policy compile strict --arch aarch64 --format bpf > strict.bpf'],
    ],
  });

  name = Option.String({ required: true, name: 'policy' });
  arch = Option.String('--arch', { description: 'x86_64 or aarch64 (default: this machine)' });
  format = Option.String('--format', 'asm', { description: 'asm (readable) or bpf (raw bytes)' });

  override async execute(): Promise<number> {
    if (this.format !== 'asm' && this.format !== 'bpf') {
      throw new SbxError(`unknown format '${displayText(this.format)}'`, 125, 'use --format asm or --format bpf');
    }
    const arch = parseArch(this.arch);
    const out = this.context.stdout as NodeJS.WriteStream;
    if (this.format === 'bpf' && out.isTTY) {
      throw new SbxError('refusing to write a binary program to a terminal', 125, 'redirect stdout to a file, or use --format asm');
    }
    const { program, labels } = compilePolicy(loadPolicy(this.name), arch);
    if (this.format === 'bpf') out.write(encode(program));
    else {
      out.write(`; ${this.name} for ${arch}: ${program.length} instructions\n`);
      out.write(disassemble(program, { labels, syscallNames: syscallNames(arch) }));
    }
    return 0;
  }
}
