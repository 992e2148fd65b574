// CI's package check (issue: installs like a real package). Packs sbx, asserts what the
// tarball holds, installs it into fresh prefixes (install scripts allowed, and blocked so the
// helper is built on first use), then, as root and as the unprivileged test user: `sbx doctor`,
// one real `sbx run -n`, `sbx --version` and `man sbx`. Exits 1 on the first failure.
//   node scripts/check-package.mjs
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const USER = 'sbxtest';
const work = mkdtempSync('/tmp/sbx-pkgcheck-');
chmodSync(work, 0o755);
let failures = 0;

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return { code: r.status ?? 128, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
function check(what, ok, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail ? `\n${detail.trim().split('\n').slice(-15).join('\n')}` : ''}`);
  if (!ok) failures++;
}

try {
  // npm pack runs `prepare` (the JS build) first; its output precedes the JSON on stdout.
  const packRun = spawnSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
  check('npm pack', packRun.status === 0, `${packRun.stdout}${packRun.stderr}`);
  const info = JSON.parse(packRun.stdout.slice(packRun.stdout.search(/^\[$/m)));
  const files = info[0].files.map((f) => f.path);
  const tarball = join(work, info[0].filename);
  const bad = files.filter((f) => /^(dist\/(test|cli|sandbox-core|policies|bench)\/|test\/|bench\/|native\/build\/|node_modules\/)/.test(f) || /\.(o|so|node)$/.test(f) || f.endsWith('sbx-helper'));
  check('the tarball holds no tests, benches or binaries', bad.length === 0, bad.join('\n'));
  for (const need of ['dist/bin/sbx.js', 'dist/man/sbx.1', 'native/main.c', 'native/helper.h', 'scripts/build-native.mjs', 'policies/seccomp/default.json', 'policies/devices/default.json', 'package.json', 'README.md']) {
    check(`the tarball holds ${need}`, files.includes(need));
  }
  check('the tarball holds the TypeScript sources', files.some((f) => f.startsWith('cli/') && f.endsWith('.ts')) && files.some((f) => f.startsWith('sandbox-core/')));

  for (const [label, extra] of [['install scripts allowed', []], ['install scripts blocked', ['--ignore-scripts']]]) {
    const prefix = join(work, extra.length ? 'blocked' : 'allowed');
    const inst = sh('npm', ['install', '-g', '--no-audit', '--no-fund', '--prefix', prefix, ...extra, tarball]);
    check(`npm install -g (${label})`, inst.code === 0, inst.out);
    const sbx = join(prefix, 'bin', 'sbx');
    const builtAtInstall = sh('test', ['-x', join(prefix, 'lib/node_modules/sbx/native/build/sbx-helper')]).code === 0;
    check(`helper ${extra.length ? 'not ' : ''}built at install (${label})`, builtAtInstall === !extra.length);
    sh('chmod', ['-R', 'a+rX', work]);
    const users = [['root', null]];
    if (process.getuid() === 0 && sh('id', ['-u', USER]).code === 0) users.push([USER, ['setpriv', '--reuid', USER, '--regid', USER, '--init-groups', '--reset-env', 'env', `HOME=/home/${USER}`, 'PATH=/usr/bin:/bin']]);
    for (const [who, wrap] of users) {
      const cache = mkdtempSync(join(work, 'cache-'));
      chmodSync(cache, 0o777);
      const run = (args) => {
        const env = [`XDG_CACHE_HOME=${cache}/${who}`, `SBX_HOME=${cache}/${who}-store`];
        const full = wrap ? [...wrap, ...env, sbx, ...args] : ['env', ...env, sbx, ...args];
        return sh(full[0], full.slice(1), { cwd: who === 'root' ? '/' : `/home/${USER}`, input: '' });
      };
      const doc = run(['doctor']);
      check(`sbx doctor as ${who} (${label})`, doc.code === 0 && /^ok +helper: /m.test(doc.out), doc.out);
      check(`sbx doctor names the helper's origin as ${who} (${label})`, extra.length ? /in your cache/.test(doc.out) : /in the package/.test(doc.out), doc.out);
      const r = run(['run', '-n', '-q', '--', 'sh', '-c', 'echo inside; touch /tmp/pkgcheck']);
      check(`sbx run -n as ${who} (${label})`, r.code === 0 && r.out.includes('inside'), r.out);
      const v = run(['--version']);
      check(`sbx --version as ${who} (${label})`, v.code === 0 && /^helper \S+, matches/m.test(v.out), v.out);
    }
    const man = sh('man', ['-w', 'sbx'], { env: { ...process.env, MANPATH: join(prefix, 'share', 'man') } });
    if (man.code === 127 || /not found|No such file/.test(man.out) && sh('sh', ['-c', 'command -v man']).code !== 0) console.log('skip man sbx: no man(1) on this machine');
    else check(`man sbx finds the page (${label})`, man.code === 0 && man.out.includes('sbx.1'), man.out);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(failures ? `package check: ${failures} failed` : 'package check: all passed');
process.exit(failures ? 1 : 0);
