// The `!` rules' example changes: per rule, changes it must mark (and be the rule that marks
// them), and ordinary changes nearby. sensitive.test.ts checks each; sensitive-filter.test.ts
// uses their paths in its comparison of the filtered rules with the whole table.
import type { Change, EntryStat } from '../../sandbox-core/changes/types.js';
import { fromUser } from '../../sandbox-core/base/bpath.js';
import { PACKAGE_ROOT } from '../../sandbox-core/package-root.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// A host source for the python-bytecode rule, which looks for ../NAME.py on the host.
const PYDIR = mkdtempSync(join(tmpdir(), 'sbx-pyc-case-'));
writeFileSync(join(PYDIR, 'm.py'), 'print(1)\n');
process.on('exit', () => rmSync(PYDIR, { recursive: true, force: true }));

/**
 * An ld.so.cache in glibc's new format (after `oldEntries` old-format entries when given, as
 * a cache of both formats is): each [name, path] one entry, string offsets from the new header.
 */
export function ldCache(entries: Array<[string, string]>, oldEntries?: number): Buffer {
  const head = oldEntries === undefined ? Buffer.alloc(0) : Buffer.alloc(Math.ceil((16 + oldEntries * 12) / 8) * 8);
  if (oldEntries !== undefined) { head.write('ld.so-1.7.0', 0, 'latin1'); head.writeUInt32LE(oldEntries, 12); }
  const header = Buffer.alloc(48 + entries.length * 24);
  header.write('glibc-ld.so.cache1.1', 0, 'latin1');
  header.writeUInt32LE(entries.length, 20);
  const strings: Buffer[] = [];
  let at = header.length;
  const put = (t: string): number => { const b = Buffer.from(`${t}\0`, 'latin1'); strings.push(b); at += b.length; return at - b.length; };
  entries.forEach(([name, path], i) => {
    header.writeInt32LE(0x303, 48 + i * 24);
    header.writeUInt32LE(put(name), 48 + i * 24 + 4);
    header.writeUInt32LE(put(path), 48 + i * 24 + 8);
  });
  header.writeUInt32LE(at - header.length, 24);
  return Buffer.concat([head, header, ...strings]);
}
// An ldconfig's cache of standard dirs in an upper layer (the loader-cache rule reads it).
const LDCACHE_OK = join(PYDIR, 'ld.so.cache');
writeFileSync(LDCACHE_OK, ldCache([['libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6'], ['libgfortran.so.5', '/usr/lib/x86_64-linux-gnu/libgfortran.so.5']]));
// Login banners: plain text, and one with an OSC 52 string (the login-banner rule reads them).
const BANNER_OK = join(PYDIR, 'motd');
writeFileSync(BANNER_OK, 'Debian GNU/Linux 12 \\n \\l\n\tWelcome, caf\u00e9 \u201dok\u201d\r\n');
const BANNER_EVIL = join(PYDIR, 'motd-evil');
writeFileSync(BANNER_EVIL, 'Welcome\n\x1b]52;c;Y3VybCB4fHNo\x07');
const BANNER_C1 = join(PYDIR, 'motd-c1');
writeFileSync(BANNER_C1, 'Welcome\n\u009b8m');
const LDCACHE_EVIL = join(PYDIR, 'ld.so.cache-evil');
writeFileSync(LDCACHE_EVIL, ldCache([['libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6'], ['libpam.so.0', '/var/tmp/.x/libpam.so.0']]));

// gdk-pixbuf's and GTK's module caches (the module-cache rule reads them), and GIO's, whose
// modules are named relative to its dir.
const LOADERS = '/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders';
const LOADERS_OK = join(PYDIR, 'loaders.cache');
writeFileSync(LOADERS_OK, `# GdkPixbuf Image Loader Modules file\n"${LOADERS}/libpixbufloader-png.so"\n"png" 5 "gdk-pixbuf" "PNG" "LGPL"\n"image/png" ""\n`);
const LOADERS_EVIL = join(PYDIR, 'loaders.cache-evil');
writeFileSync(LOADERS_EVIL, `"${LOADERS}/libpixbufloader-png.so"\n"png" 5 "gdk-pixbuf" "PNG" "LGPL"\n\n"/var/tmp/.x/libpixbufloader-x.so"\n"x" 5 "gdk-pixbuf" "X" "LGPL"\n`);
const IM_EVIL = join(PYDIR, 'immodules.cache-evil');
writeFileSync(IM_EVIL, `"/usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules/../../../../../../tmp/im-x.so"\n"x" "X" "gtk30" "/usr/share/locale" ""\n`);
const GIO_OK = join(PYDIR, 'giomodule.cache');
writeFileSync(GIO_OK, 'libgvfsdbus.so: gio-vfs,gio-volume-monitor\nlibdconfsettings.so: gsettings-backend\n');

// dpkg file lists (the dpkg-file-list rule reads them and looks up each new line on the host):
// dirs and paths this machine lacks; a host file, by its own name, through /bin (a symlink on
// a merged-/usr host), without its leading `/`, and through `..`.
const LIST_OK = join(PYDIR, 'ok.list');
writeFileSync(LIST_OK, '/.\n/usr\n/usr/share\n/usr/share/sbx-case-none\n/usr/share/sbx-case-none/x\n/etc/\n/usr/lib/..\n');
const listOf = (name: string, lines: string): string => { const f = join(PYDIR, name); writeFileSync(f, lines); return f; };
const LISTS_EVIL = [listOf('evil.list', '/usr/share/sbx-case-none/x\n/etc/passwd\n'), listOf('linked.list', '/usr/share/sbx-case-none\n/bin/sh\n'),
  listOf('relative.list', 'etc/passwd\n'), listOf('dotdot.list', '/usr/../etc/./passwd\n')];

// Venvs (python-startup and tls-trust ask whether the command made the venv: its pyvenv.cfg in
// the layer, neither it nor the site-packages on the host): one made in a dir this machine
// lacks; one the host has (in PYDIR; its site-packages for another Python version, made by
// the command); a host prefix with site-packages and no pyvenv.cfg, to which the layer adds
// one; a new user site, no pyvenv.cfg anywhere.
const LAYER = join(PYDIR, 'layer');
const SITE = 'lib/python3.11/site-packages';
const inLayer = (p: string, body = ''): string => { const f = join(LAYER, p); mkdirSync(dirname(f), { recursive: true }); writeFileSync(f, body); return f; };
const NEW_VENV = '/home/sbx-case-none/proj/.venv';
const HOST_VENV = join(PYDIR, 'venv');
const HOST_PREFIX = join(PYDIR, 'prefix');
const NEW_SITE_ROOT = '/home/sbx-case-none/.local';
for (const v of [NEW_VENV, HOST_VENV, HOST_PREFIX]) inLayer(`${v}/pyvenv.cfg`, 'home = /usr/bin\n');
mkdirSync(HOST_VENV);
writeFileSync(join(HOST_VENV, 'pyvenv.cfg'), 'home = /usr/bin\n');
mkdirSync(join(HOST_PREFIX, SITE), { recursive: true });
/** A new file below venv root `v`'s site-packages, with its file in the layer. */
const inVenv = (v: string, rel: string): C => ({ ...file(`${v}/${SITE}/${rel}`), upper: inLayer(`${v}/${SITE}/${rel}`) });

const st = (type: EntryStat['type'], perm: number): EntryStat => ({ type, perm, uid: 0, gid: 0, size: 1, mtimeMs: 0, atimeMs: 0, ctimeMs: 0, ino: 1, dev: 1, nlink: 1, rdev: 0 });
export type C = Pick<Change, 'path' | 'change' | 'type'> & Partial<Change>;
export const file = (path: string, change: Change['change'] = 'added'): C => ({ path: fromUser(path), change, type: 'file', up: st('file', 0o644) });
/** An executable regular file (mode 755). */
const program = (path: string, change: Change['change'] = 'added'): C => ({ ...file(path, change), up: st('file', 0o755) });

// Rules whose marks depend on what the host holds, tested where a tree made for them stands
// for the host's `/`: rule id → that test.
export const CASES_ELSEWHERE: Record<string, string> = { 'host-job': 'unit/host-jobs (cron tables and units of a tree it makes)',
  'path-shadow': 'unit/sensitive (the PATH dirs of a tree it makes)', 'library-shadow': 'unit/sensitive (the loader dirs of a tree it makes)',
  'build-shadow': 'unit/sensitive (the include, pkg-config and CMake dirs of a tree it makes)' };

