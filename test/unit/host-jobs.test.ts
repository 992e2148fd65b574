// The programs the host runs on its own (sandbox-core/changes/host-jobs.ts): what cron's tables
// and systemd's units name, read from a tree this test makes standing for the host's `/` (as an
// image's lower tree does), and the review's mark on a change to one.
// sbx-test: host-free
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { acpiPrograms, anacronPrograms, commandPrograms, cronPrograms, hostJobPrograms, interfacesPrograms, logrotatePrograms, pamExecPrograms, sshdPrograms, sudoersPrograms, udevPrograms, unitPrograms } from '../../sandbox-core/changes/host-jobs.js';
import { setHostRoot } from '../../sandbox-core/changes/fsat.js';
import { sensitiveContext, sensitiveRule } from '../../sandbox-core/changes/sensitive.js';
import { file } from './sensitive-cases.js';

test('a command line: each simple command, a shell\'s or interpreter\'s script, a -c string, assignments skipped', () => {
  assert.equal(commandPrograms('/srv/a.sh --x /etc/conf'), ['/srv/a.sh']);
  assert.equal(commandPrograms('test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )'), []);
  assert.equal(commandPrograms('[ -x /opt/b ] && /opt/b; /opt/c | logger'), ['/opt/b', '/opt/c']);
  assert.equal(commandPrograms('LANG=C /usr/bin/python3 -u /srv/job.py'), ['/usr/bin/python3', '/srv/job.py']);
  assert.equal(commandPrograms("/bin/sh -c 'cd /srv && /srv/run.sh >> /var/log/x.log 2>&1'"), ['/bin/sh', '/srv/run.sh']);
  assert.equal(commandPrograms('nice -n 10 timeout 1h /home/deploy/bin/rotate'), ['/home/deploy/bin/rotate']);
  assert.equal(commandPrograms('perl "/opt/my tools/x.pl"'), ['/opt/my tools/x.pl']);
});

test('crontabs: system tables name a user, a user\'s does not; @ names; comments and variables name none', () => {
  const sys = 'SHELL=/bin/sh\nPATH=/usr/bin\n# m h dom mon dow user command\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n*/5 * * * *\troot\t/srv/app/backup.sh --full\n@reboot deploy /home/deploy/start.sh\n0 1 * * * root /opt/x/job % input\n';
  assert.equal(cronPrograms(sys, true), ['/srv/app/backup.sh', '/home/deploy/start.sh', '/opt/x/job']);
  assert.equal(cronPrograms('MAILTO=x\n0 3 * * 1 /root/bin/weekly\n@daily python3 /root/daily.py\n', false), ['/root/bin/weekly', '/root/daily.py']);
  assert.equal(anacronPrograms('SHELL=/bin/sh\n1\t5\tcron.daily\trun-parts --report /etc/cron.daily\n7 10 backup /srv/backup.sh\n'), ['/srv/backup.sh']);
});

test("systemd units: every Exec line's program, its prefixes off, specifiers left out", () => {
  const unit = '[Service]\nExecStartPre=-/opt/agent/bin/check\nExecStart=@/opt/agent/bin/agent agent --conf /etc/agent.conf\nExecStop=+/bin/kill $MAINPID\nExecStartPost=/usr/lib/x/%i-post\n  ExecReload = /bin/sh -c "/opt/agent/reload.sh"\n# ExecStart=/nope\n';
  assert.equal(unitPrograms(unit), ['/opt/agent/bin/check', '/opt/agent/bin/agent', '/bin/kill', '/bin/sh', '/opt/agent/reload.sh']);
});

