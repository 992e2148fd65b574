import { Command } from 'clipanion';
import { displayText } from '../sandbox-core/base/bpath.js';
import { runChecks } from '../sandbox-core/doctor.js';
import { colors } from './output.js';

export class DoctorCommand extends Command {
  static override paths = [['doctor']];

  static override usage = Command.Usage({
    description: 'check what this machine and user allow sbx to do',
    details: `
      Prints one line per check with ok, missing or limited, and a hint where something can be fixed: user namespaces (and distribution switches such as AppArmor's restriction), overlayfs with userxattr, seccomp, cgroups and their controllers, uid mapping (newuidmap and /etc/subuid), fuse-overlayfs, and the helper binary.

      Exits 0 when sbx can run, 1 when it cannot.
    `,
    examples: [['Check this machine', 'sbx doctor']],
  });

  override async execute(): Promise<number> {
    const checks = await runChecks();
    const out = this.context.stdout;
    for (const c of checks) {
      const tag = c.status === 'ok' ? colors.green('ok     ') : c.status === 'limited' ? colors.yellow('limited') : colors.red('missing');
      out.write(`${tag} ${c.name}: ${displayText(c.detail)}${c.hint ? colors.dim(` (${displayText(c.hint)})`) : ''}\n`);
    }
    return checks.some((c) => c.required && c.status === 'missing') ? 1 : 0;
  }
}