// Rule id → changes it must mark (and be the rule that marks them).
export const CASES: Record<string, C[]> = {
  'sbx-state': ['/home/u/.config/sbx/config.json', '/home/u/.cache/sbx/helper/0.1.0+x/sbx-helper', '/root/.local/state/sbx/ab12cd34/meta.json', '/home/u/.cache/sbx'].map((p) => file(p)),
  'sbx-install': [`${PACKAGE_ROOT}/policies/fold.json`, `${PACKAGE_ROOT}/dist/bin/sbx.js`, `${PACKAGE_ROOT}/native/build/sbx-helper`, `${PACKAGE_ROOT}/package.json`].map((p) => file(p, 'modified')),
  'shell-startup': ['/etc/mkshrc', '/etc/xonsh/xonshrc', '/usr/share/fish/vendor_conf.d/x.fish', '/usr/local/share/fish/vendor_functions.d/ls.fish', '/usr/share/fish/vendor_completions.d/x.fish', '/usr/share/zsh/site-functions/_x', '/usr/local/share/zsh/site-functions/_x', '/usr/share/zsh/vendor-completions/_x', '/usr/share/zsh/vendor-functions/x', '/etc/profile', '/etc/bash.bashrc', '/etc/zprofile', ...['bashrc', 'environment', 'zshrc', 'zshenv', 'zlogin', 'zlogout', 'csh.cshrc', 'csh.login', 'ksh.kshrc'].map((n) => `/etc/${n}`), '/etc/profile.d/x.sh', '/etc/environment', '/etc/bash.bash_logout', '/home/u/.config/fish/conf.d/x.fish', '/home/u/.bashrc.d/x.sh', '/root/.cargo/env', '/home/u/.cargo/env.fish',
    '/etc/bash_completion.d/x', '/etc/bash_completion', '/usr/share/bash-completion/completions/git', '/usr/local/share/bash-completion/completions/x', '/usr/share/bash-completion/bash_completion', '/usr/local/share/bash-completion/bash_completion',
    '/home/u/.local/share/bash-completion/completions/ls', '/etc/X11/Xsession.d/99x', '/etc/X11/Xsession', '/etc/X11/xinit/xinitrc', '/etc/X11/xinit/xinitrc.d/x.sh'].map((p) => file(p, 'modified')),
  'tcl-package': ['/usr/share/tcltk/evil/pkgIndex.tcl', '/usr/share/tcltk/tcl8.6/x/pkgIndex.tcl', '/usr/lib/tcltk/x86_64-linux-gnu/x/pkgIndex.tcl', '/usr/local/lib/tcltk/x/pkgIndex.tcl',
    '/usr/local/share/tcltk/x/pkgIndex.tcl', '/usr/lib/x/pkgIndex.tcl'].map((p) => file(p)),
  // Names no host command has (a host's is shell-startup's: unit/sensitive's tree).
  'new-completion': ['/usr/share/bash-completion/completions/sbx-no-such-cmd', '/usr/local/share/bash-completion/completions/_sbx-no-such-cmd', '/usr/share/fish/vendor_completions.d/sbx-no-such-cmd.fish'].map((p) => file(p)),
  sudoers: ['/etc/sudoers', '/etc/sudoers.d/99-me'].map((p) => file(p)),
  'identity-source': ['/etc/sssd/sssd.conf', '/etc/sssd/conf.d/01-ldap.conf', '/var/lib/sss/db/cache_example.com.ldb', '/var/lib/sss/pubconf/krb5.include.d/domain_realm_x',
    '/etc/nslcd.conf', '/etc/libnss-ldap.conf', '/etc/pam_ldap.conf', '/etc/ldap.conf', '/etc/krb5.conf', '/etc/krb5.conf.d/x.conf', '/etc/krb5.keytab'].map((p) => file(p, 'modified')),
  'sudo-conf': [file('/etc/sudo.conf', 'modified'), file('/etc/sudo.conf')],
  'loader-cache': [{ ...file('/etc/ld.so.cache', 'modified'), upper: LDCACHE_EVIL }, file('/etc/ld.so.cache', 'modified'),
    { path: fromUser('/etc/ld.so.cache'), change: 'replaced', type: 'symlink', target: '/var/tmp/.x/cache' }],
  'module-cache': [{ ...file('/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache', 'modified'), upper: LOADERS_EVIL },
    { ...file('/usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules.cache', 'modified'), upper: IM_EVIL }, file('/usr/lib/x86_64-linux-gnu/gtk-2.0/2.10.0/immodules.cache')],
  gconv: ['/usr/lib/x86_64-linux-gnu/gconv/gconv-modules', '/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.d/x.conf', '/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache',
    '/lib/gconv/gconv-modules', '/usr/lib64/gconv/gconv-modules.d/y.conf', '/lib64/gconv/gconv-modules'].map((p) => file(p)),
  loader: ['/etc/ld.so.preload', '/etc/ld.so.conf', '/etc/ld.so.conf.d/evil.conf'].map((p) => file(p)),
  cron: [...['/etc/crontab', '/etc/cron.d/job', '/etc/cron.daily/x', '/var/spool/cron/crontabs/root', '/etc/cron.d/job.sh', '/var/spool/at/a0001'].map((p) => file(p)),
    { path: '/etc/cron.d/job', change: 'added', type: 'symlink', target: '/tmp/evil' }, { path: '/etc/cron.daily', change: 'replaced', type: 'symlink', target: '/tmp/evil' }],
  systemd: ['/usr/lib/systemd/system-environment-generators/x', '/etc/systemd/user-environment-generators/x', '/etc/systemd/system/x.service', '/etc/systemd/system/multi-user.target.wants/x.service', '/usr/lib/systemd/system/y.service', '/home/u/.config/systemd/user/z.service', '/usr/lib/systemd/system-generators/g',
    // Each prefix the pattern's gate is made of (the random samples need not hit every one).
    ...['/etc', '/usr/lib', '/lib', '/usr/local/lib', '/run'].flatMap((d) => [`${d}/systemd/system/x.service`, `${d}/systemd/user/x.service`]),
    '/usr/lib/systemd/system-sleep/x', '/lib/systemd/system-shutdown/x', '/lib/systemd/system-sleep/y', '/usr/lib/systemd/system-shutdown/y', '/home/u/.local/share/systemd/user/x.service'].map((p) => file(p)),
  init: [{ path: fromUser('/etc/sv/ssh'), change: 'deleted', type: 'dir' }, ...['/etc/sv/ssh/run', '/etc/sv/ssh/log/run', '/etc/service/ssh', '/etc/runit/1', '/etc/rc.shutdown'].map((p) => file(p, 'modified')), ...['/etc/init.d/x', '/etc/rc.local', '/etc/rc2.d/S01x', '/etc/inittab', '/etc/rc.d/rc.local', '/etc/rc.d/init.d/x', '/etc/init/x.conf'].map((p) => file(p)),
    // Who may run or write it, and a removal (a service no longer started), still count; its times alone do not (ORDINARY).
    { path: fromUser('/etc/init.d/y'), change: 'metadata', type: 'file', up: st('file', 0o777), details: ['mode'] }, { path: fromUser('/etc/rc2.d/S01y'), change: 'deleted', type: 'symlink' }],
  'sudo-timestamp': [file('/run/sudo/ts/root'), file('/var/run/sudo/ts/u', 'modified')],
  dbus: ['/usr/share/dbus-1/system-services/org.x.service', '/usr/share/dbus-1/services/org.x.service', '/etc/dbus-1/system.d/x.conf', '/usr/share/dbus-1/system.d/x.conf',
    '/usr/local/share/dbus-1/system-services/org.y.service', '/etc/dbus-1/session.d/x.conf', '/usr/share/dbus-1/system.conf', '/etc/dbus-1/system-local.conf', '/etc/dbus-1/session.conf',
    '/home/u/.local/share/dbus-1/services/org.x.service',
    // Every text of the patterns (sensitive-filter.test.ts asks that each is needed by one).
    ...['usr/share/dbus-1/session.d', 'usr/local/share/dbus-1/services', 'usr/local/share/dbus-1/system.d', 'usr/local/share/dbus-1/session.d'].map((d) => `/${d}/x.conf`),
    '/etc/dbus-1/system-services/x.service', '/etc/dbus-1/services/x.service', '/usr/share/dbus-1/system-local.conf', '/usr/share/dbus-1/session.conf', '/usr/share/dbus-1/session-local.conf', '/etc/dbus-1/system.conf', '/etc/dbus-1/session-local.conf'].map((p) => file(p)),
  'service-config': ['/etc/apache2/mods-enabled/x.load', '/etc/httpd/conf/httpd.conf', '/etc/nginx/nginx.conf', '/etc/lighttpd/lighttpd.conf', '/etc/postgresql/15/main/pg_hba.conf',
    '/etc/mysql/my.cnf', '/etc/syslog-ng/syslog-ng.conf', '/etc/supervisor/conf.d/x.conf', '/etc/xinetd.d/x', '/etc/monit/monitrc', '/etc/rsyslog.conf', '/etc/rsyslog.d/50-x.conf',
    '/etc/inetd.conf', '/etc/supervisord.conf', '/etc/vsftpd.conf', '/etc/exim4/conf.d/main/01_exim4-config_listmacrosdefs', '/etc/postfix/main.cf', '/etc/postfix/master.cf',
    '/etc/mail/sendmail.cf', '/etc/mail/sendmail.mc', '/etc/cups/cupsd.conf', '/etc/cups/cups-files.conf', '/usr/lib/cups/backend/usb', '/usr/lib/cups/filter/rastertopdf',
    '/usr/lib/cups/cgi-bin/admin.cgi', '/usr/lib/cups/daemon/cups-exec', '/usr/lib/cups/notifier/dbus', '/usr/lib/cups/monitor/bcp',
    '/etc/keepalived/keepalived.conf', '/etc/haproxy/haproxy.cfg', '/etc/nut/upsmon.conf', '/etc/apcupsd/apccontrol', '/etc/snmp/snmpd.conf', '/etc/zabbix/zabbix_agentd.conf',
    '/etc/nagios/nrpe.cfg', '/etc/collectd/collectd.conf', '/etc/telegraf/telegraf.conf', '/etc/dovecot/conf.d/10-auth.conf'].map((p) => file(p, 'modified')),
  'vpn-config': ['/etc/wireguard/wg0.conf', '/etc/openvpn/client/x.conf', '/etc/openvpn/server.conf', '/etc/openvpn/update-resolv-conf', '/etc/strongswan.conf', '/etc/ipsec.conf',
    '/etc/ipsec.d/x.conf', '/etc/strongswan.d/charon.conf', '/etc/swanctl/conf.d/x.conf'].map((p) => file(p)),
  'mail-command': ['/etc/aliases', '/etc/aliases.db', '/etc/aliases.lmdb', '/etc/aliases.cdb', '/home/u/.forward', '/root/.forward', '/home/u/.procmailrc', '/etc/procmailrc', '/home/u/.mailfilter'].map((p) => file(p, 'modified')),
  'event-hook': ['/etc/smartd.conf', '/etc/smartmontools/smartd.conf', '/etc/smartmontools/run.d/10mail', '/etc/smartmontools/smartd_warning.d/x', '/etc/mdadm/mdadm.conf',
    '/etc/zfs/zed.d/all-syslog.sh', '/etc/watchdog.conf', '/etc/watchdog.d/x'].map((p) => file(p)),
  // A semaphore deleted makes its module run again at the next boot.
  'cloud-init': [...['/etc/cloud/cloud.cfg', '/etc/cloud/cloud.cfg.d/99-x.cfg', '/var/lib/cloud/scripts/per-boot/x', '/var/lib/cloud/instances/i-1/scripts/runcmd'].map((p) => file(p)),
    { path: '/var/lib/cloud/instances/i-1/sem/config_scripts_user', change: 'deleted', type: 'file' }, { path: '/etc/cloud/cloud.cfg.d/99-disable-network-config.cfg', change: 'deleted', type: 'file' }],
  acpi: ['/etc/acpi/events/powerbtn', '/etc/acpi/powerbtn.sh'].map((p) => file(p)),
  'php-config': ['/etc/php/8.2/cli/php.ini', '/etc/php/8.2/cli/conf.d/99-x.ini', '/etc/php/8.2/mods-available/x.ini', '/usr/local/etc/php/conf.d/x.ini'].map((p) => file(p)),
  autostart: ['/etc/xdg/autostart/x.desktop', '/home/u/.config/autostart/x.desktop'].map((p) => file(p)),
  accounts: ['/etc/passwd', '/etc/shadow', '/etc/group', '/etc/gshadow', '/etc/subuid', '/usr/lib/sysusers.d/x.conf', '/etc/sysusers.d/x.conf', '/run/sysusers.d/x.conf'].map((p) => file(p, 'modified')),
  pam: ['/etc/pam.d/common-auth', '/etc/pam.d/sshd', '/etc/security/limits.conf', '/usr/lib/x86_64-linux-gnu/security/pam_evil.so', '/usr/share/pam-configs/evil'].map((p) => file(p)),
  nsswitch: [file('/etc/nsswitch.conf', 'modified')],
  'name-resolution': [file('/usr/lib/systemd/resolved.conf.d/x.conf'), file('/run/systemd/resolved.conf.d/x.conf'), file('/etc/hosts', 'modified'), file('/etc/resolv.conf', 'modified'), { path: fromUser('/etc/resolv.conf'), change: 'replaced', type: 'symlink', target: '/run/x/resolv.conf' },
    ...['/etc/systemd/resolved.conf', '/etc/systemd/resolved.conf.d/dns.conf', '/etc/resolvconf/resolv.conf.d/head', '/etc/dnsmasq.conf', '/etc/dnsmasq.d/x.conf'].map((p) => file(p))],
  'ssh-host-key': [...['/etc/ssh/ssh_host_ed25519_key', '/etc/ssh/ssh_host_rsa_key.pub', '/etc/ssh/ssh_host_ecdsa_key-cert.pub'].map((p) => file(p)), file('/etc/ssh/ssh_host_rsa_key', 'modified'),
    { path: '/etc/ssh/ssh_host_ed25519_key', change: 'deleted', type: 'file' }],
  ssh: ['/etc/ssh/sshd_config', '/etc/ssh/ssh_host_key_notes', '/etc/ssh/sshd_config.d/ssh_host_rsa_key', '/home/u/.ssh/authorized_keys', '/root/.ssh/config'].map((p) => file(p)),
  'package-source': ['/etc/apt/sources.list.d/evil.list', '/etc/apt/apt.conf.d/99hook', '/etc/apt/trusted.gpg.d/k.gpg', '/usr/share/keyrings/k.gpg', '/etc/apt/apt.conf',
    '/etc/pacman.conf', '/etc/pacman.d/mirrorlist', '/etc/pacman.d/gnupg/pubring.gpg', '/usr/share/pacman/keyrings/archlinux.gpg', '/etc/dnf/dnf.conf', '/etc/yum.conf', '/etc/pki/rpm-gpg/RPM-GPG-KEY-x',
    '/etc/apk/repositories', '/etc/apk/keys/x.rsa.pub', '/etc/zypp/repos.d/x.repo'].map((p) => file(p)),
  'package-hook': ['/etc/pacman.d/hooks/99-x.hook', '/usr/share/libalpm/hooks/x.hook', '/usr/share/libalpm/scripts/x', '/var/lib/pacman/local/sl-5.02-1/install',
    '/etc/dnf/plugins/x.conf', '/etc/yum/pluginconf.d/x.conf', '/usr/lib/yum-plugins/x.py', '/etc/rpm/macros.x', '/usr/lib/rpm/macros.d/macros.x', '/var/lib/rpm/rpmdb.sqlite',
    '/etc/apk/commit_hooks.d/x.sh', '/lib/apk/db/scripts.tar', '/etc/needrestart/needrestart.conf', '/etc/needrestart/conf.d/x.conf',
    '/etc/dnf/pluginconf.d/x.conf', '/etc/yum/plugins/x.py'].map((p) => file(p, 'modified')),
  'dpkg-override': [file('/var/lib/dpkg/statoverride', 'modified'), file('/var/lib/dpkg/diversions', 'modified'), { path: '/var/lib/dpkg/diversions', change: 'deleted', type: 'file' }],
  'dpkg-file-list': [...LISTS_EVIL.map((upper, i) => ({ ...file(`/var/lib/dpkg/info/sbx-case${i}.list`, i % 2 ? 'modified' : 'added'), upper })),
    file('/var/lib/dpkg/info/coreutils.list', 'modified'), { path: '/var/lib/dpkg/info/coreutils.list', change: 'replaced', type: 'symlink', target: 'bash.list', oldType: 'file' }],
  // What they hold is apt-state.ts's to read (unit/apt-state; integration/view on this host's
  // packages): unread, or a symlink in their place, they are marked.
  'apt-auto-mark': [file('/var/lib/apt/extended_states', 'modified'), { path: '/var/lib/apt/extended_states', change: 'replaced', type: 'symlink', target: '/tmp/x', oldType: 'file' }],
  'nix-store': [file('/nix/store/abc-bash-5.2/bin/bash', 'modified'), { path: '/nix/store/abc-bash-5.2/bin/sh', change: 'deleted', type: 'symlink' },
    { path: '/nix/store/abc-bash-5.2', change: 'replaced', type: 'symlink', target: '/tmp/x', oldType: 'dir' }, { path: '/nix/store/abc-bash-5.2/bin/bash', change: 'metadata', type: 'file', up: st('file', 0o755), details: ['mode 555→755'] }],
  'nix-profile': [{ path: '/nix/var/nix/profiles/default', change: 'modified', type: 'symlink', target: 'default-2-link' }, { path: '/home/u/.nix-profile', change: 'replaced', type: 'symlink', target: '/tmp/x', oldType: 'dir' },
    { path: '/home/u/.local/state/nix/profiles/profile', change: 'modified', type: 'symlink', target: 'profile-3-link' }],
  'nix-config': ['/etc/nix/nix.conf', '/etc/nix/registry.json', '/home/u/.config/nix/nix.conf', '/home/u/.config/nix/registry.json'].map((p) => file(p)),
  'go-build-cache': ['/home/u/.cache/go-build/ab/abcd-a', '/home/u/.cache/go-build/ab/abcd-d', '/root/.cache/go-build/00/00ff-d'].map((p) => file(p)),
  'js-package-cache': ['/home/u/.cache/yarn/v6/npm-x-1.0.0-abc-integrity/node_modules/x/index.js', '/home/u/.local/share/pnpm/store/v3/files/ab/cdef0123',
    '/home/u/.cache/deno/deps/https/deno.land/abc', '/home/u/.cache/deno/remote/https/jsr.io/x', '/home/u/.cache/deno/npm/registry.npmjs.org/x/1.0.0/index.js',
    '/home/u/.bun/install/cache/x@1.0.0@@@1/index.js', '/home/u/.yarn/berry/cache/x-npm-1.0.0-abc-10c0.zip'].map((p) => file(p)),
  'compiler-cache': ['/home/u/.cache/ccache/a/b/abcdef.o', '/home/u/.ccache/a/b/x.result', '/home/u/.cache/sccache/a/b/x', '/home/u/.cache/node-gyp/20.11.0/include/node/node.h'].map((p) => file(p)),
  'hook-cache': ['/home/u/.cache/pre-commit/repo1abc/hooks.py', '/home/u/.cache/pre-commit/db.db'].map((p) => file(p)),
  'model-cache': ['/home/u/.cache/huggingface/hub/models--x--y/snapshots/abc/modeling_y.py', '/home/u/.cache/huggingface/hub/models--x--y/blobs/0123',
    '/home/u/.cache/huggingface/modules/transformers_modules/x/modeling.py', '/home/u/.cache/torch/hub/x_y_main/hubconf.py'].map((p) => file(p)),
  'container-storage': ['/var/lib/docker/overlay2/abc/diff/usr/bin/x', '/var/lib/docker/image/overlay2/repositories.json', '/var/lib/containers/storage/overlay/abc/diff/bin/sh',
    '/var/lib/containerd/io.containerd.content.v1.content/blobs/sha256/ab', '/home/u/.local/share/containers/storage/overlay/abc/diff/bin/sh'].map((p) => file(p)),
  'ivy-nuget-hex-cache': ['/home/u/.ivy2/cache/org.x/y/jars/y-1.0.jar', '/home/u/.ivy2/local/org.x/y/1.0/jars/y.jar', '/home/u/.nuget/packages/x/1.0.0/lib/net6.0/x.dll', '/home/u/.hex/packages/hexpm/x-1.0.0.tar',
    '/home/u/.cache/coursier/v1/https/repo1.maven.org/maven2/org/x/y/1.0/y-1.0.jar', '/home/u/.pub-cache/hosted/pub.dev/x-1.0.0/lib/x.dart', '/home/u/.pub-cache/git/x-abc/lib/x.dart'].map((p) => file(p)),
  'package-index-config': ['/home/u/.nuget/NuGet/NuGet.Config', '/home/u/.sbt/repositories', '/usr/lib/go-1.21/go.env', '/usr/lib/go/go.env', '/usr/local/lib/go/go.env'].map((p) => file(p, 'modified')),
  'composer-global': ['/home/u/.config/composer/config.json', '/home/u/.config/composer/composer.json', '/home/u/.config/composer/vendor/x/y/src/Plugin.php', '/home/u/.composer/vendor/autoload.php',
    '/home/u/.composer/config.json', '/home/u/.composer/composer.json'].map((p) => file(p)),
  'dpkg-selection': [file('/var/lib/dpkg/status', 'modified'), { path: '/var/lib/dpkg/status', change: 'replaced', type: 'symlink', target: 'status-old', oldType: 'file' }],
  'dpkg-hook': ['/etc/dpkg/dpkg.cfg.d/99-hook', '/etc/dpkg/dpkg.cfg', '/var/lib/dpkg/info/coreutils.prerm', '/var/lib/dpkg/info/libc6:amd64.postinst', '/var/lib/dpkg/info/x.config'].map((p) => file(p, 'modified')),
  udev: ['/etc/udev/rules.d/99-x.rules', '/usr/lib/udev/rules.d/99-y.rules', '/lib/udev/rules.d/z.rules', '/usr/local/lib/udev/rules.d/99-z.rules'].map((p) => file(p)),
  modprobe: ['/etc/modprobe.d/x.conf', '/etc/modules-load.d/x.conf', '/usr/lib/modprobe.d/y.conf', '/etc/modules'].map((p) => file(p)),
  firmware: [...['/etc/fwupd/remotes.d/lvfs.conf', '/usr/share/fwupd/remotes.d/x.conf', '/etc/pki/fwupd/x.pem', '/etc/pki/fwupd-metadata/x.pem'].map((p) => file(p, 'modified')), file('/lib/firmware/x.bin'), file('/usr/lib/firmware/iwlwifi-x.ucode', 'modified'), file('/lib/firmware/amdgpu/x.bin.zst'), { path: '/lib/firmware/i915', change: 'replaced', type: 'symlink', target: '/tmp/fw' }],
  'login-trust': ['/etc/hosts.equiv', '/home/u/.rhosts', '/root/.shosts', '/home/u/.k5login', '/home/u/.k5users'].map((p) => file(p)),
  sysctl: ['/etc/sysctl.conf', '/etc/sysctl.d/99-x.conf', '/usr/lib/sysctl.d/y.conf'].map((p) => file(p)),
  tmpfiles: ['/etc/tmpfiles.d/x.conf', '/usr/lib/tmpfiles.d/y.conf', '/run/tmpfiles.d/z.conf', '/usr/local/lib/tmpfiles.d/w.conf'].map((p) => file(p)),
  binfmt: ['/etc/binfmt.d/x.conf', '/usr/lib/binfmt.d/y.conf', '/run/binfmt.d/z.conf', '/usr/local/lib/binfmt.d/w.conf'].map((p) => file(p)),
  'kernel-hook': ['/etc/kernel/postinst.d/zz-x', '/etc/kernel/preinst.d/x', '/etc/kernel/postrm.d/x', '/etc/kernel/prerm.d/x', '/etc/kernel/header_postinst.d/x', '/etc/kernel/install.d/90-x.install',
    '/usr/lib/kernel/install.d/90-x.install', '/etc/initramfs-tools/hooks/x', '/etc/initramfs-tools/scripts/init-top/x', '/usr/share/initramfs-tools/hooks/y', '/usr/share/initramfs-tools/scripts/local-top/y'].map((p) => file(p)),  polkit: ['/etc/polkit-1/rules.d/49-x.rules', '/usr/share/polkit-1/actions/x.policy', '/var/lib/polkit-1/localauthority/50-local.d/x.pkla'].map((p) => file(p)),
  boot: [...['/boot/vmlinuz-6.1.0-x', '/boot/initrd.img-6.1.0-x', '/boot/grub/grub.cfg', '/boot/efi/EFI/debian/grubx64.efi', '/etc/default/grub', '/etc/default/grub.d/x.cfg', '/etc/grub.d/40_custom',
    '/etc/kernel/cmdline'].map((p) => file(p, 'modified')), { path: fromUser('/boot/vmlinuz'), change: 'modified', type: 'symlink', target: 'vmlinuz-evil' }],
  fstab: [file('/etc/fstab', 'modified'), file('/etc/crypttab')],
  'file-shares': [file('/etc/exports', 'modified'), file('/etc/exports.d/x.exports'), file('/etc/samba/smb.conf', 'modified')],
  'mac-policy': [file('/etc/apparmor.d/usr.sbin.cupsd', 'modified'), file('/etc/apparmor.d/local/usr.bin.x'), file('/etc/selinux/config', 'modified'),
    { path: fromUser('/etc/apparmor.d/usr.sbin.cupsd'), change: 'deleted', type: 'file' }, { path: fromUser('/etc/apparmor.d/abstractions'), change: 'deleted', type: 'dir' }],
  skel: [file('/etc/skel/.bashrc', 'modified'), file('/etc/skel/.profile'), file('/etc/adduser.conf', 'modified'), file('/etc/default/useradd', 'modified')],
  'login-defs': [file('/etc/login.defs', 'modified')],
  'java-security': ['/etc/java-17-openjdk/security/java.security', '/etc/java-17-openjdk/security/java.policy', '/usr/lib/jvm/java-21-openjdk-amd64/conf/security/java.security',
    '/usr/lib/jvm/x/lib/security/default.policy'].map((p) => file(p, 'modified')),
  'desktop-settings': ['/home/u/.config/espanso/match/base.yml', '/home/u/.config/autokey/data/My Phrases/x.py', '/etc/keyd/default.conf', '/home/u/.config/xfce4/xfconf/xfce-perchannel-xml/xfce4-keyboard-shortcuts.xml', '/home/u/.config/xfce4/xfconf/xfce-perchannel-xml/xfce4-session.xml',
    '/home/u/.config/xfce4/helpers.rc', '/home/u/.config/lxqt/globalkeyshortcuts.conf', '/home/u/.config/lxqt/session.conf', '/home/u/.config/swaync/config.json',
    // The system's config dir, read where a user has no file of their own (XDG_CONFIG_DIRS).
    '/etc/xdg/xfce4/xfconf/xfce-perchannel-xml/xfce4-session.xml', '/home/u/.config/sxhkd/sxhkdrc', '/home/u/.xbindkeysrc', '/home/u/.xbindkeysrc.scm', '/home/u/.config/khotkeysrc', '/home/u/.config/kglobalshortcutsrc', '/etc/dconf/db/local.d/00-keys', '/etc/dconf/db/local', '/etc/dconf/profile/user', '/home/u/.config/dconf/user', '/usr/share/glib-2.0/schemas/90_x.gschema.override',
    '/usr/local/share/glib-2.0/schemas/x.gschema.override'].map((p) => file(p, 'modified')),
  'config-agent': ['/etc/facter/facts.d/x.sh', '/etc/puppetlabs/facter/facts.d/x.sh', '/etc/cfengine3/promises.cf', '/var/cfengine/inputs/promises.cf', '/var/cfengine/masterfiles/x.cf', '/etc/salt/minion', '/etc/salt/minion.d/master.conf', '/etc/salt/pki/minion/minion_master.pub', '/etc/puppetlabs/puppet/puppet.conf', '/etc/puppet/puppet.conf',
    '/etc/puppetlabs/puppet/ssl/certs/ca.pem', '/etc/puppet/ssl/certs/ca.pem', '/etc/chef/client.rb', '/etc/chef/client.d/x.rb', '/etc/chef/trusted_certs/x.crt'].map((p) => file(p, 'modified')),
  'driver-manifest': ['/usr/share/vulkan/implicit_layer.d/MangoHud.json', '/etc/vulkan/implicit_layer.d/x.json', '/usr/share/vulkan/icd.d/intel_icd.x86_64.json', '/usr/local/share/vulkan/icd.d/x.json',
    '/etc/vulkan/icd.d/x.json', '/usr/local/share/vulkan/implicit_layer.d/x.json', '/home/u/.local/share/vulkan/implicit_layer.d/x.json', '/home/u/.local/share/vulkan/icd.d/x.json',
    '/etc/OpenCL/vendors/x.icd', '/usr/share/glvnd/egl_vendor.d/50_mesa.json', '/etc/glvnd/egl_vendor.d/x.json', '/usr/share/egl/egl_external_platform.d/x.json', '/etc/egl/egl_external_platform.d/x.json'].map((p) => file(p, 'modified')),
  'java-config': [...['/etc/java-17-openjdk/jvm-amd64.cfg', '/etc/java-17-openjdk/net.properties', '/etc/java-17-openjdk/management/management.properties', '/etc/java-21-openjdk/management/jmxremote.access',
    '/usr/lib/jvm/java-17-openjdk-amd64/conf/net.properties', '/usr/lib/jvm/x/conf/management/management.properties'].map((p) => file(p, 'modified')),
    { path: fromUser('/usr/lib/jvm/java-17-openjdk-amd64/lib/jvm.cfg'), change: 'modified', type: 'symlink', target: '/var/tmp/jvm.cfg' }],
  'systemd-config': ['/etc/systemd/journald.conf', '/etc/systemd/timesyncd.conf', '/etc/systemd/journald.conf.d/x.conf', '/usr/lib/systemd/timesyncd.conf.d/x.conf',
    '/run/systemd/journald.conf.d/x.conf', '/usr/lib/systemd/journald.conf.d/y.conf', '/run/systemd/timesyncd.conf.d/y.conf'].map((p) => file(p, 'modified')),
  motd: [file('/etc/update-motd.d/99-x')],
  logrotate: ['/etc/logrotate.d/x', '/etc/logrotate.conf'].map((p) => file(p)),
  'timer-tool': ['/etc/letsencrypt/renewal/example.org.conf', '/etc/letsencrypt/renewal-hooks/deploy/reload', '/etc/letsencrypt/renewal-hooks/pre/x', '/etc/letsencrypt/cli.ini',
    '/etc/dehydrated/hook.sh', '/etc/dehydrated/config', '/root/.acme.sh/acme.sh', '/root/.acme.sh/account.conf', '/home/u/.acme.sh/example.org/example.org.conf', '/etc/rsnapshot.conf',
    '/etc/borgmatic/config.yaml', '/etc/borgmatic.d/x.yaml', '/home/u/.config/borgmatic/config.yaml', '/home/u/.config/borgmatic.d/x.yaml',
    '/usr/share/logwatch/scripts/services/sshd', '/etc/logwatch/scripts/services/x'].map((p) => file(p, 'modified')),
  'web-content': ['/etc/roundcube/config.inc.php', '/etc/phpmyadmin/config.inc.php', '/var/www/html/x.php', '/var/www/html/uploads/.x/shell.phtml', '/var/www/html/.htaccess', '/var/www/app/public/.user.ini', '/srv/www/site/x.php7', '/srv/http/index.cgi',
    '/usr/share/nginx/html/x.shtml', '/var/www/html/x.phar', '/var/www/x.jsp', '/var/www/y.jspx', '/usr/lib/cgi-bin/x', '/usr/lib/cgi-bin/sub/y.pl', '/var/lib/tomcat9/webapps/x.war',
    '/var/lib/tomcat/webapps/ROOT/index.jsp', '/var/lib/jetty9/webapps/x.war'].map((p) => file(p)),
  'tool-plugin': ['/home/u/.weechat/python/autoload/x.py', '/home/u/.local/share/weechat/perl/autoload/x.pl', '/home/u/.irssi/scripts/autorun/x.pl', '/home/u/.purple/plugins/x.so',
    '/home/u/.config/hexchat/addons/x.py', '/home/u/.local/share/nautilus-python/extensions/x.py', '/home/u/.local/share/jupyter/kernels/python3/kernel.json',
    '/usr/local/share/jupyter/kernels/python3/kernel.json', '/usr/share/jupyter/kernels/ir/kernel.json'].map((p) => file(p)),
  'trust-list': ['/home/u/.local/share/direnv/allow/0f1e2d', '/home/u/.config/direnv/direnv.toml', '/home/u/.config/direnv/config.toml', '/home/u/.local/state/mise/trusted-configs/x-mise.toml'].map((p) => file(p)),
  'firejail-profile': [file('/etc/firejail/firefox.local'), file('/etc/firejail/firejail.config', 'modified'), file('/home/u/.config/firejail/firefox.profile'),
    { path: '/etc/firejail/firefox.profile', change: 'deleted', type: 'file' }],
  'network-hook': [...['/etc/NetworkManager/dispatcher.d/99-x', '/etc/network/interfaces', '/etc/network/interfaces.d/eth1', '/etc/ppp/options', '/etc/ppp/peers/provider', '/etc/network/if-up.d/x', '/etc/ppp/ip-up.d/x', '/etc/ppp/ipv6-down', '/etc/ppp/ip-down.d/0000usepeerdns', '/etc/ppp/ipv6-up',
    '/usr/lib/NetworkManager/dispatcher.d/x', '/etc/dhcp/dhclient-enter-hooks.d/x', '/etc/dhcp/dhclient-exit-hooks.d/x'].map((p) => file(p)),
    { path: fromUser('/etc/network/if-pre-up.d/iptables'), change: 'deleted', type: 'file' }, { path: fromUser('/etc/network/if-up.d'), change: 'deleted', type: 'dir' },
    { path: fromUser('/etc/ppp/ip-up.d/x'), change: 'metadata', type: 'file', up: st('file', 0o755), details: ['mode 644→755'] }],
  alternatives: [{ path: '/etc/alternatives/editor', change: 'modified', type: 'symlink', target: '/tmp/evil' }],
  'git-template': ['/usr/share/git-core/templates/hooks/pre-commit', '/usr/share/git-core/templates/config', '/usr/share/git-core/templates/info/exclude', '/usr/local/share/git-core/templates/hooks/post-checkout',
    '/usr/local/share/git-core/templates/config', '/usr/local/share/git-core/templates/info/attributes'].map((p) => file(p)),
  'git-hook': [...['/home/u/src/p/.git/hooks/pre-commit', '/home/u/.config/git/hooks/post-checkout', '/home/u/src/p/.git/modules/sub/hooks/post-checkout', '/home/u/src/p/.git/hooks/pre-commit.sample/x'].map((p) => file(p)),
    { path: fromUser('/home/u/src/p/.git/hooks/pre-push.sample'), change: 'added', type: 'symlink', target: '/tmp/x' }, { path: fromUser('/home/u/src/p/.git/hooks'), change: 'added', type: 'symlink', target: '/tmp/h' }],
  'git-config': ['/home/u/src/p/.git/config', '/home/u/.gitconfig', '/home/u/.config/git/config', '/etc/gitconfig', '/home/u/src/p/.git/modules/sub/config', '/home/u/src/p/.git/worktrees/w/config.worktree'].map((p) => file(p, 'modified')),
  'git-link': ['/home/u/src/p/.git', '/home/u/src/p/.git/objects/info/alternates', '/home/u/src/p/.git/worktrees/w/commondir'].map((p) => file(p)),
  // Without the layer's file (the scan's marks) a ref or packed-refs is flagged; unit/sensitive-git-history reads real ones.
  'git-replace-ref': [file(`/home/u/src/p/.git/refs/replace/${'a'.repeat(40)}`), file(`/home/u/src/p/.git/modules/sub/refs/replace/${'b'.repeat(40)}`, 'modified')],
  'git-tag-moved': [file('/home/u/src/p/.git/refs/tags/v1.0', 'modified'), file('/home/u/src/p/.git/refs/tags/release/v2'), file('/home/u/src/p/.git/modules/sub/refs/tags/v1', 'modified')],
  'git-packed-refs': [file('/home/u/src/p/.git/packed-refs', 'modified'), file('/home/u/src/p/.git/modules/sub/packed-refs')],
  'git-object-rewritten': [file(`/home/u/src/p/.git/objects/ab/${'c'.repeat(38)}`, 'modified'), file(`/home/u/src/p/.git/objects/pack/pack-${'d'.repeat(40)}.pack`, 'modified'),
    file(`/home/u/src/p/.git/objects/pack/pack-${'d'.repeat(40)}.idx`, 'modified'), file(`/home/u/src/p/.git/modules/sub/objects/ab/${'c'.repeat(62)}`, 'modified'),
    { path: fromUser(`/home/u/src/p/.git/objects/ab/${'e'.repeat(38)}`), change: 'replaced', type: 'symlink', oldType: 'file', target: '/tmp/evil' }],
  'git-object-symlink': [{ path: fromUser(`/home/u/src/p/.git/objects/pack/pack-${'d'.repeat(40)}.pack`), change: 'added', type: 'symlink', target: '/tmp/evil.pack' },
    { path: fromUser('/home/u/src/p/.git/objects/info/commit-graph'), change: 'added', type: 'symlink', target: '/tmp/g' },
    { path: fromUser('/home/u/src/p/.git/modules/sub/objects'), change: 'replaced', type: 'symlink', oldType: 'dir', target: '/tmp/o' }],
  'git-info': ['/home/u/src/p/.git/info/attributes', '/home/u/src/p/.git/info/exclude', '/home/u/src/p/.git/info/grafts', '/home/u/src/p/.git/modules/sub/info/attributes'].map((p) => file(p)),
  'git-attributes': [file('/home/u/src/p/.gitattributes'), file('/home/u/src/p/sub/.gitattributes', 'modified')],
  // Beside a PATH dir's Python or the dir above (/usr/bin/python3 reads /usr/pyvenv.cfg), a home's bin dir's, or in a system dir the host has (an installed program's venv).
  'python-venv-config': [file('/usr/pyvenv.cfg'), file('/pyvenv.cfg'), file('/usr/local/pyvenv.cfg'), file('/usr/bin/pyvenv.cfg'), file('/home/u/.local/pyvenv.cfg'), file('/home/u/pyvenv.cfg'),
    file('/root/.local/bin/pyvenv.cfg'), file('/usr/lib/pyvenv.cfg', 'modified'), { path: fromUser('/usr/pyvenv.cfg'), change: 'added', type: 'symlink', target: '/tmp/x.cfg' }],
  'python-startup': [...['/usr/lib/python3/dist-packages/evil.pth', '/home/u/.local/lib/python3.11/site-packages/x.pth', '/usr/lib/python3.11/sitecustomize.py', '/home/u/.local/lib/python3.11/site-packages/usercustomize.py'].map((p) => file(p)),
    inVenv(HOST_VENV, 'x.pth'), inVenv(HOST_PREFIX, 'x.pth'), inVenv(NEW_SITE_ROOT, 'x.pth'), inVenv(HOST_VENV, 'sitecustomize.py')],
  'python-bytecode': [file(`${PYDIR}/__pycache__/m.cpython-311.pyc`), file(`${PYDIR}/__pycache__/m.cpython-311.opt-1.pyc`), file(`${PYDIR}/__pycache__/m.pypy39.opt-2.pyc`, 'modified'),
    { path: `${PYDIR}/__pycache__/m.cpython-312.pyc`, change: 'added', type: 'symlink', target: '/tmp/evil.pyc' }],
  'rc-file': ['/home/u/.bashrc', '/root/.profile', '/home/u/.bunfig.toml', '/home/u/.perldb', '/home/u/.config/go/env', '/home/u/.sbt/1.0/plugins/x.sbt', '/home/u/.sbt/1.0/global.sbt', '/home/u/.mix/archives/x/ebin/x.beam', '/home/u/.conan2/extensions/hooks/hook_x.py', '/home/u/.conan/hooks/x.py', '/home/u/.xonshrc', '/home/u/.Renviron', '/home/u/.config/xonsh/rc.xsh', '/home/u/.config/xonsh/rc.d/x.xsh', '/home/u/.config/elvish/rc.elv', '/home/u/.elvish/rc.elv', '/home/u/.config/powershell/Microsoft.PowerShell_profile.ps1', '/home/u/.config/powershell/profile.ps1', '/home/u/.config/gh/config.yml', '/home/u/.zshrc', '/home/u/.vimrc', '/home/u/.bash_completion', '/root/.gdbinit', '/home/u/.gdbearlyinit', '/home/u/.pdbrc',
    '/home/u/.config/tmux/tmux.conf', '/etc/tmux.conf', '/home/u/.config/direnv/direnvrc', '/home/u/.config/direnv/lib/x.sh', '/etc/gdb/gdbinit', '/etc/gdb/gdbinit.d/x.gdb', '/etc/gdb/gdbearlyinit',
    '/home/u/.config/gdb/gdbinit', '/home/u/.config/gdb/gdbearlyinit', '/home/u/.ipython/profile_default/startup/00-x.py', '/root/.ipython/profile_work/ipython_config.py', '/home/u/.ipython/profile_default/ipython_kernel_config.py',
    '/etc/perl/sitecustomize.pl', '/etc/perl/Net/HTTP.pm', '/etc/perl/strict.pm', '/etc/perl/Net/libnet.cfg',
    '/home/u/.Rprofile', '/home/u/proj/.Rprofile', '/root/.irbrc', '/home/u/.pryrc', '/home/u/.psqlrc', '/home/u/.sqliterc', '/home/u/.lldbinit', '/home/u/.ghci', '/home/u/.mongorc.js', '/home/u/.mongoshrc.js',
    '/home/u/.julia/config/startup.jl', '/etc/R/Rprofile.site', '/usr/lib/R/etc/Rprofile.site', '/home/u/.bash_aliases', '/home/u/.jupyter/jupyter_notebook_config.py',
    '/etc/jupyter/jupyter_server_config.py', '/usr/local/etc/jupyter/jupyter_lab_config.py', '/home/u/.config/nushell/config.nu', '/home/u/.config/nushell/env.nu', '/home/u/.config/nushell/login.nu',
    '/home/u/.xsession', '/home/u/.wezterm.lua', '/etc/inputrc', '/etc/screenrc', '/etc/manpath.config', '/etc/man_db.conf', '/home/u/.clojure/deps.edn', '/home/u/.config/clojure/deps.edn',
    '/home/u/.config/rebar3/rebar.config', '/home/u/.cabal/config', '/home/u/.config/cabal/config', '/home/u/.stack/config.yaml', '/home/u/.config/starship.toml', '/home/u/.config/mpv/scripts/x.lua', '/home/u/.config/mpv/mpv.conf',
    '/home/u/.lesskey', '/home/u/.less', '/home/u/.mailcap', '/home/u/.muttrc', '/home/u/.neomuttrc', '/home/u/.Xresources', '/home/u/.Xdefaults', '/etc/syslesskey', '/etc/sysless',
    '/home/u/.config/lesskey', '/home/u/.config/mutt/muttrc', '/home/u/.config/neomutt/neomuttrc', '/home/u/.mutt/muttrc', '/home/u/.config/user-dirs.dirs', '/etc/X11/Xresources/x11-common',
    '/home/u/.p10k.zsh', '/home/u/.fzf.bash', '/home/u/.fzf.zsh', '/home/u/.bash-preexec.sh', '/home/u/.iterm2_shell_integration.zsh', '/home/u/.iterm2_shell_integration.bash', '/home/u/.zshrc.local',
    '/home/u/.asoundrc', '/etc/asound.conf', '/usr/share/alsa/alsa.conf', '/usr/share/alsa/pcm/default.conf'].map((p) => file(p, 'modified')),
  'display-manager': ['/etc/gdm3/PostLogin/Default', '/etc/gdm3/Init/Default', '/etc/gdm/PreSession/Default', '/etc/gdm3/PostSession/Default', '/etc/lightdm/lightdm.conf',
    '/etc/lightdm/lightdm.conf.d/50-x.conf', '/usr/share/lightdm/lightdm.conf.d/50-x.conf', '/etc/sddm.conf', '/etc/sddm.conf.d/x.conf', '/usr/share/sddm/scripts/Xsetup',
    '/usr/lib/sddm/sddm.conf.d/x.conf', '/etc/X11/xdm/Xsetup', '/etc/X11/Xreset', '/etc/X11/Xreset.d/x', '/etc/X11/xorg.conf', '/etc/X11/xorg.conf.d/10-x.conf', '/usr/share/X11/xorg.conf.d/10-x.conf', '/etc/gdm3/daemon.conf', '/etc/gdm/custom.conf'].map((p) => file(p, 'modified')),
  'terminal-config': ['/etc/xdg/kitty/kitty.conf', '/etc/xdg/foot/foot.ini', '/home/u/.config/kitty/kitty.conf', '/home/u/.config/alacritty/alacritty.toml', '/home/u/.config/alacritty/alacritty.yml', '/home/u/.config/foot/foot.ini',
    '/home/u/.config/ghostty/config', '/home/u/.config/wezterm/wezterm.lua', '/home/u/.config/kitty/current-theme.conf', '/home/u/.config/pipewire/pipewire.conf', '/etc/pipewire/pipewire.conf.d/x.conf'].map((p) => file(p)),
  'pkcs11-module': ['/etc/pkcs11/modules/x.module', '/etc/pkcs11/pkcs11.conf', '/usr/share/p11-kit/modules/x.module', '/home/u/.config/pkcs11/modules/x.module',
    '/home/u/.config/pkcs11/pkcs11.conf'].map((p) => file(p)),
  'login-banner': [{ ...file('/etc/motd', 'modified'), upper: BANNER_EVIL }, { ...file('/etc/issue', 'modified'), upper: BANNER_C1 }, { ...file('/etc/issue.net'), upper: BANNER_EVIL },
    file('/etc/motd', 'modified')],
  'editor-plugin': ['/home/u/.local/share/nvim/lazy/x/plugin/x.lua', '/home/u/.local/share/nvim/site/pack/x/start/y/plugin/z.vim', '/home/u/.vim/plugged/x/plugin/y.vim',
    '/home/u/.vim/bundle/x/plugin/y.vim', '/home/u/.emacs.d/elpa/x-1.0/x-autoloads.el', '/home/u/.config/emacs/straight/repos/x/x.el', '/home/u/.emacs.d/straight/repos/x/x.el', '/home/u/.config/emacs/elpa/x-1/x.el', '/home/u/.config/sublime-text/Packages/User/x.py',
    '/home/u/.config/sublime-text-3/Installed Packages/x.sublime-package', '/home/u/.local/share/JetBrains/IntelliJIdea2024.1/x/lib/x.jar',
    '/home/u/.config/JetBrains/IntelliJIdea2024.1/idea64.vmoptions', '/home/u/.local/share/zed/extensions/installed/x/extension.wasm'].map((p) => file(p)),
  'toolchain-tree': ['/home/u/.npm-global/lib/node_modules/x/index.js', '/home/u/.local/share/pnpm/global/5/node_modules/x/index.js', '/home/u/.config/yarn/global/node_modules/x/index.js',
    '/home/u/.bun/install/global/node_modules/x/index.js', '/home/u/.volta/tools/image/node/20.0.0/bin/node', '/home/u/.dotnet/dotnet', '/home/u/.dotnet/sdk/8.0.100/dotnet.dll',
    '/home/u/.dotnet/tools/.store/x/1.0.0/x/1.0.0/tools/net8.0/any/x.dll', '/home/u/.opam/default/lib/x/x.ml', '/home/u/.opam/repo/default/packages/x/x.1.0/opam', '/home/u/.luarocks/share/lua/5.4/x.lua',
    '/home/u/.luarocks/lib/lua/5.4/x.so', '/root/.pyenv/bin/pyenv', '/root/.pyenv/libexec/pyenv-exec', '/root/.pyenv/versions/3.11.9/lib/python3.11/site.py', '/home/u/.nvm/nvm.sh',
    '/home/u/.nvm/versions/node/v20.1.0/lib/node_modules/npm/bin/npm-cli.js', '/home/u/.rbenv/libexec/rbenv-exec', '/home/u/.nodenv/libexec/nodenv', '/home/u/.asdf/lib/x.bash',
    '/home/u/.asdf/installs/nodejs/20/bin/node', '/home/u/.sdkman/bin/sdkman-init.sh', '/home/u/.jenv/libexec/jenv', '/home/u/.goenv/libexec/goenv', '/home/u/.plenv/bin/plenv',
    '/home/u/.tfenv/bin/terraform', '/home/u/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/rustc', '/home/u/.local/share/mise/installs/node/20/bin/node',
    '/home/u/.local/share/fnm/node-versions/v20/installation/bin/node', '/home/u/.local/share/rtx/installs/x/1/bin/x', '/home/u/.local/pipx/venvs/black/lib/python3.11/site-packages/black/__init__.py',
    '/home/u/.local/share/pipx/venvs/black/bin/black', '/home/linuxbrew/.linuxbrew/Cellar/jq/1.7/bin/jq', '/home/linuxbrew/.linuxbrew/Homebrew/Library/Homebrew/brew.rb', '/home/u/.linuxbrew/bin/brew',
    '/home/u/miniconda3/lib/python3.11/site.py', '/home/u/anaconda3/bin/conda', '/home/u/miniforge3/bin/mamba', '/home/u/mambaforge/etc/profile.d/conda.sh',
    '/usr/local/go/src/fmt/print.go', '/usr/local/go/pkg/tool/linux_amd64/compile', '/opt/conda/bin/python'].map((p) => file(p)),
  'system-code': ['/usr/lib/google-cloud-sdk/lib/googlecloudsdk/core/log.py', '/usr/share/vim/vim90/defaults.vim', '/usr/share/cmake-3.25/Modules/FindZLIB.cmake', '/usr/include/stdio.h',
    '/usr/lib/gcc/x86_64-linux-gnu/12/crtbegin.o', '/usr/lib/x86_64-linux-gnu/libc.a', '/usr/lib/x86_64-linux-gnu/pkgconfig/zlib.pc', '/usr/share/lintian/lib/Lintian/Util.pm',
    '/opt/app/lib/app.jar', '/usr/share/tcltk/tk8.6/tk.tcl', '/usr/local/cuda-13.0/include/cuda.h', '/usr/share/maven-repo/x/y/1/y-1.jar', '/usr/src/linux-headers-6.1/scripts/Kbuild.include.mk',
    '/usr/lib/jvm/java-17-openjdk-amd64/lib/modules', '/usr/lib/jvm/java-17-openjdk-amd64/lib/server/classes.jsa', '/usr/lib/postgresql/15/lib/bitcode/postgres/x.bc',
    '/usr/lib/x86_64-linux-gnu/ldscripts/elf_x86_64.x'].map((p) => file(p, 'modified')),
  'database-files': ['/var/lib/postgresql/15/main/postgresql.auto.conf', '/var/lib/postgresql/15/main/global/1260', '/var/lib/postgresql/15/main/base/1/1259', '/var/lib/pgsql/data/pg_hba.conf', '/var/lib/pgsql/16/data/postgresql.conf', '/var/lib/mysql/mysql/user.ibd',
    '/var/lib/mariadb/x'].map((p) => file(p, 'modified')),
  'init-defaults': ['/etc/default/cron', '/etc/default/keyboard', '/etc/default/ssh', '/etc/default/rcS', '/etc/sysconfig/docker', '/etc/sysconfig/network-scripts/ifup-local', '/etc/conf.d/net'].map((p) => file(p, 'modified')),
  firewall: ['/usr/share/netfilter-persistent/plugins.d/15-ip4tables', '/etc/nftables.conf', '/etc/nftables.d/x.nft', '/etc/nftables/x.nft', '/etc/iptables/rules.v4', '/etc/ufw/user.rules', '/etc/ufw/ufw.conf', '/etc/default/ufw',
    '/etc/firewalld/zones/public.xml', '/etc/sysconfig/iptables', '/etc/sysconfig/ip6tables'].map((p) => file(p, 'modified')).concat([{ path: '/etc/iptables/rules.v6', change: 'deleted', type: 'file' }]),
  'fail2ban-audit': [file('/etc/fail2ban/jail.local'), file('/etc/fail2ban/action.d/x.conf', 'modified'), file('/etc/audit/auditd.conf', 'modified'), file('/etc/audit/plugins.d/x.conf'),
    { path: '/etc/audit/rules.d/audit.rules', change: 'deleted', type: 'file' }],
  'browser-policy': ['/etc/opt/chrome/policies/managed/x.json', '/etc/chromium/policies/managed/x.json', '/etc/opt/edge/policies/managed/x.json', '/etc/brave/policies/managed/x.json',
    '/usr/lib/firefox/distribution/policies.json', '/usr/lib/firefox-esr/distribution/policies.json', '/etc/firefox/policies/policies.json', '/etc/firefox-esr/policies/policies.json',
    '/home/u/.mozilla/firefox/abc.default/user.js', '/home/u/.config/chromium/NativeMessagingHosts/x.json', '/home/u/.config/google-chrome/NativeMessagingHosts/x.json',
    '/etc/opt/chrome/native-messaging-hosts/x.json', '/home/u/.mozilla/native-messaging-hosts/x.json', '/usr/lib/mozilla/native-messaging-hosts/x.json',
    '/usr/lib64/mozilla/native-messaging-hosts/x.json', '/etc/chromium/native-messaging-hosts/x.json', '/home/u/.config/BraveSoftware/Brave-Browser/NativeMessagingHosts/x.json',
    '/home/u/.config/microsoft-edge/NativeMessagingHosts/x.json', '/etc/opt/edge/native-messaging-hosts/x.json', '/etc/brave/native-messaging-hosts/x.json'].map((p) => file(p)),
  'flatpak-override': [file('/home/u/.local/share/flatpak/overrides/global'), file('/var/lib/flatpak/overrides/org.x.App', 'modified')],
  'terraform-config': [file('/home/u/.terraformrc'), file('/home/u/.terraform.d/plugins/registry.terraform.io/x/y/1.0.0/linux_amd64/terraform-provider-y'),
    file('/home/u/.local/share/terraform/plugins/example.com/x/y/1.0.0/linux_amd64/terraform-provider-y')],
  'desktop-startup': ['/etc/xdg/waybar/config', '/etc/xdg/dunst/dunstrc', '/etc/xdg/awesome/rc.lua', '/etc/xdg/Xwayland-session.d/00-x', '/home/u/.config/plasma-workspace/env/x.sh', '/home/u/.config/plasma-workspace/shutdown/x.sh', '/home/u/.local/share/gnome-shell/extensions/x@y/extension.js',
    ...['i3', 'sway', 'hypr', 'openbox', 'awesome', 'bspwm', 'qtile'].map((w) => `/home/u/.config/${w}/config`),
    ...['lxsession/LXDE/autostart', 'labwc/autostart', 'river/init', 'herbstluftwm/autostart', 'niri/config.kdl', 'wayfire.ini', 'dunst/dunstrc', 'autostart-scripts/x.sh',
      'polybar/config', 'polybar/config.ini', 'waybar/config', 'waybar/config.jsonc'].map((w) => `/home/u/.config/${w}`),
    '/etc/xdg/lxsession/LXDE/autostart', '/etc/xdg/openbox/autostart', '/etc/xdg/labwc/autostart'].map((p) => file(p)),
  'ide-extension': ['/home/u/.vscode/extensions/x.y-1.0/extension.js', '/home/u/.vscode-server/extensions/x/out/a.js', '/home/u/.vscode-oss/extensions/x/a.js', '/home/u/.vscode-insiders/extensions/x/a.js',
    '/home/u/.cursor/extensions/x/a.js', '/home/u/.config/Code/User/settings.json', '/home/u/.config/Code - OSS/User/settings.json', '/home/u/.config/VSCodium/User/settings.json',
    '/home/u/.config/Cursor/User/settings.json', '/home/u/.config/Code/User/keybindings.json', '/home/u/.config/Code - OSS/User/keybindings.json', '/home/u/.config/VSCodium/User/keybindings.json',
    '/home/u/.config/Cursor/User/keybindings.json', '/home/u/src/p/.vscode/settings.json', '/home/u/src/p/.vscode/tasks.json', '/home/u/.vscode-server/bin/abc123/node',
    '/home/u/.vscode-server/cli/servers/Stable-abc/server/out/main.js', '/home/u/.vscode-server-insiders/bin/x/node', '/home/u/.vscode-server-insiders/cli/servers/x/server/node', '/home/u/.cursor-server/bin/x/node', '/home/u/.cursor-server/extensions/x/a.js',
    '/home/u/.cursor-server/cli/servers/x/server/node'].map((p) => file(p)),
  'shell-plugin': ['/home/u/.zprezto/init.zsh', '/home/u/.antigen/bundles/x/y.zsh', '/home/u/.zplug/repos/x/y.zsh', '/home/u/.local/share/zinit/plugins/x/y.zsh', '/home/u/.zinit/plugins/x/y.zsh',
    '/home/u/.oh-my-bash/oh-my-bash.sh', '/home/u/.bash_it/bash_it.sh', '/home/u/.tmux/plugins/tpm/tpm', '/home/u/.fzf/shell/key-bindings.bash', '/home/u/.local/share/blesh/ble.sh'].map((p) => file(p)),
  'zsh-framework': [file('/home/u/.oh-my-zsh/custom/x.zsh'), file('/home/u/.oh-my-zsh/oh-my-zsh.sh', 'modified')],
  setid: [
    { path: '/opt/x/helper', change: 'added', type: 'file', up: st('file', 0o4755) },
    { path: '/usr/bin/tool', change: 'metadata', type: 'file', up: st('file', 0o2755), details: ['mode 755→2755'] },
  ],
  'file-caps': [{ path: '/opt/x/ping', change: 'added', type: 'file', up: st('file', 0o755), xattrs: [['security.capability', Buffer.from([1, 0, 0, 2])]] }],
  'path-dir-writable': [
    { path: '/usr/local/bin', change: 'metadata', type: 'dir', up: st('dir', 0o777), details: ['mode 755→777'] },
    { path: '/opt/tool', change: 'metadata', type: 'dir', up: st('dir', 0o1777), details: ['mode 755→1777'] },
  ],
  'path-dir-owner': [
    { path: '/usr/local/bin', change: 'metadata', type: 'dir', up: { ...st('dir', 0o755), uid: 1000 }, host: st('dir', 0o755), details: ['owner 0:0→1000:0'] },
    { path: '/usr', change: 'metadata', type: 'dir', up: { ...st('dir', 0o755), uid: 1000 }, host: st('dir', 0o755), details: ['owner 0:0→1000:0'] },
    { path: '/usr/bin', change: 'metadata', type: 'dir', up: { ...st('dir', 0o775), gid: 100 }, host: st('dir', 0o755), details: ['mode 755→775', 'owner 0:0→0:100'] },
  ],
  'path-dir-symlink': [
    { path: '/sbin', change: 'modified', type: 'symlink', target: '/tmp/x' }, { path: '/usr/local/bin', change: 'replaced', type: 'symlink', target: '/tmp/x' },
    { path: '/usr', change: 'replaced', type: 'symlink', target: '/tmp/x' }, { path: '/opt/tool/bin', change: 'added', type: 'symlink', target: '/tmp/x' },
    { path: '/home/u/bin', change: 'added', type: 'symlink', target: '/tmp/x' }, { path: '/home/v/.local/bin', change: 'added', type: 'symlink', target: '/tmp/x' },
  ],
  'shared-library': [...['/usr/lib/x86_64-linux-gnu/libevil.so.1', '/usr/local/lib/libx.so', '/usr/lib64/liby.so.2.3'].map((p) => file(p)), file('/lib/x86_64-linux-gnu/libc.so.6', 'modified')],
  'path-command': ['/usr/local/bin/tool', '/home/u/.local/bin/x', '/opt/tool/bin/y', '/usr/games/sl', '/usr/local/games/g'].map((p) => file(p)),
  'toolchain-bin': [...['.cargo/bin', 'go/bin', '.deno/bin', '.bun/bin', '.volta/bin', '.npm-global/bin', '.yarn/bin', '.dotnet/tools', '.ghcup/bin', '.cabal/bin', '.luarocks/bin', '.nimble/bin', '.julia/bin', '.krew/bin', '.opam/default/bin', '.config/composer/vendor/bin', '.composer/vendor/bin', '.pyenv/shims', '.rbenv/shims', '.nodenv/shims', '.asdf/shims',
    '.local/share/mise/shims', '.local/share/pnpm', '.local/share/flatpak/exports/bin', '.nvm/versions/node/v20.1.0/bin', '.pyenv/versions/3.11.4/bin', '.sdkman/candidates/java/current/bin'].map((d) => `/home/u/${d}/x`),
    ...['.cargo/bin', 'go/bin', '.deno/bin', '.bun/bin', '.volta/bin', '.npm-global/bin', '.yarn/bin', '.dotnet/tools', '.pyenv/shims', '.rbenv/shims', '.nodenv/shims', '.asdf/shims',
    '.local/share/mise/shims', '.local/share/pnpm', '.local/share/flatpak/exports/bin', '.nvm/versions/node/v20.1.0/bin', '.pyenv/versions/3.11.4/bin', '.sdkman/candidates/java/current/bin'].map((d) => `/root/${d}/x`),
    '/usr/local/go/bin/go', '/snap/bin/code', '/var/lib/flatpak/exports/bin/org.x.Y', { ...file('/root/.pyenv/shims/pip', 'modified'), up: st('file', 0o755) }].map((p) => typeof p === 'string' ? file(p) : p),
  'cargo-config': ['/home/u/.cargo/config.toml', '/root/.cargo/config', '/home/u/src/p/.cargo/config.toml'].map((p) => file(p)),
  'maven-config': ['/home/u/.m2/settings.xml', '/root/.m2/toolchains.xml', '/etc/maven/settings.xml', '/usr/share/maven/conf/m2.conf', '/home/u/.mavenrc', '/etc/mavenrc', '/usr/local/etc/mavenrc'].map((p) => file(p)),
  'gradle-init': ['/usr/share/gradle/init.d/x.gradle', '/home/u/.gradle/init.d/x.gradle', '/home/u/.gradle/init.d/y.init.gradle.kts', '/root/.gradle/init.gradle', '/home/u/.gradle/gradle.properties'].map((p) => file(p)),
  'pip-config': ['/home/u/.config/pip/pip.conf', '/root/.pip/pip.conf', '/etc/pip.conf', '/etc/xdg/pip/pip.conf', '/home/u/.pydistutils.cfg', '/home/u/.condarc', '/root/.conda/condarc', '/home/u/.config/conda/.condarc', '/etc/conda/.condarc'].map((p) => file(p)),
  'uv-config': ['/home/u/.config/uv/uv.toml', '/root/.config/uv/uv.toml', '/etc/uv/uv.toml', '/etc/xdg/uv/uv.toml'].map((p) => file(p)),
  'js-config': ['/home/u/.yarnrc', '/root/.yarnrc.yml', '/home/u/.config/pnpm/rc'].map((p) => file(p)),
  'docker-config': [file('/home/u/.docker/config.json', 'modified'), file('/home/u/.docker/cli-plugins/docker-x'), file('/usr/local/lib/docker/cli-plugins/docker-y'), file('/usr/libexec/docker/cli-plugins/docker-z'),
    { path: '/home/u/.docker/cli-plugins/docker-w', change: 'metadata', type: 'file', up: st('file', 0o755), details: ['mode 644→755'] }],
  'container-config': ['/etc/containerd/config.toml', '/etc/crio/crio.conf', '/etc/crio/crio.conf.d/x.conf', '/etc/nvidia-container-runtime/config.toml', '/etc/kubernetes/manifests/x.yaml',
    '/etc/kubernetes/kubelet.conf', '/var/lib/kubelet/config.yaml', '/etc/cni/net.d/10-x.conf', '/opt/cni/bin/bridge', '/usr/libexec/cni/bridge', '/usr/lib/cni/bridge',
    '/etc/containers/oci/hooks.d/x.json', '/usr/share/containers/oci/hooks.d/x.json', '/etc/docker/certs.d/registry.example/ca.crt', '/etc/docker/daemon.json', '/etc/containers/registries.conf', '/etc/containers/registries.conf.d/x.conf', '/etc/containers/policy.json', '/etc/containers/containers.conf',
    '/etc/containers/containers.conf.d/x.conf', '/home/u/.config/containers/registries.conf', '/home/u/.config/containers/policy.json', '/home/u/.config/containers/containers.conf',
    '/root/.config/containers/registries.conf.d/x.conf'].map((p) => file(p, 'modified')),
  'cloud-config': ['/home/u/.kube/config', '/root/.kube/config', '/home/u/.aws/config', '/root/.aws/config'].map((p) => file(p)),
  'hg-config': ['/home/u/.hgrc', '/root/.hgrc', '/home/u/.config/hg/hgrc', '/etc/mercurial/hgrc', '/etc/mercurial/hgrc.d/x.rc'].map((p) => file(p, 'modified')),
  'npm-config': ['/etc/npmrc', '/usr/etc/npmrc', '/usr/local/etc/npmrc'].map((p) => file(p)),
  'session-env': ['/home/u/.config/environment.d/10-path.conf', '/etc/environment.d/x.conf', '/usr/lib/environment.d/y.conf'].map((p) => file(p)),
  'desktop-entry': ['/home/u/.local/share/applications/x.desktop', '/home/u/.local/share/applications/wine/y.desktop', '/usr/share/applications/firefox.desktop', '/usr/local/share/applications/z.desktop', '/usr/share/xsessions/gnome.desktop', '/usr/share/wayland-sessions/sway.desktop', '/usr/local/share/xsessions/x.desktop'].map((p) => file(p)),
  'editor-startup': ['/home/u/.config/nvim/init.lua', '/home/u/.config/nvim/lua/x.lua', '/root/.vim/plugin/x.vim', ...['autoload', 'ftplugin', 'ftdetect', 'after', 'syntax', 'indent', 'compiler', 'colors'].map((d) => `/home/u/.vim/${d}/x.vim`), '/home/u/.vim/gvimrc', '/home/u/.vim/pack/p/start/x/plugin/y.vim', '/home/u/.vim/vimrc', '/home/u/.emacs.d/init.el', '/home/u/.config/emacs/early-init.el', '/home/u/.emacs.el',
    '/etc/vim/vimrc', '/etc/vim/vimrc.local', '/usr/share/vim/vimrc', '/usr/share/vim/vimfiles/plugin/x.vim', '/usr/share/vim/vim90/autoload/x.vim', '/var/lib/vim/addons/plugin/x.vim',
    '/etc/xdg/nvim/sysinit.vim', '/usr/share/nvim/runtime/plugin/x.lua', '/usr/share/nvim/site/pack/x/start/y/plugin/z.vim', '/usr/share/nvim/site/plugin/x.vim', '/etc/emacs/site-start.d/50x.el', '/usr/share/emacs/site-lisp/site-start.el',
    '/usr/local/share/emacs/site-lisp/default.el', '/usr/share/vim/gvimrc', '/usr/share/emacs/site-lisp/default.el', '/usr/local/share/emacs/site-lisp/site-start.el',
    '/home/u/.emacs.d/early-init.el', '/home/u/.config/emacs/init.el'].map((p) => file(p)),
  'ruby-config': ['/home/u/.gemrc', '/root/.bundle/config', '/etc/gemrc'].map((p) => file(p)),
  'fetch-config': ['/home/u/.wgetrc', '/root/.curlrc', '/home/u/.config/.curlrc', '/etc/wgetrc'].map((p) => file(p)),
  'gnupg-config': ['/home/u/.gnupg/gpg.conf', '/root/.gnupg/gpg-agent.conf', '/home/u/.gnupg/dirmngr.conf'].map((p) => file(p, 'modified')),
  'user-site': ['/home/u/.local/lib/python3.11/site-packages/requests/__init__.py', '/root/.local/lib/python3.12/site-packages/json.py', '/home/u/.local/lib/python3.11/site-packages/x/__pycache__/y.cpython-311.pyc',
    '/home/u/.local/lib/python3.11/site-packages/x-1.0.dist-info/RECORD'].map((p) => file(p)),
  'apt-lists': [file('/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease', 'modified'), file('/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4', 'modified'),
    file('/var/lib/apt/lists/evil.example_dists_x_InRelease'), file('/var/lib/apt/lists/auxfiles/x'),
    { path: '/var/lib/apt/lists/x_Packages', change: 'added', type: 'symlink', target: '/tmp/evil' }, { path: '/var/lib/apt/lists/x_InRelease', change: 'replaced', type: 'file' }],
  'tls-trust': [file('/usr/local/share/ca-certificates/evil.crt'), file('/usr/share/ca-certificates/mozilla/X.crt', 'modified'), file('/etc/ssl/certs/ca-certificates.crt', 'modified'),
    { path: '/etc/ssl/certs/d554b291.0', change: 'added', type: 'symlink', target: 'evil.pem' }, file('/etc/ssl/certs/java/cacerts', 'modified'), file('/etc/ca-certificates.conf', 'modified'),
    file('/etc/pki/ca-trust/source/anchors/evil.pem'), file('/etc/pki/tls/certs/ca-bundle.crt', 'modified'), file('/home/u/venv/lib/python3.11/site-packages/certifi/cacert.pem', 'modified'), inVenv(HOST_VENV, 'pip/_vendor/certifi/cacert.pem'),
    file('/home/u/.pki/nssdb/cert9.db', 'modified'), file('/etc/ssl/cert.pem')],
  'openssl-config': [file('/etc/ssl/openssl.cnf', 'modified'), file('/usr/lib/ssl/openssl.cnf', 'modified'), file('/etc/pki/tls/openssl.cnf', 'modified')],
  'ca-hook': [file('/etc/ca-certificates/update.d/evil'), file('/etc/ca-certificates/update.d/jks-keystore', 'modified')],
  'apt-archives': [file('/var/cache/apt/archives/sl_5.02-1+b1_amd64.deb'), file('/var/cache/apt/archives/libc6_2.36-9+deb12u9_amd64.deb', 'modified')],
  'pip-cache': [file('/home/u/.cache/pip/wheels/c5/dd/d5/bc1ce4e4/s35demo-1.0-py3-none-any.whl'), file('/home/u/.cache/pip/wheels/c5/dd/d5/bc1ce4e4/origin.json'),
    file('/root/.cache/pip/http/a/b/c/d/e/abcdef0123'), file('/root/.cache/pip/http-v2/a/b/c/d/e/abcdef0123.body', 'modified')],
  'npm-cache': [file('/home/u/.npm/_cacache/index-v5/1f/2e/abcdef'), file('/root/.npm/_cacache/index-v5/00/11/2233', 'modified')],
  'npx-cache': [file('/home/u/.npm/_npx/6a8b/node_modules/cowsay/cli.js'), file('/home/u/.npm/_npx/6a8b/package-lock.json')],
  'cargo-cache': ['/home/u/.cargo/registry/src/index.crates.io-6f17d22bba15001f/serde-1.0.0/build.rs', '/home/u/.cargo/registry/cache/index.crates.io-6f17d22bba15001f/serde-1.0.0.crate',
    '/root/.cargo/registry/index/index.crates.io-6f17d22bba15001f/.cache/se/rd/serde', '/home/u/.cargo/git/checkouts/x-1234/abcd/build.rs', '/home/u/.cargo/git/db/x-1234/HEAD'].map((p) => file(p)),
  'go-mod-cache': ['/home/u/go/pkg/mod/golang.org/x/text@v0.3.0/unicode.go', '/root/go/pkg/mod/cache/download/golang.org/x/text/@v/v0.3.0.ziphash'].map((p) => file(p)),
  'maven-repo': ['/home/u/.m2/repository/org/x/y/1.0/y-1.0.jar', '/root/.m2/repository/org/x/y/maven-metadata-central.xml'].map((p) => file(p)),
  'gradle-cache': ['/home/u/.gradle/wrapper/dists/gradle-8.5-bin/5t9huq95ubn472n8rpzujfbqh/gradle-8.5/bin/gradle', '/root/.gradle/wrapper/dists/gradle-8.5-bin/5t9huq95ubn472n8rpzujfbqh/gradle-8.5-bin.zip',
    '/home/u/.gradle/caches/modules-2/files-2.1/org.x/y/1.0/0a1b2c/y-1.0.jar', '/home/u/.gradle/caches/build-cache-1/0123abcd'].map((p) => file(p)),
  'uv-cache': ['/home/u/.cache/uv/archive-v0/Xy12ab/six.py', '/root/.cache/uv/wheels-v5/pypi/six/1.16.0-py2.py3-none-any.http', '/home/u/.cache/uv/sdists-v9/pypi/x/1.0/ab/x-1.0-py3-none-any.whl',
    '/home/u/.cache/uv/simple-v16/pypi/six.rkyv', '/home/u/.cache/uv/git-v0/checkouts/4b8f/1a2b3c/setup.py', '/home/u/.local/share/uv/python/cpython-3.12.7-linux-x86_64-gnu/bin/python3.12', '/root/.local/share/uv/tools/ruff/bin/ruff'].map((p) => file(p)),
  // Every gate prefix of each pattern: /usr and /usr/local, lib, lib64, multiarch, share.
  'python-library': [file('/usr/lib/python3/dist-packages/mod/__init__.py'), file('/usr/lib/python3.11/os.py', 'modified'), file('/usr/local/lib/python3.11/dist-packages/evil/__init__.py'),
    file('/usr/lib64/python3.9/site-packages/x.py'), file('/usr/local/lib/python3.13t/site-packages/x.py'), file('/usr/local/lib64/python3.12/x.py'), file('/usr/lib/python2.7/dist-packages/x.py'),
    // A new package's bytecode (python-bytecode takes a host source's), a symlink, a module whose mode changed.
    file('/usr/lib/python3/dist-packages/newpkg/__pycache__/m.cpython-311.pyc'), { path: '/usr/lib/python3/dist-packages/x.py', change: 'added', type: 'symlink', target: '/tmp/evil.py' },
    { path: '/usr/lib/python3/dist-packages/apt/__init__.py', change: 'metadata', type: 'file', up: st('file', 0o755), details: ['mode 644→755'] },
    file('/usr/lib/python3/dist-packages/x-1.0.dist-info/entry_points.txt'), { path: '/usr/lib/python3/dist-packages/y.py', change: 'replaced', type: 'file', oldType: 'dir' }],
  'perl-library': ['/usr/share/perl5/Debian/AdduserCommon.pm', '/usr/share/perl/5.36/strict.pm', '/usr/lib/x86_64-linux-gnu/perl5/5.36/x.pm', '/usr/lib/x86_64-linux-gnu/perl-base/strict.pm',
    '/usr/lib/x86_64-linux-gnu/perl/5.36.0/x.pm', '/usr/local/share/perl/5.36.0/Evil.pm', '/usr/local/lib/x86_64-linux-gnu/perl/5.36.0/x.pm', '/usr/lib64/perl5/vendor_perl/x.pm',
    '/usr/local/lib64/perl5/x.pm', '/usr/lib/perl5/x.pm', '/usr/lib/aarch64-linux-gnu/perl5/5.36/x.pm', '/usr/local/lib/arm-linux-gnueabihf/perl-base/x.pm',
    // Each text the path filter holds for the pattern (sensitive-filter asks that one path needs each).
    ...['/usr', '/usr/local'].flatMap((u) => ['share', 'lib', 'lib64'].flatMap((d) => ['perl', 'perl5', 'perl-base'].map((n) => `${u}/${d}/${n}/X.pm`)))].map((p, i) => file(p, i % 2 ? 'added' : 'modified')),
  'ruby-library': ['/usr/local/lib/site_ruby/json.rb', '/usr/local/lib/site_ruby/3.1.0/x.rb', '/usr/local/lib/x86_64-linux-gnu/site_ruby/x.so', '/usr/lib/ruby/3.1.0/json.rb', '/usr/lib/ruby/vendor_ruby/x.rb', '/var/lib/gems/3.1.0/gems/x-1.0/lib/x.rb', '/usr/local/share/gems/gems/x/lib/x.rb',
    '/usr/share/rubygems-integration/all/specifications/x.gemspec', '/usr/lib/x86_64-linux-gnu/ruby/3.1.0/x.so', '/usr/local/lib/ruby/site_ruby/x.rb', '/usr/share/ruby/x.rb', '/usr/lib64/ruby/x.rb',
    '/usr/lib/ruby/gems/3.1.0/gems/rake-13/lib/rake.rb', '/usr/local/lib/aarch64-linux-gnu/ruby/3.1.0/x.so',
    ...['/usr', '/usr/local'].flatMap((u) => ['share', 'lib', 'lib64'].flatMap((d) => ['ruby', 'gems', 'rubygems-integration'].map((n) => `${u}/${d}/${n}/x.rb`)))].map((p) => file(p)),
  'node-library': ['/usr/local/lib/node_modules/npm/lib/cli.js', '/usr/lib/node_modules/x/index.js', '/usr/share/nodejs/x/index.js', '/usr/lib/nodejs/x.js', '/usr/local/share/nodejs/x.js', '/usr/local/lib/nodejs/x.js'].map((p) => file(p, 'modified')),
  'apt-helper': [file('/usr/lib/apt/methods/http', 'modified'), file('/usr/lib/apt/methods/evil'), file('/usr/lib/apt/apt.systemd.daily', 'modified'), file('/usr/lib/apt/solvers/dump'), file('/usr/lib/dpkg/methods/apt/install', 'modified')],
  'plugin-library': ['/usr/lib/x86_64-linux-gnu/gio/modules/libevil.so', '/usr/lib/x86_64-linux-gnu/qt5/plugins/platforms/libx.so', '/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libx.so',
    '/usr/lib/sudo/sudoers.so', '/usr/libexec/sudo/sudoers.so', '/usr/lib/x86_64-linux-gnu/pkcs11/x.so', '/lib/modules/6.1.0-x/kernel/drivers/x.ko', '/usr/lib/modules/6.1.0-x/updates/dkms/x.ko.xz',
    '/usr/local/lib/x/plugins/y.so.1', '/lib64/x/y.so', '/usr/lib/jvm/java-17/lib/server/libjvm.so'].map((p) => file(p)),
  'system-program': [...['/usr/lib/systemd/systemd-logind', '/usr/lib/openssh/sftp-server', '/usr/libexec/polkit-agent-helper-1', '/usr/lib/git-core/git-upload-pack', '/lib/systemd/systemd-udevd',
    '/usr/local/libexec/x/helper'].map((p) => program(p, 'modified')),
    { path: fromUser('/usr/lib/jvm/java-17/bin/java'), change: 'replaced', type: 'symlink', target: '/tmp/evil' },
    { path: fromUser('/usr/lib/x/run-me'), change: 'metadata', type: 'file', up: st('file', 0o755), details: ['mode 644→755'] }],
  'user-library': ['/home/u/.gem/ruby/3.1.0/gems/x/lib/x.rb', '/root/.local/share/gem/ruby/3.1.0/gems/x/lib/x.rb', '/home/u/.node_modules/x/index.js', '/home/u/.node_libraries/x.js', '/home/u/perl5/lib/perl5/Evil.pm'].map((p) => file(p)),
  'world-writable': [
    { path: '/opt/x/d', change: 'added', type: 'dir', up: st('dir', 0o777) }, { path: '/opt/x/d/f', change: 'added', type: 'file', up: st('file', 0o666) },
    { path: '/home/u/notes/run.sh', change: 'modified', type: 'file', up: st('file', 0o757) },
    { path: '/srv/share', change: 'metadata', type: 'dir', up: st('dir', 0o777), details: ['mode 755→777'] },
    { path: '/etc/x.conf', change: 'metadata', type: 'file', up: st('file', 0o646), details: ['mode 644→646'] },
    { path: '/opt/x/e', change: 'replaced', type: 'dir', up: st('dir', 0o2777) },
    // A new dir that a rule lets through (timesOrNewDir) when it is an ordinary one.
    { path: '/etc/sudoers.d', change: 'added', type: 'dir', up: st('dir', 0o777) }, { path: '/home/u/.ssh', change: 'added', type: 'dir', up: st('dir', 0o777) },
  ],
  // `chmod 1777` of host dirs where code is looked for (a probe's; each was an unmarked line).
  'dir-opened': [
    { path: '/etc/profile.d', change: 'metadata', type: 'dir', up: st('dir', 0o1777), host: st('dir', 0o755), details: ['mode 755→1777'] },
    { path: '/usr/lib/python3/dist-packages', change: 'metadata', type: 'dir', up: st('dir', 0o1733), host: st('dir', 0o755), details: ['mode 755→1733'] },
  ],
  'dir-symlink': [{ path: '/var/log/app', change: 'replaced', type: 'symlink', target: '/etc/cron.d', oldType: 'dir' },
    { path: '/home/u/.cache/tool', change: 'replaced', type: 'symlink', target: '/home/u/.ssh', oldType: 'dir' }],
  'other-owner': [
    { path: '/opt/x', change: 'added', type: 'file', up: { ...st('file', 0o644), uid: 1000, gid: 1000 }, details: ['owner 1000:1000'], givenAway: true },
    { path: '/etc/x.d', change: 'added', type: 'dir', up: { ...st('dir', 0o775), gid: 100 }, details: ['owner 0:100'], givenAway: true },
    { path: '/etc/pam.d', change: 'added', type: 'dir', up: { ...st('dir', 0o755), uid: 1000 }, details: ['owner 1000:0'], givenAway: true },
    { path: '/etc/udev/rules.d', change: 'added', type: 'dir', up: { ...st('dir', 0o775), gid: 100 }, details: ['owner 0:100'], givenAway: true },
  ],
  'acl-grant': [
    { path: '/srv/data.txt', change: 'metadata', type: 'file', up: st('file', 0o674), details: ['mode 644→674', 'acl +user:1000:rwx +mask::rwx'], aclGrant: true },
    { path: '/srv/share', change: 'added', type: 'dir', up: st('dir', 0o755), details: ['default acl +group:1002:r-x +mask::r-x'], aclGrant: true },
    { path: '/etc/logrotate.d/x', change: 'added', type: 'dir', up: st('dir', 0o755), details: ['default acl +user:1000:rwx +mask::rwx'], aclGrant: true },
  ],
};