test('sudoers: the command lists of user specifications and Cmnd_Alias, nothing else', () => {
  const text = ['# comment /nope', 'Defaults secure_path="/usr/sbin:/usr/bin"', '@includedir /etc/sudoers.d', 'User_Alias OPS = a, b',
    'Cmnd_Alias DEPLOY = /srv/deploy.sh, /usr/bin/systemctl restart app', 'deploy ALL=(root) NOPASSWD: /srv/rotate.sh --all, \\', '  SETENV:/opt/x/run', '%sudo ALL=(ALL:ALL) ALL', ''].join('\n');
  assert.equal(sudoersPrograms(text), ['/srv/deploy.sh', '/usr/bin/systemctl', '/srv/rotate.sh', '/opt/x/run']);
});

test("udev's RUN programs, logrotate's scripts, ifupdown's interface commands", () => {
  assert.equal(udevPrograms('ACTION=="add", SUBSYSTEM=="usb", RUN+="/opt/x/hook %k"\nKERNEL=="sd*", RUN{program}+="/srv/y $env{DEVNAME}"\nRUN{builtin}+="kmod load"\nIMPORT{program}="/opt/no"\n'), ['/opt/x/hook', '/srv/y']);
  assert.equal(logrotatePrograms('/var/log/app/*.log {\n  daily\n  postrotate\n    /srv/app/reload.sh > /dev/null\n    [ -x /opt/z ] && /opt/z\n  endscript\n  olddir /var/log/old\n}\n'), ['/srv/app/reload.sh', '/opt/z']);
  assert.equal(interfacesPrograms('auto eth0\niface eth0 inet dhcp\n  post-up /opt/net/up.sh eth0\n  address 10.0.0.1\n  pre-down /bin/sh /srv/down.sh\n'), ['/opt/net/up.sh', '/bin/sh', '/srv/down.sh']);
});

test("PAM's pam_exec, sshd's commands and acpid's actions", () => {
  assert.equal(pamExecPrograms('auth\toptional\tpam_exec.so quiet expose_authtok log=/var/log/x /opt/pam/hook arg\n# session optional pam_exec.so /nope\nsession required /lib/security/pam_exec.so /srv/login.sh\nauth required pam_unix.so /not-exec\n'),
    ['/opt/pam/hook', '/srv/login.sh']);
  assert.equal(sshdPrograms('Match User git\n  ForceCommand /srv/git-shell-wrap\nAuthorizedKeysCommand /opt/keys/lookup %u\nauthorizedprincipalscommand /bin/sh /opt/keys/principals\n'),
    ['/srv/git-shell-wrap', '/opt/keys/lookup', '/bin/sh', '/opt/keys/principals']);
  assert.equal(acpiPrograms('event=button/power\naction=/opt/power/off.sh "%e"\n'), ['/opt/power/off.sh']);
});