// Nearby changes that are ordinary.
// One path for every text a rule's patterns need (literals.ts), which sensitive-filter.test.ts
// asks to be needed by a path of the corpus: its 40 samples of a pattern drawn at random can
// miss one of a dozen alternatives (a dbus pattern's did, about one run in five).
const EVERY_TEXT: Record<string, string[]> = {
  'display-manager': ['/usr/share/gdm/greeter/autostart/x.desktop', '/etc/X11/wdm/Xsetup', '/etc/X11/Xwrapper.config', '/etc/gdm/Init/Default', '/etc/gdm/PostLogin/Default', '/etc/gdm/PostSession/Default', '/etc/gdm/daemon.conf', '/etc/gdm3/PreSession/Default',
    '/etc/gdm3/custom.conf', '/usr/share/sddm/sddm.conf.d/x.conf', '/usr/lib/sddm/scripts/Xsetup'],
  systemd: ['/usr/share/systemd/user/pipewire.service.d/x.conf', '/usr/local/share/systemd/user/x.service', '/var/lib/systemd/linger/u', '/etc/xdg/systemd/user', '/etc/xdg/systemd/user/x.service', '/etc/containers/systemd/x.container', '/usr/share/containers/systemd/x.container', '/home/u/.config/containers/systemd/x.container'],
  'shell-startup': ['/etc/X11/xinit/xserverrc', '/etc/X11/xinit/xinputrc', '/etc/X11/xinit/xinput.d/fcitx', '/etc/zsh/zshrc', '/etc/fish/config.fish', '/home/u/.config/fish/config.fish', '/home/u/.config/fish/functions/ls.fish', '/usr/share/fish/vendor_functions.d/x.fish',
    '/usr/local/share/fish/vendor_conf.d/x.fish', '/usr/local/share/fish/vendor_completions.d/x.fish', '/usr/local/share/zsh/vendor-completions/_x', '/usr/local/share/zsh/vendor-functions/x',
    '/home/u/.config/fish/fish_variables'],
  sudoers: ['/etc/doas.conf'], cron: ['/etc/cron-apt/action.d/0-update', '/etc/incron.d/x', '/var/spool/incron/root', '/etc/anacrontab', '/var/spool/anacron/cron.daily'], accounts: ['/etc/subgid', '/usr/local/lib/sysusers.d/x.conf'],
  pam: ['/etc/pam.conf', '/lib/security/pam_x.so'], 'package-source': ['/etc/apt/preferences', '/etc/apt/keyrings/x.gpg', '/etc/yum.repos.d/x.repo'],
  'tls-trust': ['/usr/lib/jvm/java-17-openjdk-amd64/lib/security/cacerts', '/opt/jdk-21/lib/security/cacerts', '/etc/pki/tls/cert.pem', '/usr/share/pki/ca-trust-source/anchors/x.pem', '/etc/pki/nssdb/cert9.db', '/home/u/app/certifi/cacert.pem'], udev: ['/run/udev/rules.d/x.rules'],
  modprobe: ['/lib/modprobe.d/x.conf', '/lib/modules-load.d/x.conf', '/usr/lib/modules-load.d/x.conf', '/run/modprobe.d/x.conf', '/run/modules-load.d/x.conf', '/etc/depmod.d/x.conf',
    '/lib/depmod.d/x.conf', '/usr/lib/depmod.d/x.conf', '/run/depmod.d/x.conf', '/usr/local/lib/modprobe.d/x.conf', '/usr/local/lib/modules-load.d/x.conf', '/usr/local/lib/depmod.d/x.conf'],
  'dpkg-hook': ['/usr/share/debconf/confmodule', '/usr/share/debconf/frontend'],
  sysctl: ['/lib/sysctl.d/x.conf', '/run/sysctl.d/x.conf', '/usr/local/lib/sysctl.d/x.conf'], tmpfiles: ['/lib/tmpfiles.d/x.conf'], binfmt: ['/lib/binfmt.d/x.conf'],
  alternatives: ['/var/lib/dpkg/alternatives/x'], 'git-config': ['/home/u/.config/git/attributes', '/etc/gitattributes'],
  'maven-config': ['/etc/maven/toolchains.xml', '/etc/maven/m2.conf', '/usr/share/maven/conf/settings.xml', '/usr/share/maven/conf/toolchains.xml'],
  'docker-config': ['/usr/lib/docker/cli-plugins/docker-x', '/usr/local/libexec/docker/cli-plugins/docker-x'],
  ssh: ['/home/u/.config/git/allowed_signers'], 'editor-startup': ['/var/lib/vim/addons/ftdetect/nginx.vim', '/var/lib/vim/addons/autoload/x.vim', '/var/lib/vim/addons/ftplugin/x.vim', '/var/lib/vim/addons/pack/x/start/y/plugin/z.vim',
    '/var/lib/vim/addons/syntax/x.vim', '/var/lib/vim/addons/indent/x.vim', '/var/lib/vim/addons/compiler/x.vim', '/var/lib/vim/addons/colors/x.vim', '/var/lib/vim/addons/after/plugin/x.vim'], 'mac-policy': ['/var/lib/snapd/apparmor/profiles/snap.x.x', '/var/lib/snapd/seccomp/bpf/snap.x.x.src'],
  'container-config': ['/usr/libexec/oci/hooks.d/x', '/usr/share/lxc/config/common.conf.d/x.conf', '/etc/containers/registries.d/default.yaml', '/etc/lxc/default.conf', '/etc/lxc/lxc-usernet', '/home/u/.config/lxc/default.conf'],
  'session-env': ['/run/environment.d/x.conf', '/usr/local/lib/environment.d/x.conf'], 'gnupg-config': ['/home/u/.gnupg/scdaemon.conf', '/home/u/.gnupg/common.conf',
    '/home/u/.gnupg/pubring.kbx', '/home/u/.gnupg/pubring.gpg', '/home/u/.gnupg/trustedkeys.kbx', '/home/u/.gnupg/trustedkeys.gpg', '/root/.gnupg/trustdb.gpg'],
  // Texts the random samples of their patterns could miss (the comparison of a filter without
  // each text then failed).
  'python-library': ['/usr/local/lib/python3.11/x.py'], 'python-startup': ['/home/u/x/dist-packages/x.pth', '/home/u/x/site-packages/sitecustomize.py', '/home/u/x/dist-packages/__pycache__/usercustomize.cpython-311.pyc',
    '/etc/python3.11/sitecustomize.py', '/usr/local/lib/python3.12/sitecustomize.pyc', '/home/u/proj/.venv/lib/python3.11/site-packages/sitecustomize.py',
    '/opt/py/lib/python3.12/sitecustomize.py', '/opt/py/lib/python3.12/usercustomize.py'],
  'name-resolution': ['/etc/systemd/network/10-x.network', '/usr/lib/systemd/network/x.network', '/usr/local/lib/systemd/network/x.network', '/run/systemd/network/x.network', '/etc/netplan/50-x.yaml', '/lib/netplan/x.yaml', '/usr/lib/netplan/x.yaml',
    '/etc/NetworkManager/NetworkManager.conf', '/etc/NetworkManager/conf.d/x.conf', '/etc/NetworkManager/system-connections/x.nmconnection', '/etc/NetworkManager/dnsmasq.d/x.conf',
    '/etc/NetworkManager/dnsmasq-shared.d/x.conf', '/usr/lib/NetworkManager/conf.d/x.conf', '/usr/local/lib/systemd/resolved.conf.d/x.conf'], 'shell-plugin': ['/home/u/.zinit/x', '/home/u/.local/share/zinit/x'],
  // Paths the rules gained on 2026-12-06 (asking them about ~230 paths of tools that run code or
  // trust on their own).
  'event-hook': ['/usr/lib/pm-utils/module.d/kernel', '/usr/share/tlp/func.d/05-tlp-func-pm', '/etc/ModemManager/fcc-unlock.d/1eac:1001', '/usr/share/ModemManager/fcc-unlock.available.d/03f0:4e1d', '/usr/lib/x86_64-linux-gnu/ModemManager/fcc-unlock.d/x', '/etc/molly-guard/run.d/10-x', '/etc/molly-guard/rc', '/etc/qemu/fsfreeze-hook', '/etc/qemu/fsfreeze-hook.d/x', '/etc/pm/sleep.d/10-x', '/etc/pm/power.d/x', '/usr/lib/pm-utils/sleep.d/00x', '/usr/lib/pm-utils/power.d/y'],
  'network-hook': ['/etc/ppp/ip-pre-up', '/etc/wpa_supplicant/action_wpa.sh', '/etc/ifplugd/action.d/x', '/etc/udhcpc/default.script', '/etc/wide-dhcpv6/dhcp6c-script', '/etc/rdnssd/merge-hook',
    '/etc/miredo/client-hook', '/etc/avahi/avahi-autoipd.action', '/etc/NetworkManager/VPN/nm-x-service.name', '/usr/lib/NetworkManager/VPN/nm-x-service.name', '/etc/dhcp/dhclient.conf', '/etc/networkd-dispatcher/routable.d/50-x', '/usr/lib/networkd-dispatcher/off.d/x', '/etc/resolvconf/update.d/x', '/etc/resolvconf/update-libc.d/y'],
  'kernel-hook': ['/usr/share/initramfs-tools/conf.d/x', '/usr/share/initramfs-tools/initramfs.conf', '/usr/share/initramfs-tools/conf-hooks.d/busybox', '/etc/initramfs-tools/conf-hooks.d/x', '/var/lib/dkms/mod/1.0/source', '/etc/initramfs/post-update.d/systemd-boot', '/etc/initramfs-tools/initramfs.conf', '/etc/initramfs-tools/conf.d/resume', '/etc/dracut.conf', '/etc/dracut.conf.d/x.conf', '/usr/lib/dracut/dracut.conf.d/x.conf',
    '/usr/lib/dracut/modules.d/99x/module-setup.sh'],
  'sudo-timestamp': ['/var/lib/sudo/ts/root', '/var/db/sudo/ts/u'],
  'service-config': ['/etc/tomcat10/tomcat-users.xml', '/etc/tomcat9/server.xml', '/etc/jetty9/start.ini', '/etc/amavis/conf.d/50-user', '/etc/munin/plugins/x', '/etc/nagios4/nagios.cfg',
    '/etc/icinga2/scripts/x.sh', '/etc/jupyterhub/jupyterhub_config.py', '/etc/xrdp/startwm.sh', '/etc/ldap/slapd.d/cn=config.ldif', '/etc/libvirt/hooks/qemu', '/etc/libvirt/hooks/daemon', '/etc/libvirt/qemu.conf', '/etc/mongod.conf', '/etc/tor/torrc', '/var/lib/jenkins/init.groovy.d/x.groovy',
    '/var/lib/jenkins/plugins/x.jpi', '/etc/redis/redis.conf', '/etc/redis.conf', '/etc/valkey/valkey.conf', '/etc/squid/squid.conf', '/etc/clamav/clamd.conf', '/etc/spamassassin/local.cf'],
  'mail-command': ['/home/u/.fetchmailrc', '/home/u/.msmtprc', '/home/u/.mbsyncrc', '/home/u/.offlineimaprc', '/home/u/.notmuch-config', '/home/u/.config/msmtp/config',
    '/home/u/.config/isyncrc', '/home/u/.config/offlineimap/config', '/home/u/.config/notmuch/default/config', '/home/u/mail/.notmuch/hooks/post-new'],
  'desktop-entry': ['/usr/local/share/wayland-sessions/x.desktop', '/usr/share/thumbnailers/x.thumbnailer', '/usr/local/share/thumbnailers/y.thumbnailer', '/home/u/.local/share/thumbnailers/z.thumbnailer'],
  'desktop-startup': ['/home/u/.config/eww/eww.yuck', '/home/u/.config/ags/config.js', '/home/u/.config/mako/config', '/home/u/.conkyrc', '/home/u/.config/conky/conky.conf', '/home/u/.xmonad/xmonad.hs', '/home/u/.config/xmonad/lib/X.hs', '/home/u/.dwm/autostart.sh', '/home/u/.dwm/autostart_blocking.sh', '/home/u/.local/share/dwm/autostart.sh',
    '/home/u/.local/share/dwm/autostart_blocking.sh', '/home/u/.fluxbox/startup', '/home/u/.local/share/plasma/plasmoids/x/contents/ui/main.qml',
    '/home/u/.local/share/cinnamon/extensions/x/extension.js', '/home/u/.local/share/cinnamon/applets/x/applet.js', '/home/u/.local/share/cinnamon/desklets/x/desklet.js', '/home/u/.icewm/startup', '/home/u/.icewm/shutdown', '/home/u/.config/icewm/startup', '/home/u/.config/icewm/shutdown', '/home/u/.config/xfce4/xinitrc', '/etc/xdg/xfce4/xinitrc'],
  'terminal-config': ['/usr/share/pipewire/pipewire.conf', '/usr/share/pipewire/pipewire-pulse.conf', '/etc/pulse/client.conf', '/etc/pulse/client.conf.d/01-x.conf', '/etc/pulse/default.pa', '/etc/pulse/default.pa.d/x.pa', '/etc/pulse/system.pa', '/etc/pulse/daemon.conf',
    '/etc/pulse/daemon.conf.d/x.conf', '/home/u/.config/pulse/client.conf', '/home/u/.config/pulse/default.pa', '/home/u/.config/pulse/daemon.conf', '/home/u/.config/terminator/config', '/home/u/.config/xfce4/terminal/terminalrc', '/home/u/.local/share/konsole/Work.profile', '/home/u/.urxvt/ext/x', '/home/u/.config/zellij/config.kdl'],
  'browser-policy': ['/usr/lib/firefox/browser/extensions/x@y.xpi', '/usr/lib/firefox-esr/browser/extensions/x.xpi', '/usr/share/mozilla/extensions/{ec8030f7-c20a-464f-9b0e-13a3a9e97384}/x.xpi',
    '/usr/lib/mozilla/extensions/{ec8030f7-c20a-464f-9b0e-13a3a9e97384}/x.xpi', '/home/u/.config/google-chrome/Default/Extensions/abc/1.0_0/background.js', '/home/u/.config/chromium/Profile 1/Preferences', '/home/u/.config/microsoft-edge/Default/Secure Preferences',
    '/home/u/.config/BraveSoftware/Brave-Browser/Default/Extensions/x/1/a.js', '/home/u/.config/vivaldi/Default/Preferences', '/etc/chromium.d/x', '/usr/lib/firefox-esr/mozilla.cfg', '/usr/lib/firefox/x.cfg', '/etc/firefox-esr/firefox-esr.js', '/etc/firefox/syspref.js',
    '/home/u/.mozilla/firefox/abc.default/prefs.js', '/home/u/.mozilla/firefox/abc.default/extensions/x@y.xpi', '/home/u/.mozilla/firefox/abc.default/cert9.db',
    '/home/u/.mozilla/firefox/abc.default/cert8.db', '/home/u/.mozilla/firefox/abc.default/pkcs11.txt'],
  'package-hook': ['/usr/share/python3/runtime.d/x.rtupdate', '/usr/share/pypy3/runtime.d/x.rtupdate', '/usr/lib/pypy3/runtime.d/x.rtupdate', '/etc/needrestart/hook.d/10-dpkg', '/etc/needrestart/restart.d/x', '/etc/etckeeper/etckeeper.conf', '/etc/etckeeper/pre-install.d/50x'],
  'rc-file': ['/home/u/.editrc', '/root/.selected_editor', '/home/u/.lessfilter', '/home/u/.clisprc.lisp', '/home/u/.hyper.js', '/home/u/.mailrc', '/home/u/.config/mc/mc.ext.ini',
    '/home/u/.config/mc/mc.ext', '/etc/mc/mc.ext.ini', '/etc/mc/mc.ext', '/home/u/.byobu/profile.tmux', '/home/u/.byobu/keybindings.tmux', '/home/u/.byobu/statusrc', '/home/u/.config/byobu/profile.tmux',
    '/home/u/.config/byobu/keybindings.tmux', '/home/u/.config/byobu/statusrc', '/home/u/.hyper_plugins/node_modules/x/index.js', '/etc/quilt.quiltrc', '/etc/dput.cf', '/etc/dupload.conf', '/etc/libreoffice/soffice.sh', '/etc/libreoffice/sofficerc', '/etc/libreoffice/registry/main.xcd',
    '/etc/mpv/scripts/x.lua', '/etc/mpv/mpv.conf', '/etc/ranger/rc.conf', '/home/u/.conan/extensions/hooks/x.py', '/home/u/.conan2/hooks/x.py', '/home/u/.sbtrc', '/home/u/.octaverc', '/home/u/.erlang', '/home/u/src/p/.iex.exs', '/home/u/.racketrc', '/home/u/.ocamlinit', '/home/u/.swiplrc', '/home/u/.radare2rc',
    '/home/u/.pylintrc', '/home/u/.spacemacs', '/root/.my.cnf', '/home/u/.jjconfig.toml', '/home/u/.xinputrc', '/home/u/.xserverrc', '/home/u/.lein/profiles.clj',
    '/home/u/.config/ranger/rc.conf', '/home/u/.config/ranger/commands.py', '/home/u/.config/ranger/plugins/x.py', '/home/u/.R/Makevars', '/home/u/.R/Makevars.ucrt', '/home/u/.config/utop/init.ml',
    '/home/u/.config/swi-prolog/init.pl', '/home/u/.config/micro/init.lua', '/home/u/.config/micro/plug/x/x.lua', '/home/u/.config/kak/kakrc', '/home/u/.config/kak/autoload/x.kak',
    '/home/u/.doom.d/config.el', '/home/u/.config/doom/packages.el', '/home/u/.config/yt-dlp/config', '/home/u/.config/yt-dlp/config.txt', '/home/u/.config/yt-dlp.conf',
    '/home/u/.config/aria2/aria2.conf', '/home/u/.config/pylintrc', '/home/u/.config/ptpython/config.py', '/home/u/.config/jj/config.toml', '/home/u/.config/jj/conf.d/x.toml',
    '/home/u/.subversion/config', '/etc/subversion/config', '/etc/mailcap', '/etc/mailcap.order', '/home/u/.config/mise/config.toml', '/home/u/.config/mise/config.local.toml',
    '/home/u/.config/mise/conf.d/x.toml', '/home/u/.ansible.cfg', '/etc/ansible/ansible.cfg', '/home/u/.ansible/plugins/callback/x.py', '/home/u/.config/nixpkgs/config.nix',
    '/home/u/.config/nixpkgs/overlays.nix', '/home/u/.config/nixpkgs/overlays/x.nix', '/home/u/.devscripts', '/home/u/.quiltrc', '/root/.pbuilderrc', '/home/u/.dupload.conf',
    '/home/u/.sbuildrc', '/home/u/.dput.cf', '/home/u/.gbp.conf', '/home/u/.rpmmacros', '/home/u/.makepkg.conf', '/home/u/.bazelrc', '/home/u/.npm-init.js', '/etc/devscripts.conf',
    '/etc/pbuilderrc', '/etc/sbuild/sbuild.conf', '/etc/git-buildpackage/gbp.conf', '/etc/makepkg.conf', '/etc/bazel.bazelrc', '/home/u/.config/pacman/makepkg.conf',
    '/home/u/.config/helix/languages.toml', '/home/u/.config/zed/settings.json', '/home/u/.config/neofetch/config.conf', '/home/u/.config/vifm/vifmrc', '/home/u/.config/lf/lfrc',
    '/home/u/.config/yazi/init.lua'],
};
for (const [id, paths] of Object.entries(EVERY_TEXT)) CASES[id]!.push(...paths.map((p) => file(p, 'modified')));

export const ORDINARY: C[] = [
  file('/etc/hostname', 'modified'),
  // systemd's data beside the user units of $XDG_DATA_DIRS; hwdb's device properties.
  file('/usr/share/systemd/kbd-model-map', 'modified'), file('/usr/local/share/systemd/userx/x'), file('/usr/local/lib/udev/hwdb.d/x.hwdb'),
  // A Tcl package's own files (sourced by its index when required), an index deeper than Tcl looks.
  file('/usr/share/tcltk/x/x.tcl'), file('/usr/lib/x/y/pkgIndex.tcl'), { path: '/usr/share/tcltk/x/pkgIndex.tcl', change: 'deleted', type: 'file' } as C,
  // Beside the paths of 2026-12-06: a site's static files and uploads, certbot's certificates,
  // GnuPG's seed and backup keyring, chat logs, a kernel's logo, ranger's bookmarks, yt-dlp's
  // archive, direnv's deny list, the initramfs module list, a Firefox profile's history.
  file('/var/www/html/index.html'), file('/var/www/html/css/x.css'), file('/var/www/html/uploads/x.php.txt'), file('/srv/www/x.jpg', 'modified'), file('/var/lib/tomcat9/logs/catalina.out', 'modified'),
  file('/etc/letsencrypt/live/example.org/README'), file('/etc/letsencrypt/archive/example.org/cert2.pem'), file('/etc/letsencrypt/accounts/x/regr.json', 'modified'),
  file('/home/u/.gnupg/random_seed', 'modified'), file('/home/u/.gnupg/pubring.kbx~'), file('/home/u/.gnupg/private-keys-v1.d/x.key'), file('/home/u/.weechat/logs/x.log', 'modified'),
  file('/home/u/.weechat/python/x.py'), file('/usr/share/jupyter/kernels/python3/logo-64x64.png'), file('/home/u/.config/ranger/bookmarks', 'modified'), file('/home/u/.config/yt-dlp/archive.txt', 'modified'),
  file('/home/u/.local/share/direnv/deny/0f1e2d'), file('/etc/initramfs-tools/modules', 'modified'), file('/home/u/.mozilla/firefox/abc.default/sessionstore.jsonlz4', 'modified'),
  // A package's reinstall touches its units, rules and scripts: their times alone (each was a
  // `!` line in a real install's review until 2026-12-06).
  ...['/usr/lib/systemd/system/x.service', '/usr/lib/tmpfiles.d/x.conf', '/var/lib/dpkg/info/x.postinst', '/etc/init.d/x', '/etc/pam.d/x', '/etc/profile.d/x.sh', '/etc/ld.so.conf.d/x.conf',
    '/etc/logrotate.d/x', '/etc/udev/rules.d/x.rules', '/etc/alternatives/x'].map((p): C => ({ path: fromUser(p), change: 'metadata', type: 'file', up: st('file', 0o644), details: ['mtime'] })),
  file('/home/u/.config/jj/repos.txt'), file('/home/u/proj/.venv/lib/python3.11/site-packages/debugpy/_vendored/pydevd/pydev_sitecustomize/sitecustomize.py'),
  file('/home/u/proj/.venv/lib/python3.11/site-packages/debugpy/_vendored/pydevd/pydev_sitecustomize/__pycache__/sitecustomize.cpython-311.pyc'), file('/home/u/src/p/sitecustomize.py'), file('/usr/share/vim/addons/ftdetect/nginx.vim'), file('/usr/share/vim/addons/syntax/nginx.vim'), file('/var/lib/vim/addons/doc/tags', 'modified'), file('/usr/share/doc/firmware-linux/changelog.gz', 'modified'), file('/home/u/.config/helix/themes/x.toml'), file('/home/u/.config/fish/fish_history', 'modified'),
  { path: fromUser('/lib/firmware/old.bin'), change: 'deleted', type: 'file' }, file('/home/u/.local/share/plasma/wallpapers/x.jpg'), file('/var/cache/debconf/config.dat', 'modified'), file('/home/u/.config/kak/colors/x.kak'), file('/home/u/.R/history'), { path: fromUser('/etc/letsencrypt/renewal/old.conf'), change: 'deleted', type: 'file' },
  // Beside what a display manager, terminal, mpv, Flatpak or Terraform runs: their data.
  file('/etc/gdm3/greeter.dconf-defaults', 'modified'), file('/etc/default/locale', 'modified'), file('/etc/deluser.conf', 'modified'), file('/etc/systemd/logind.conf', 'modified'), file('/etc/java-17-openjdk/logging.properties', 'modified'), { path: fromUser('/etc/default/cron'), change: 'deleted', type: 'file' }, file('/home/u/.cache/kitty/x'), file('/home/u/.config/mpv/watch_later/ABC'),
  { ...file('/etc/motd', 'modified'), upper: BANNER_OK }, { path: fromUser('/etc/motd'), change: 'deleted', type: 'file' }, file('/etc/motd.d/x'),
  file('/home/u/.local/share/nvim/shada/main.shada', 'modified'), file('/home/u/.emacs.d/eln-cache/x.eln'), file('/home/u/.config/JetBrains/IntelliJIdea2024.1/options/other.xml', 'modified'),
  file('/usr/lib/google-cloud-sdk/lib/new_module.py'), file('/usr/share/doc/x/examples/y.py', 'modified'), file('/usr/share/man/man3/x.3.gz', 'modified'), file('/usr/share/icons/x/y.png', 'modified'),
  { path: fromUser('/usr/include/stdio.h'), change: 'metadata', type: 'file', up: st('file', 0o644), details: ['mtime'] }, { path: fromUser('/usr/include/x.h'), change: 'deleted', type: 'file' },
  file('/home/u/.zsh_history', 'modified'), file('/home/u/.tmux/resurrect/last'), file('/home/u/.fzf-history', 'modified'),
  file('/var/lib/postgresql/.bash_history', 'modified'), file('/var/lib/pgsqlx/y'), file('/var/log/postgresql/postgresql-15-main.log', 'modified'), file('/usr/share/pam-configsx'),
  file('/home/u/.mozilla/firefox/abc.default/places.sqlite', 'modified'), file('/home/u/.config/chromium/Default/History', 'modified'), file('/etc/opt/chrome/README'),
  file('/var/lib/sudo/lectured/u'), file('/etc/initramfs.conf'), file('/etc/rc.dx'),
  file('/home/u/.local/share/flatpak/repo/config'), file('/home/u/.rustup/settings.toml', 'modified'), file('/home/u/src/miniconda3-notes.txt'), file('/srv/u/.pyenv/x'), file('/usr/local/gopher/x'), file('/etc/iptables.bak', 'modified'), file('/etc/nftables.conf.dpkg-dist'), file('/var/log/ufw.log', 'modified'), file('/var/log/audit/audit.log', 'modified'), file('/var/lib/fail2ban/fail2ban.sqlite3', 'modified'), file('/home/u/.terraform.d/checkpoint_signature'), file('/home/u/proj/.terraform/providers/x/y'), file('/etc/pkcs11/README'),
  // Beside the toolchains' bin dirs: cargo's lock, a Go package's source, a shim dir itself.
  file('/home/u/.cargo/.package-cache'), file('/home/u/go/pkg/x.go'), file('/home/u/.cargo/bin.txt'), file('/srv/x/go/bin/tool'), file('/home/u/src/p/.cargo/bin/x'),
  { path: fromUser('/home/u/.pyenv/shims'), change: 'added', type: 'dir' }, { path: fromUser('/root/.cargo/bin/old'), change: 'deleted', type: 'file' },
  // A server's logs and data, not its config; a removed site.
  file('/var/log/nginx/access.log', 'modified'), file('/var/lib/postgresql/.psql_history', 'modified'), file('/etc/nginx.bak'),
  { path: fromUser('/etc/nginx/sites-enabled/default'), change: 'deleted', type: 'symlink' },
  // A project's own .vscode launch configs and extension recommendations (run or asked only on the user's act), VS Code's state, a window manager's notes elsewhere.
  file('/home/u/src/p/.vscode/launch.json'), file('/home/u/src/p/.vscode/extensions.json'), file('/home/u/.config/Code/User/globalStorage/state.vscdb'), file('/home/u/.config/i3status-rust/x'), file('/home/u/notes/.bash_aliases.txt'),
  // Beside dbus, git's templates, the editors' and PHP's system files: docs, samples, data.
  file('/usr/share/dbus-1/interfaces/org.x.xml'), file('/usr/share/git-core/templates/hooks/pre-commit.sample'), file('/usr/share/git-core/templates/description'),
  file('/usr/share/vim/vim90/doc/x.txt'), file('/usr/share/vim/vim90/tutor/tutor'), file('/usr/share/emacs/site-lisp/x/y.el'), file('/usr/share/php/x/y.php'), file('/etc/acpi.bak'),
  { path: fromUser('/etc/acpi/events/powerbtn'), change: 'deleted', type: 'file' },
  // Below the lib trees: a new program (run only when something names it), data, a static
  // archive, a kernel's module index, a deleted plugin; and .so names elsewhere.
  program('/usr/lib/gcc/x86_64-linux-gnu/12/f951'), program('/usr/lib/x/tool', 'deleted'), file('/usr/lib/x/data.bin', 'modified'), file('/usr/lib/x86_64-linux-gnu/libx.a'), { ...file('/usr/lib/x86_64-linux-gnu/gio/modules/giomodule.cache', 'modified'), upper: GIO_OK },
  { ...file('/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache', 'modified'), upper: LOADERS_OK }, file('/var/cache/x/data.cache'),
  { path: fromUser('/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.d/x.conf'), change: 'deleted', type: 'file' },
  file('/lib/modules/6.1.0-x/modules.dep', 'modified'), file('/usr/lib/os-release', 'modified'), { path: fromUser('/usr/lib/x86_64-linux-gnu/gio/modules/libold.so'), change: 'deleted', type: 'file' },
  file('/opt/app/lib/libx.so'), file('/home/u/src/p/build/libx.so'), file('/usr/share/x/y.so.txt'),
  // ldconfig's own rewrite of the cache (every library in a loader dir), the cache removed.
  { ...file('/etc/ld.so.cache', 'modified'), upper: LDCACHE_OK }, { path: fromUser('/etc/ld.so.cache'), change: 'deleted', type: 'file' },
  // The neighbours of the boot, mount, share, policy, cloud and hg rules: a kernel removed, a
  // dir made in /boot, a project's kube or hg config, a clone's .hg/hgrc, skel's mtime.
  { path: fromUser('/boot/vmlinuz-6.1.0-old'), change: 'deleted', type: 'file' }, { path: fromUser('/boot/grub/fonts'), change: 'added', type: 'dir' },
  file('/etc/default/locale', 'modified'), file('/etc/fstab.bak'), file('/etc/samba/README'), file('/home/u/proj/.kube/config'), file('/home/u/proj/.aws/config'),
  file('/home/u/src/repo/.hg/hgrc'), file('/home/u/proj/.hgrc'), file('/home/u/.npmrc.bak'), file('/etc/containers/README'), file('/etc/docker/key.json'),
  { path: fromUser('/etc/skel/.bashrc'), change: 'metadata', type: 'file', up: st('file', 0o644), details: ['mtime'] },
  { path: fromUser('/etc/apparmor.d/usr.sbin.cupsd'), change: 'metadata', type: 'file', up: st('file', 0o644), details: ['mtime'] }, file('/etc/hosts.allow', 'modified'), file('/etc/host.conf', 'modified'), { path: fromUser('/etc/hosts'), change: 'deleted', type: 'file' },
  { path: fromUser('/etc/resolv.conf'), change: 'metadata', type: 'file', up: st('file', 0o644), details: ['mtime'] }, { ...file('/etc/motd'), upper: BANNER_OK }, file('/etc/apt/listchanges.conf'), file('/home/u/notes/.bashrc.bak'),
  file('/home/u/src/p/.git/objects/ab/cdef'), file('/home/u/src/p/.git/hooks/pre-commit.sample'), { path: fromUser('/home/u/src/p/.git/hooks'), change: 'added', type: 'dir' }, file('/home/u/src/p/.git/info/refs'), file('/home/u/src/p/.git/refs/heads/config'),
  // New objects and packs (commit, fetch, gc), an object's mtime (git freshens one it writes again), refs and packed-refs deleted.
  file(`/home/u/src/p/.git/objects/ab/${'c'.repeat(38)}`), file(`/home/u/src/p/.git/objects/pack/pack-${'d'.repeat(40)}.pack`),
  { path: fromUser(`/home/u/src/p/.git/objects/ab/${'c'.repeat(38)}`), change: 'metadata', type: 'file', up: st('file', 0o444), details: ['mtime'] },
  { path: fromUser(`/home/u/src/p/.git/objects/pack/pack-${'d'.repeat(40)}.idx`), change: 'deleted', type: 'file' },
  { path: fromUser('/home/u/src/p/.git/refs/tags/v1.0'), change: 'deleted', type: 'file' }, { path: fromUser('/home/u/src/p/.git/refs/replace'), change: 'added', type: 'dir' },
  { path: fromUser('/home/u/src/p/.git/packed-refs'), change: 'deleted', type: 'file' }, file('/home/u/src/p/.git/refs/remotes/origin/main', 'modified'),
  file('/home/u/src/p/node_modules/x/.gitattributes'), file('/home/u/src/p/.github/workflows/ci.yml'), file('/usr/lib/x86_64-linux-gnu/libx.a'),
  file('/usr/share/doc/x/README'), file('/opt/x/lib/libbundled.so'), file('/var/log/syslog', 'modified'),
  { path: '/usr/local/bin/tool', change: 'deleted', type: 'file' },
  // pacman's file lists and descriptions, a pacman.d file that is neither, a removed hook.
  file('/var/lib/pacman/local/sl-5.02-1/files'), file('/var/lib/pacman/local/sl-5.02-1/desc'), file('/etc/pacman.d/notes'), { path: '/etc/pacman.d/hooks/x.hook', change: 'deleted', type: 'file' },
  file('/var/lib/dpkg/statoverride-old', 'modified'), file('/var/lib/dpkg/diversions-old', 'modified'),
  { ...file('/var/lib/dpkg/info/coreutils.list', 'modified'), upper: LIST_OK }, { ...file('/var/lib/dpkg/info/sbx-case.list'), upper: LIST_OK },
  { path: '/var/lib/dpkg/info/coreutils.list', change: 'deleted', type: 'file' }, { path: '/var/lib/dpkg/info/coreutils.list', change: 'metadata', type: 'file', up: st('file', 0o600), details: ['mode 644→600'] },
  { path: '/var/lib/apt/extended_states', change: 'deleted', type: 'file' }, { path: '/var/lib/dpkg/status', change: 'metadata', type: 'file', up: st('file', 0o644), details: ['mtime'] },
  file('/var/lib/dpkg/status-old', 'modified'), file('/var/lib/apt/extended_states.bak', 'modified'),
  // Not a cache a build takes as it is: Go's notes in its build cache, ccache's stats, pre-commit's
  // log, node-gyp's download marker, a cache file deleted, the huggingface token (a secret).
  file('/home/u/.cache/go-build/README'), file('/home/u/.cache/go-build/trim.txt', 'modified'), file('/home/u/.cache/ccache/0/stats', 'modified'), file('/home/u/.cache/pre-commit/pre-commit.log', 'modified'),
  file('/home/u/.cache/node-gyp/20.11.0/installVersion'), { path: '/home/u/.cache/go-build/ab/abcd-d', change: 'deleted', type: 'file' }, file('/home/u/.cache/huggingface/token'),
  // Not a startup file: gh's hosts (tokens, no command), PowerShell's modules cache, xonsh's history.
  file('/home/u/.config/gh/hosts.yml'), file('/home/u/.config/powershell/ModuleAnalysisCache'), file('/home/u/.local/share/xonsh/xonsh-history.json'),
  // A VPN's dir made, a config removed (the tunnel's scripts go with it).
  { path: '/etc/wireguard', change: 'added', type: 'dir' }, { path: '/etc/openvpn/client/x.conf', change: 'deleted', type: 'file' },
  // Not a node's config: the kubelet's pod volumes; a container engine's layer deleted.
  file('/var/lib/kubelet/pods/x/volumes/y'), { path: '/var/lib/docker/overlay2/abc/diff/usr/bin/x', change: 'deleted', type: 'file' },
  // Not a tool's startup or cache: sbt's server state, Go's telemetry, NuGet's HTTP cache log.
  file('/home/u/.sbt/1.0/server/x/active.json'), file('/home/u/.config/go/telemetry/local/x.json'), file('/home/u/.local/share/NuGet/v3-cache/x.log'),
  // Not what a session starts: a bar's style, a launcher's theme, conky's fonts.
  file('/home/u/.config/waybar/style.css'), file('/home/u/.config/rofi/config.rasi'), file('/home/u/.config/conky/fonts/x.ttf'),
  // Not Python startup code or a trust store: a venv's own, in a venv the command made (nothing on the host starts its Python).
  inVenv(NEW_VENV, 'distutils-precedence.pth'), inVenv(NEW_VENV, 'sitecustomize.py'), inVenv(NEW_VENV, 'pip/_vendor/certifi/cacert.pem'),
  // Not a package tool's user config or cache: a project's own (composer.json and vendor, deps.edn, rebar.config, stack.yaml, NuGet.Config), pub's log, Go's sources.
  file('/home/u/proj/composer.json', 'modified'), file('/home/u/proj/vendor/x/y/src/Plugin.php'), file('/home/u/proj/deps.edn', 'modified'), file('/home/u/proj/rebar.config', 'modified'),
  file('/home/u/proj/stack.yaml', 'modified'), file('/home/u/proj/NuGet.Config', 'modified'), file('/home/u/.pub-cache/log/pub_log.txt'), file('/usr/lib/go-1.21/src/go.mod'),
  { path: fromUser('/home/u/.config/composer/vendor/x/y.php'), change: 'deleted', type: 'file' }, file('/etc/gitattributes.dpkg-old'),
  // Not desktop settings or network config: GTK's bookmarks, a compiled schema list, NetworkManager's runtime state, dhclient's leases.
  file('/home/u/.config/gtk-3.0/bookmarks', 'modified'), file('/usr/share/glib-2.0/schemas/gschemas.compiled', 'modified'), file('/var/lib/NetworkManager/NetworkManager.state', 'modified'),
  file('/var/lib/dhcp/dhclient.eth0.leases', 'modified'), { path: fromUser('/etc/dconf/db/local.d'), change: 'added', type: 'dir' },
  // Not what a session or tool runs, in the system's config dir: its menus, the default user dirs, a bar's style.
  file('/etc/xdg/menus/applications.menu', 'modified'), file('/etc/xdg/user-dirs.defaults', 'modified'), file('/etc/xdg/waybar/style.css', 'modified'),
  // Not PHP a web app includes, a hook or an agent's code: a .php.bak, a project's PHP, runit's log, facter's cache.
  file('/etc/roundcube/config.inc.php.bak', 'modified'), file('/home/u/src/site/index.php'), file('/var/log/runit/x/current', 'modified'), file('/opt/puppetlabs/facter/cache/cached_facts/x'),
  // Not a toolchain: what any dotnet run writes in ~/.dotnet, opam's logs, a project's node_modules.
  file('/home/u/.dotnet/TelemetryStorageService/x'), file('/home/u/.dotnet/8.0.100.toolpath.sentinel'), file('/home/u/.opam/log/x-1.out'), file('/home/u/src/p/node_modules/x/index.js'),
  // Not a command-running config: mc's plain settings and user menu (run only when asked), byobu's state, nano's rc.
  file('/home/u/.config/mc/ini', 'modified'), file('/home/u/.config/mc/menu'), file('/home/u/.byobu/.welcome-displayed'), file('/home/u/.nanorc'),
  // Not a browser's extensions or prefs: its cache, history and a profile's bookmarks.
  file('/home/u/.config/google-chrome/Default/Cache/Cache_Data/x'), file('/home/u/.config/chromium/Default/History', 'modified'), file('/home/u/.config/google-chrome/Default/Bookmarks', 'modified'),
  // Not what PipeWire runs: its other shipped defaults (a filter chain, JACK's), rewritten at each upgrade.
  file('/usr/share/pipewire/filter-chain/sink-eq6.conf', 'modified'), file('/usr/share/pipewire/jack.conf', 'modified'),
  // Not a driver manifest: an explicit layer (loaded only when a program or VK_INSTANCE_LAYERS asks), Vulkan's shader cache.
  file('/usr/share/vulkan/explicit_layer.d/VkLayer_x.json'), file('/home/u/.cache/mesa_shader_cache/index', 'modified'),
  // Not a server's or agent's config: libvirt's VM logs, salt's minion id, a Jenkins job's log, Tor's state.
  file('/var/log/libvirt/qemu/x.log', 'modified'), file('/etc/salt/minion_id'), file('/var/lib/jenkins/jobs/x/builds/1/log'), file('/var/lib/tor/state', 'modified'),
  // Not Java's runtime config: its font and sound settings, JFR profiles, the dist copy beside jvm.cfg, one removed.
  file('/etc/java-17-openjdk/psfontj2d.properties', 'modified'), file('/etc/java-17-openjdk/sound.properties', 'modified'), file('/etc/java-17-openjdk/jfr/default.jfc', 'modified'),
  file('/usr/lib/jvm/java-17-openjdk-amd64/lib/jvm.cfg-default', 'modified'), { path: fromUser('/etc/java-17-openjdk/jvm-amd64.cfg'), change: 'deleted', type: 'file' },
  // Not a shared Python's venv config: a project's venv, a new venv in a system tree (nothing on the host starts its Python yet), one removed, a dir of that name.
  file('/home/u/proj/.venv/pyvenv.cfg', 'modified'), file('/opt/sbx-case-none/venv/pyvenv.cfg'), file('/srv/app/venv/pyvenv.cfg'), { path: fromUser('/usr/local/pyvenv.cfg'), change: 'deleted', type: 'file' },
  { path: fromUser('/usr/pyvenv.cfg'), change: 'added', type: 'dir' }, file('/usr/share/doc/x/pyvenv.cfg.example'),
  // Not an init script or unit: the dirs a package makes for them (runit's service dir, a drop-in dir), each file in them listed.
  { path: fromUser('/etc/sv/dnsmasq'), change: 'added', type: 'dir' }, { path: fromUser('/etc/runit/runsvdir'), change: 'added', type: 'dir' },
  { path: fromUser('/etc/systemd/system/x.service.d'), change: 'added', type: 'dir' },
  // Nor the other rules' dirs a package or tool makes for their files (each file in them is marked): sudo's, sshd's and a
  // home's ssh dir, PAM's, udev's, the loader's, logrotate's, a kernel hook dir, an autostart dir, apt's keyrings; the times of ~/.ssh.
  ...['/etc/sudoers.d', '/etc/ssh/sshd_config.d', '/etc/ssh', '/home/u/.ssh', '/root/.ssh', '/etc/pam.d', '/etc/security/limits.d', '/etc/udev/rules.d', '/etc/ld.so.conf.d',
    '/etc/logrotate.d/sub', '/etc/kernel/postinst.d', '/etc/modprobe.d', '/usr/lib/sysctl.d', '/usr/lib/tmpfiles.d', '/etc/binfmt.d', '/etc/polkit-1/rules.d', '/etc/update-motd.d',
    '/home/u/.config/autostart', '/etc/ca-certificates/update.d', '/etc/apt/keyrings', '/etc/pacman.d/hooks', '/etc/dpkg/dpkg.cfg.d', '/etc/bash_completion.d', '/home/u/.config/fish/conf.d']
    .map((p): C => ({ path: fromUser(p), change: 'added', type: 'dir', up: st('dir', 0o755) })),
  { path: '/home/u/.ssh', change: 'metadata', type: 'dir', up: st('dir', 0o700), details: ['mtime'] },
  { path: '/etc/ssh/ssh_host_rsa_key', change: 'metadata', type: 'file', up: st('file', 0o600), details: ['mtime'] },
  // Not a network hook: the hook dirs a package makes (their scripts are listed each), a hook's times.
  { path: fromUser('/etc/network/if-up.d'), change: 'added', type: 'dir' }, { path: fromUser('/usr/lib/networkd-dispatcher/off.d'), change: 'added', type: 'dir' },
  { path: fromUser('/etc/ppp/ip-down.d/postfix'), change: 'metadata', type: 'file', up: st('file', 0o755), details: ['mtime'] },
  // Not a login trust file: a user's .netrc (credentials it sends, no login it allows), one removed.
  file('/home/u/.netrc'), { path: '/home/u/.rhosts', change: 'deleted', type: 'file' },
  // Not a program a server runs, a mail command, an event hook or cloud-init's: CUPS's printer list, postfix's virtual map, smartmontools' README, cloud-init's templates and log, a dir.
  file('/etc/cups/printers.conf', 'modified'), file('/etc/postfix/virtual', 'modified'), file('/usr/share/doc/smartmontools/README'), file('/etc/cloud/templates/hosts.debian.tmpl', 'modified'),
  file('/var/log/cloud-init.log', 'modified'), { path: '/etc/zfs/zed.d', change: 'added', type: 'dir' }, { path: '/var/lib/cloud/instances/i-1/sem', change: 'metadata', type: 'dir', details: ['mtime'] },
  // A new store path and its files (the host lacks it), one garbage-collected whole, a store dir's time; a new profile and generation link.
  file('/nix/store/sbx-case-hello-2.12/bin/hello'), { path: '/nix/store/sbx-case-hello-2.12', change: 'added', type: 'dir' }, { path: '/nix/store/abc-old-1.0', change: 'deleted', type: 'dir' },
  { path: '/nix/store/abc-bash-5.2', change: 'metadata', type: 'dir', details: ['mtime'] }, { path: '/nix/var/nix/profiles/default-2-link', change: 'added', type: 'symlink', target: '/nix/store/x' },
  { path: '/home/u/.nix-profile', change: 'added', type: 'symlink', target: '/nix/var/nix/profiles/default' }, { path: '/etc/nix', change: 'added', type: 'dir' },
  // Not where logins are checked: OpenLDAP's client defaults (ldapsearch's), sssd's logs, a dir made, a config removed.
  file('/etc/ldap/ldap.conf', 'modified'), file('/var/log/sssd/sssd.log', 'modified'), { path: '/etc/sssd/conf.d', change: 'added', type: 'dir' }, { path: '/etc/krb5.conf', change: 'deleted', type: 'file' },
  file('/usr/share/xsessions/README'), file('/home/u/.local/share/xsessions/x.desktop'),
  file('/var/lib/dpkg/info/coreutils.md5sums'), { path: '/var/lib/dpkg/info/sl.postinst', change: 'deleted', type: 'file' }, file('/etc/apt/apt.conf.orig'),
  { path: '/usr/local/bin', change: 'metadata', type: 'dir', up: st('dir', 0o775), details: ['mode 755→775'] },
  // Sticky (/tmp's shape), group-writable, a symlink (always 777), a fifo (holds no code),
  // only the mtime of an already world-writable file, deleted.
  { path: '/srv/tmp', change: 'added', type: 'dir', up: st('dir', 0o1777) },
  // A host dir that already was /tmp's shape, given a change of owner mode bits only.
  { path: '/srv/tmp2', change: 'metadata', type: 'dir', up: st('dir', 0o1777), host: st('dir', 0o3777), details: ['mode 3777→1777'] }, { path: '/srv/g', change: 'added', type: 'file', up: st('file', 0o664) },
  { path: '/srv/l', change: 'added', type: 'symlink', up: st('symlink', 0o777), target: 'x' }, { path: '/srv/p', change: 'added', type: 'fifo', up: st('fifo', 0o666) },
  { path: '/srv/w', change: 'metadata', type: 'file', up: st('file', 0o666), details: ['mtime'] }, { path: '/srv/w2', change: 'deleted', type: 'file', up: st('file', 0o666) },
  { path: '/opt/x/tool', change: 'added', type: 'file', up: st('file', 0o755) },
  { path: '/usr/local/lib', change: 'added', type: 'dir', up: st('dir', 0o755) },
  // A PATH dir's symlink deleted, a symlink beside one, a symlink's metadata.
  { path: '/usr/local/bin', change: 'deleted', type: 'symlink' }, { path: '/usr/local/share', change: 'replaced', type: 'symlink', target: '/tmp/x' },
  { path: '/home/u/src/bin', change: 'added', type: 'symlink', target: '/tmp/x' }, { path: '/sbin', change: 'metadata', type: 'symlink', details: ['mtime'] },
  // Another user's, in that user's dir (classify.ts said it is not given away).
  { path: '/home/u/notes/x', change: 'added', type: 'file', up: { ...st('file', 0o664), uid: 1000, gid: 1000 } },
  // No source beside it (Python does not import it), a source gone, deleted bytecode, a sourceless .pyc's name.
  file(`${PYDIR}/__pycache__/other.cpython-311.pyc`), file(`${PYDIR}/sub/__pycache__/m.cpython-311.pyc`), { path: `${PYDIR}/__pycache__/m.cpython-311.pyc`, change: 'deleted', type: 'file' },
  file(`${PYDIR}/__pycache__/m.cpython-311.pyc.tmp`),
  // Package caches: what the manager checks again (npm's content by its hash), apt's
  // download dirs and locks, pip's self-check stamp, and deleting, touching or making dirs
  // in what a later install trusts.
  // A file made a symlink, a symlink retargeted, a new symlink: not a dir's writers redirected.
  { path: '/home/u/notes/a', change: 'replaced', type: 'symlink', target: '/etc/passwd', oldType: 'file' }, { path: '/srv/cur', change: 'modified', type: 'symlink', target: 'rel-2' },
  // cron's own placeholders and empty dirs (an install of cron writes one in each dir).
  file('/etc/cron.daily/.placeholder'), file('/etc/cron.d/.placeholder'), { path: '/etc/cron.hourly', change: 'added', type: 'dir' }, { path: '/etc/cron.d/sub', change: 'added', type: 'dir' },
  // A trust store's certificate deleted (it trusts less), or only rewritten (dpkg: its time), a dir made.
  { path: '/usr/share/ca-certificates/mozilla/Old.crt', change: 'deleted', type: 'file' }, { path: '/etc/ssl/certs', change: 'added', type: 'dir' },
  { path: '/usr/share/ca-certificates/mozilla/ACCVRAIZ1.crt', change: 'metadata', type: 'file', up: st('file', 0o644), details: ['mtime'] },
  file('/etc/ssl/private/ssl-cert-snakeoil.key'), file('/etc/ssl/openssl.cnf.dpkg-dist'),
  file('/var/cache/apt/archives/partial/sl_5.02-1+b1_amd64.deb'), file('/var/cache/apt/archives/lock', 'modified'), { path: '/var/cache/apt/archives/sl_5.02-1+b1_amd64.deb', change: 'deleted', type: 'file' },
  file('/var/cache/apt/pkgcache.bin', 'modified'), file('/var/lib/apt/lists/partial/x_InRelease'), file('/var/lib/apt/lists/lock', 'modified'),
  { path: '/var/lib/apt/lists/partial', change: 'added', type: 'dir' }, { path: '/var/lib/apt/lists/x_Packages', change: 'deleted', type: 'file' },
  { path: '/var/lib/apt/lists/x_InRelease', change: 'metadata', type: 'file', up: st('file', 0o644), details: ['mtime'] },
  file('/home/u/.npm/_cacache/content-v2/sha512/ab/cd/ef'), file('/home/u/.npm/_cacache/tmp/x'), file('/home/u/.npm/_logs/x-debug-0.log'), file('/home/u/.cache/pip/selfcheck/abc.json'),
  { path: '/home/u/.cache/pip/wheels/c5/dd', change: 'added', type: 'dir' }, { path: '/home/u/.cache/pip/wheels/c5/dd/x.whl', change: 'deleted', type: 'file' },
  { path: '/home/u/.npm/_cacache/index-v5/1f/2e/abcdef', change: 'deleted', type: 'file' }, { path: '/home/u/go/pkg/mod/x@v1/y.go', change: 'deleted', type: 'file' },
  file('/home/u/src/p/go/pkg/mod.go'),
  // Tool config: a project's own yarn and bundler config (`yarn set version`, `bundle config
  // set --local` write them), deleting or touching one, a dir, what the tools keep beside it.
  file('/home/u/src/p/.yarnrc.yml'), file('/home/u/src/p/.bundle/config'), file('/home/u/src/p/.gemrc'), file('/home/u/src/p/.curlrc'), file('/home/u/src/p/.condarc'), file('/home/u/src/p/.mavenrc'), file('/home/u/src/p/.pydistutils.cfg'), file('/home/u/src/p/.wgetrc'), file('/etc/xcondarc'), file('/home/u/src/go/pkg/mod/x.go'),
  { path: '/home/u/.cargo/config.toml', change: 'deleted', type: 'file' }, { path: '/home/u/.m2/settings.xml', change: 'metadata', type: 'file', up: st('file', 0o644), details: ['mtime'] },
  { path: '/home/u/.config/nvim/lua', change: 'added', type: 'dir' }, { path: '/home/u/.docker/cli-plugins', change: 'added', type: 'dir' },
  file('/home/u/.docker/buildx/instances/x'), file('/home/u/.gradle/caches/modules-2/x.bin'), file('/home/u/src/p/gradle.properties'), file('/home/u/.gnupg/random_seed'),
  file('/home/u/.local/share/applications/mimeinfo.cache'), file('/usr/share/applications/mimeinfo.cache'), file('/home/u/.vim/.netrwhist'), file('/home/u/.viminfo'),
  // A project's own uv.toml and Gradle dir, uv's interpreter facts and lock, Gradle's metadata; deleting cache entries.
  file('/home/u/src/p/uv.toml'), file('/home/u/src/p/.gradle/8.5/fileHashes/fileHashes.bin'), file('/home/u/src/p/.gradle/wrapper/dists/x'), file('/home/u/.cache/uv/interpreter-v4/ab/cd.msgpack'), file('/home/u/.cache/uv/.lock'), file('/home/u/src/p/.config/uv/uv.toml'), file('/home/u/src/p/.cache/uv/archive-v0/x/y.py'),
  { path: '/home/u/.gradle/wrapper/dists/gradle-8.5-bin/x/gradle-8.5/bin/gradle', change: 'deleted', type: 'file' }, { path: '/home/u/.cache/uv/archive-v0/Xy12ab', change: 'added', type: 'dir' },
  // Beside the new rules: a checkout of sbx's sources, another dir of its name, sudo's other
  // files, a project's own site-packages (a venv's, under .local in a tree), kernel and perl
  // files that run nothing, bash-completion's own helpers dir, an mtime only.
  file(`${PACKAGE_ROOT}/cli/main.ts`), file(`${PACKAGE_ROOT}/test/unit/x.ts`), file(`${PACKAGE_ROOT}-old/dist/bin/sbx.js`), file(`${PACKAGE_ROOT}/distx`),
  { path: `${PACKAGE_ROOT}/policies/fold.json`, change: 'metadata', type: 'file', up: st('file', 0o644), details: ['mtime'] },
  file('/etc/sudo_logsrvd.conf'), file('/etc/sudo.conf.bak'), file('/home/u/src/p/.local/lib/python3.11/site-packages/x.py'), file('/home/u/venv/lib/python3.11/site-packages/x.py'),
  { path: '/home/u/.local/lib/python3.11/site-packages/x', change: 'added', type: 'dir' }, { path: '/home/u/.local/lib/python3.11/site-packages/y.py', change: 'deleted', type: 'file' },
  file('/etc/kernel/install.conf'), file('/etc/initramfs-tools/modules'), file('/etc/perl/CPAN/Config.txt'), file('/usr/share/bash-completion/helpers/x'),
  file('/home/u/src/tmux.conf'), file('/home/u/.config/gdb/notes'), file('/home/u/.ipython/profile_default/history.sqlite'), file('/etc/X11/rgb.txt'), file('/etc/tmpfiles.conf'),
  // Beside the library trees: a venv's or a project's own (not /usr), another dir of the name,
  // a dir made, a deletion, a time; a home's project node_modules, .gem or perl5 outside a home.
  file('/opt/venv/lib/python3.11/site-packages/x.py'), file('/usr/share/python3/debian_defaults'), file('/usr/lib/pythonx/x.py'), file('/usr/share/perl-openssl-defaults/x'), file('/usr/share/doc/ruby/x'),
  file('/usr/libx/node_modules/x.js'), file('/usr/lib/aptx/methods/x'), file('/usr/share/apt/x'),
  { path: '/usr/lib/python3/dist-packages/newpkg', change: 'added', type: 'dir' }, { path: '/usr/share/perl5/Old.pm', change: 'deleted', type: 'file' },
  { path: '/usr/lib/python3/dist-packages/apt/__init__.py', change: 'metadata', type: 'file', up: st('file', 0o644), details: ['mtime'] },
  file('/home/u/src/p/node_modules/x/index.js'), file('/home/u/src/p/.gem/x.rb'), file('/home/u/perl5/bin/x'), file('/srv/h/.node_modules/x.js'), { path: '/home/u/.node_modules/x.js', change: 'deleted', type: 'file' },
  file('/home/u/.cargo/.package-cache'), file('/home/u/.cargo/.crates.toml'), file('/home/u/.config/pip/pip.conf.bak'), file('/etc/maven/logging/simplelogger.properties'),
];