test("the host's tables and units, through the host's symlinks, and the review's mark on a change to one", () => {
  const root = mkdtempSync(join(tmpdir(), 'sbx-jobs-case-'));
  const put = (p: string, text: string): void => { mkdirSync(dirname(join(root, p)), { recursive: true }); writeFileSync(join(root, p), text); };
  put('etc/crontab', '0 * * * * root /srv/app/backup.sh\n');
  put('etc/cron.d/report', '0 2 * * * root /bin/report\n');
  put('var/spool/cron/crontabs/deploy', '@hourly /home/deploy/jobs/sync\n');
  put('etc/systemd/system/agent.service', '[Service]\nExecStart=/opt/agent/bin/agent\n');
  put('etc/systemd/system/getty@.service.d/override.conf', '[Service]\nExecStart=\nExecStart=-/opt/login/autologin %I\n');
  put('etc/systemd/system/notes.target', '[Unit]\nExecStart=/opt/not-a-service\n');
  put('home/u/.config/systemd/user/sync.service', '[Service]\nExecStart=/home/u/bin/sync\n');
  put('etc/sudoers.d/deploy', 'deploy ALL=(root) NOPASSWD: /srv/deploy.sh\n');
  put('etc/udev/rules.d/99-usb.rules', 'ACTION=="add", RUN+="/opt/usb/hook"\n');
  put('etc/logrotate.d/app', '/var/log/app.log {\n postrotate\n  /srv/app/reload.sh\n endscript\n}\n');
  put('etc/network/interfaces', 'iface eth0 inet dhcp\n post-up /opt/net/up.sh\n');
  put('etc/pam.d/sshd', 'session optional pam_exec.so /opt/pam/hook\n');
  put('etc/ssh/sshd_config.d/keys.conf', 'AuthorizedKeysCommand /opt/keys/lookup %u\n');
  put('etc/acpi/events/power', 'event=button/power\naction=/opt/power/off.sh\n');
  // A dir on the way that cannot be looked up (for an ordinary user, root's home: EACCES; here a
  // name too long, ENAMETOOLONG): the path is kept as written.
  const long = `/opt/${'x'.repeat(300)}/job`;
  put('etc/cron.d/long', `0 0 * * * root ${long}\n`);
  // The programs themselves (a job's path is resolved through the dirs the host has).
  for (const p of ['srv/app/backup.sh', 'usr/bin/report', 'home/deploy/jobs/sync', 'opt/agent/bin/agent', 'opt/login/autologin', 'home/u/bin/sync', 'opt/not-a-service', 'srv/deploy.sh', 'opt/usb/hook', 'srv/app/reload.sh', 'opt/net/up.sh', 'opt/pam/hook', 'opt/keys/lookup', 'opt/power/off.sh']) put(p, '#!/bin/sh\n');
  symlinkSync('usr/bin', join(root, 'bin'));
  setHostRoot(root);
  try {
    assert.equal([...hostJobPrograms('/home/u')].sort(), ['/home/deploy/jobs/sync', '/home/u/bin/sync', '/opt/agent/bin/agent', '/opt/keys/lookup', '/opt/login/autologin', '/opt/net/up.sh', '/opt/pam/hook', '/opt/power/off.sh', '/opt/usb/hook', '/srv/app/backup.sh', '/srv/app/reload.sh', '/srv/deploy.sh', '/usr/bin/report', long].sort());
    const ctx = sensitiveContext({ PATH: '/usr/bin', HOME: '/home/u' });
    const id = (c: ReturnType<typeof file>) => sensitiveRule(c, ctx)?.id;
    for (const p of ['/srv/app/backup.sh', '/opt/agent/bin/agent', '/home/deploy/jobs/sync', '/srv/deploy.sh']) assert.is(id(file(p, 'modified')), 'host-job', p);
    assert.is(id({ path: '/srv/app/backup.sh', change: 'replaced', type: 'symlink', target: '/tmp/x', oldType: 'file' }), 'host-job');
    // Not one: a new file (the host's job named something else), a deletion, a time, a path no job names.
    assert.is(id(file('/srv/app/backup.sh.new')), undefined);
    assert.is(id({ path: '/srv/app/backup.sh', change: 'deleted', type: 'file' }), undefined);
    assert.is(id({ path: '/srv/app/backup.sh', change: 'metadata', type: 'file', details: ['mtime'] }), undefined);
    assert.is(id(file('/opt/not-a-service', 'modified')), undefined);
  } finally {
    setHostRoot(null);
    rmSync(root, { recursive: true, force: true });
  }
});

test("an image's tree standing for the host is read only so far: 4,096 entries in all", () => {
  const root = mkdtempSync(join(tmpdir(), 'sbx-jobs-many-'));
  mkdirSync(join(root, 'etc/cron.d'), { recursive: true });
  mkdirSync(join(root, 'opt'));
  for (let i = 0; i < 5000; i++) writeFileSync(join(root, `etc/cron.d/j${i}`), `0 0 * * * root /opt/j${i}\n`);
  setHostRoot(root);
  try {
    const n = hostJobPrograms('/nowhere').size;
    assert.ok(n > 0 && n <= 4096, `${n} programs`);
  } finally {
    setHostRoot(null);
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
