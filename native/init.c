/* The sandbox's two inits.
 *   init_main: pid 1 of the sandbox. Takes its ids, builds the root, keeps the sandbox's
 *     daemons (fuse-overlayfs) as its children, and runs the command's init in a nested pid
 *     namespace, so nothing the command runs can see, signal or ptrace those daemons (whose
 *     fds reach the host).
 *   command_init: pid 1 of the command's pid namespace. Mounts /proc for it, gives it a pty
 *     if asked, runs it, reaps zombies, forwards signals, and reports how it ended. With a
 *     pty it also reports the command stopping (Ctrl-Z) and resumes it when sbx asks.
 * With nothing to hide from the command (no daemons, relay or supervisor, no --disk copy
 * left for pid 1), pid 1 is the command's init itself (alone_init).
 * When pid 1 exits, the kernel kills everything left in the pid namespace and the mount
 * namespace (with every overlay) goes away. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include "sandbox.h"

/* sbx's request to SIGKILL the command (--timeout): sent to the helper instead of SIGKILLing
 * it, so the sandbox's pid 1 survives to copy --disk layers back. The last real-time signal,
 * 64 on every architecture sbx supports; sandbox-core/launch.ts uses the same number. */
#define SIG_KILL_COMMAND __SIGRTMAX
/* sbx's requests to continue a command that stopped (launch.ts, same numbers): with the
 * terminal (sbx is in the foreground: raw mode, stdin relayed again) or without it (`bg`). */
#define SIG_RESUME_FG (__SIGRTMAX - 1)
#define SIG_RESUME_BG (__SIGRTMAX - 2)

/* Signals forwarded from the outside to the command. */
const int forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM, SIG_KILL_COMMAND, SIG_RESUME_FG, SIG_RESUME_BG };
const size_t n_forwarded_signals = sizeof forwarded_signals / sizeof forwarded_signals[0];

static void noop_handler(int sig) { (void)sig; }

/* Whether a signal sbx passes on goes to the command's process group (command.c: it leads one),
 * as a terminal's Ctrl-C, a hangup a shell passes on to its jobs, `kill %1`, `timeout` and
 * systemd reach every process of a job outside. Sent to the first process alone, a shell
 * waiting for its child (dash and bash put off a SIGINT, and a trap, until it ends) left
 * `sleep 30` to run its 30 s. SIGUSR1, SIGUSR2 and SIGALRM are messages to one process (dd's
 * progress, a server's "reopen logs"), kill by default and come from no terminal or shell:
 * its children get only what it passes on. */
static int to_group(int sig) {
  return sig == SIGINT || sig == SIGQUIT || sig == SIGHUP || sig == SIGTERM || sig == SIGCONT || sig == SIGWINCH;
}

/* The group the command was started as, never the one it is in now: in pty mode it may have
 * joined init's, and a signal sent there would come back here. A command that left its group
 * (a pty's command may: setpgid, setsid) still gets the signal itself. */
static void forward(pid_t cmd, int sig) {
  if (!to_group(sig)) { kill(cmd, sig); return; }
  kill(-cmd, sig);
  if (getpgid(cmd) != cmd) kill(cmd, sig);
}

int make_signalfd(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGCHLD);
  for (size_t i = 0; i < n_forwarded_signals; i++) sigaddset(set, forwarded_signals[i]);
  /* pid 1 only receives signals it has a handler for, even from the parent namespace. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = noop_handler;
  for (int s = 1; s < NSIG; s++) if (sigismember(set, s) && sigaction(s, &sa, NULL) < 0) return -1;
  if (sigprocmask(SIG_BLOCK, set, NULL) < 0) return -1;
  return signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void bring_loopback_up(void) {
  autoclose int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) die_step("loopback", "lo", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die_step("loopback", "lo", errno);
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die_step("loopback", "lo", errno);
}

static void copy_winsize(int from, int to) {
  struct winsize ws;
  if (ioctl(from, TIOCGWINSZ, &ws) == 0) ioctl(to, TIOCSWINSZ, &ws);
}

static void user_tty_raw(const struct termios *user) {
  struct termios t = *user;
  cfmakeraw(&t);
  tcsetattr(0, TCSANOW, &t);
}

static int relay(int from, int to, int output) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0) return (n < 0 && (errno == EAGAIN || errno == EINTR)) ? 0 : -1;
  if (output) errlines_feed(0, buf, (size_t)n); /* the pty's output: the command's stdout and stderr */
  static char filtered[sizeof buf + 40];
  const char *from_buf = buf;
  if (output && (cfg.n_osc_drop || cfg.n_dcs_drop)) { n = (ssize_t)termfilter(buf, (size_t)n, filtered); from_buf = filtered; }
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, from_buf + off, (size_t)(n - off));
    if (w < 0) { if (errno == EINTR || errno == EAGAIN) continue; return -1; }
    off += w;
  }
  return 1;
}

/* Whether the sandbox's pid 1 can be the command's init: the nested pid namespace keeps the
 * daemons (fuse-overlayfs), the --allow-net relay and supervisor out of the command's sight,
 * and pid 1 outlives the command's init to copy --disk layers back when it built the view.
 * Without any of them the nesting, a second mount namespace and a process buy nothing (a
 * fork, a copy of every mount, an exit): the command sees the same pid namespace, /proc and
 * mounts. Derived from the spec, as make_daemons_namespace is. */
static int alone_init(void) {
  if (cfg.net_relay_dir || cfg.net_direct_name || (cfg.disk_mount && !cfg.build_outside)) return 0;
  for (size_t i = 0; i < cfg.n_fs_ops; i++) if (cfg.fs_ops[i]->type == OP_FUSE_OVERLAY || cfg.fs_ops[i]->type == OP_FUSE_SHARED) return 0;
  return 1;
}

/* Facts for sbx's line about background processes (sandbox-core/sandbox.ts words it): how many
 * processes besides this init are still alive in the command's pid namespace once the command
 * ended, and the first few names (comm), lowest pid first. Every one of them is the command's:
 * the daemons, the relay and the supervisor live outside this namespace, and nothing else of
 * sbx's is forked here. They die with our exit (the kernel SIGKILLs the namespace), and the
 * outer process reaps the sandbox's pid 1 only after they did, so none writes into the layers
 * once the review scans. `proc` is this namespace's procfs, opened before the command ran: a
 * command that mounts over /proc (--cap-add SYS_ADMIN) cannot feed us other files. */
static void report_background(int proc) {
  if (proc < 0) return;
  DIR *d = fdopendir(proc);
  if (!d) { close(proc); return; }
  int count = 0;
  char names[3][64];
  struct dirent *e;
  while ((e = readdir(d))) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end || pid <= 0 || pid == (long)getpid()) continue;
    char path[64], buf[512];
    snprintf(path, sizeof path, "%ld/stat", pid);
    int fd = openat(dirfd(d), path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue; /* it ended meanwhile */
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = 0;
    /* "pid (comm) S ...": the comm may hold ')' itself, the last one ends it. */
    char *open_p = strchr(buf, '('), *close_p = strrchr(buf, ')');
    if (!open_p || !close_p || close_p < open_p || close_p[1] != ' ') continue;
    char state = close_p[2];
    if (state == 'Z' || state == 'X') continue; /* ended, not yet reaped */
    if (count < 3) {
      size_t len = (size_t)(close_p - open_p - 1);
      if (len >= sizeof names[0]) len = sizeof names[0] - 1;
      memcpy(names[count], open_p + 1, len);
      names[count][len] = 0;
    }
    count++;
  }
  closedir(d);
  if (!count) return;
  status_send("background", "%d", count);
  for (int i = 0; i < count && i < 3; i++) status_send("background-name", "%s", names[i]);
}

static void __attribute__((noreturn)) command_init(int alone) {
  /* A mount namespace of its own: the /proc below is this pid namespace's, while the daemons
   * keep theirs (fuse-overlayfs reopens files through /proc/self/fd). Alone, pid 1's is. */
  if (!alone && unshare(CLONE_NEWNS) < 0) die_step("mount-namespace", NULL, errno);
  int proc = -1; /* for report_background */
  for (size_t i = 0; i < cfg.n_fs_ops; i++) {
    const struct spec_op *op = cfg.fs_ops[i];
    if (op->type == OP_PROC) {
      replace_proc(op->args[0]);
      if (proc >= 0) close(proc);
      proc = open(op->args[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    }
    else if (is_proc_op(op)) apply_fs_op(op);
  }
  times_mark("command init: mount namespace, proc");
  int master = -1, slave = -1;
  struct termios user_tty;
  int have_user_tty = 0;
  /* Each host terminal among fds 0-2 is the pty's (cfg.pty_fds), never handed in as itself:
   * its ioctls (a line discipline, TIOCEXCL) would outlast the run, and a command could read
   * the keys typed there. The keys come from fd 0 when it is one; what the pty prints goes
   * to stdout's terminal, else stderr's, else back to stdin's (its echo). */
  int tty_in = cfg.pty && (cfg.pty_fds & 1);
  int tty_out = (cfg.pty_fds & 2) ? 1 : (cfg.pty_fds & 4) ? 2 : 0;
  int tty_any = (cfg.pty_fds & 1) ? 0 : tty_out;
  if (cfg.pty) {
    /* A session of ours, the pty its terminal, the command a process group in it (command.c):
     * a group with a parent in another group of its session is not orphaned, so the pty's
     * SIGTSTP (Ctrl-Z) stops it as it would outside, where the kernel drops it for a session
     * leader. Root inside cannot reach the host's terminal through it: fd 0 is ours alone. */
    if (setsid() < 0) die_step("setsid", NULL, errno);
    master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) die_step("pty", "/dev/pts/ptmx", errno);
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0) die_step("pty-unlock", NULL, errno);
    slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) die_step("pty-peer", NULL, errno);
    if (ioctl(slave, TIOCSCTTY, 0) < 0) die_step("controlling-tty", NULL, errno);
    if (tcgetattr(tty_any, &user_tty) == 0) {
      /* The command starts with the user's settings. The user's terminal is made raw only where
       * keys are read (the pty's line discipline edits them then); kept as it is, it does the
       * output processing itself (NL to CR NL), and the pty must not do it twice. */
      struct termios t = user_tty;
      if (!tty_in) t.c_oflag &= ~(tcflag_t)OPOST;
      tcsetattr(slave, TCSANOW, &t);
      if (tty_in) { have_user_tty = 1; user_tty_raw(&user_tty); }
    }
    copy_winsize(tty_any, master);
  }
  sigset_t set;
  int sfd = make_signalfd(&set);
  if (sfd < 0) die_step("signalfd", NULL, errno);
  /* Made here, by root of the sandbox: the command can reopen them as /dev/stdin etc. */
  if (relay_prepare(cfg.relay_fds, cfg.n_relay, cfg.relay_outputs_shared) < 0) die_step("stdio-relay", NULL, errno);
  int ep[2];
  if (pipe2(ep, O_CLOEXEC) < 0) die_step("pipe", NULL, errno);
  times_mark("command init: stdio relay");
  pid_t cmd = fork();
  if (cmd < 0) die_step("fork", NULL, errno);
  if (cmd == 0) {
    close(ep[0]);
    close(sfd);
    if (proc >= 0) close(proc);
    if (master >= 0) close(master);
    exec_command(ep[1], slave);
  }
  close(ep[1]);
  if (slave >= 0) close(slave);
  if (net_direct.cmd_end >= 0) close(net_direct.cmd_end); /* the command's to send its listener over */
  relay_parent();
  /* A reader of the real stdout that went away is the relay's business, not a reason to die. */
  signal(SIGPIPE, SIG_IGN);
  struct command_report rep;
  int failed = command_setup_failed(ep[0], &rep);
  close(ep[0]);
  if (failed) {
    int st, step = rep.step, err = rep.err;
    waitpid(cmd, &st, 0);
    if (command_step_is_exec(step)) {
      status_send("exec-error", "%d %s %s", err, exec_fact_name(rep.fact), rep.interp[0] ? rep.interp : "-");
      _exit(err == ENOENT || rep.fact == EXEC_FACT_MISSING ? 127 : 126);
    }
    status_send("error", "%s %d %s", command_step_name(step), err, command_step_is_cwd(step) ? cfg.cwd : "-");
    _exit(SBX_EXIT_FAILED);
  }
  status_send("started", "%d", (int)cmd);

  int cmd_status = -1, in_open = tty_in, out_open = master >= 0;
  /* Cleared while the command is stopped or sbx is in the background: the user's keys are the
   * shell's then. */
  int reading = 1;
  if (master >= 0 && fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK) < 0) die_step("pty", NULL, errno);
  while (cmd_status < 0) {
    struct pollfd p[9] = { { sfd, POLLIN, 0 }, { in_open && reading ? 0 : -1, POLLIN, 0 }, { out_open ? master : -1, POLLIN, 0 } };
    int timeout = -1;
    size_t np = 3 + relay_pollfds(p + 3, &timeout);
    if (poll(p, np, timeout) < 0 && errno != EINTR) die_step("poll", NULL, errno);
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) { if (relay(0, master, 0) < 0) in_open = 0; }
    if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) { if (relay(master, tty_out, 1) < 0) out_open = 0; }
    relay_events(p + 3);
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
      if (si.ssi_signo == SIGCHLD) continue;
      int sig = (int)si.ssi_signo;
      if (sig == SIGWINCH && master >= 0) copy_winsize(tty_any, master);
      else if (sig == SIG_RESUME_FG || sig == SIG_RESUME_BG) {
        if (master < 0) continue;
        if (sig == SIG_RESUME_FG) {
          if (have_user_tty) user_tty_raw(&user_tty);
          copy_winsize(tty_any, master); /* it may have been resized meanwhile */
          reading = 1;
        }
        kill(-cmd, SIGCONT);
      }
      /* With a pty, a SIGCONT here is the shell continuing sbx's process group (fg, bg): sbx
       * decides what it means and asks with SIG_RESUME_*. */
      else if (sig == SIGCONT && master >= 0) continue;
      /* As pid 1 does for a nested init (below): our exit SIGKILLs the pid namespace. */
      else if (sig == SIG_KILL_COMMAND && alone) {
        status_send("signal", "%d", SIGKILL);
        _exit(128 + SIGKILL);
      }
      else forward(cmd, sig);
    }
    int st;
    pid_t w;
    while ((w = waitpid(-1, &st, WNOHANG | (master >= 0 ? WUNTRACED : 0))) > 0) {
      if (w != cmd) continue;
      if (!WIFSTOPPED(st)) { cmd_status = st; continue; }
      /* What it wrote before it stopped (a full-screen program leaving the alternate screen)
       * goes out before the shell's prompt; then the user's terminal as it was, and sbx is
       * told (it stops itself, so the shell sees the job stop). */
      while (out_open && relay(master, tty_out, 1) > 0) {}
      if (have_user_tty) tcsetattr(0, TCSADRAIN, &user_tty);
      reading = 0;
      char line[32];
      int n = snprintf(line, sizeof line, "stopped %d\n", WSTOPSIG(st));
      (void)write_all(cfg.jobctl_fd, line, (size_t)n);
    }
  }
  times_mark("command init: command ended");
  /* What the command left running stops here, before the output is drained: a background
   * writer (`yes &`) cannot keep the drain below going, nor fork while they are counted. Our
   * exit SIGKILLs them. (kill -1 from a pid namespace's init reaches every process of it but
   * this one.) */
  kill(-1, SIGSTOP);
  /* Drain what the command wrote before it exited. */
  while (out_open && relay(master, tty_out, 1) > 0) {}
  relay_finish();
  errlines_report();
  report_background(proc);
  if (WIFSIGNALED(cmd_status)) {
    status_send("signal", "%d", WTERMSIG(cmd_status));
    _exit(128 + WTERMSIG(cmd_status));
  }
  status_send("exit", "%d", WEXITSTATUS(cmd_status));
  _exit(WEXITSTATUS(cmd_status));
}

void init_main(int sync_fd, const struct self_move *self, size_t n_self) {
  char c;
  ssize_t n;
  do n = read(sync_fd, &c, 1); while (n < 0 && errno == EINTR);
  if (n != 1) _exit(SBX_EXIT_FAILED); /* the outer process failed and already reported why */
  /* Before anything else: the limits hold from pid 1's first own act (native/outer.c). */
  for (size_t i = 0; i < n_self; i++) {
    if (write(self[i].fd, "0", 1) != 1) die_step("cgroup", cfg.cgroup_procs[self[i].idx], errno);
    close(self[i].fd);
  }
  times_mark("pid 1: released, in its cgroups");
  if (cfg.setid) {
    /* A process keeps the host ids it was cloned with until it takes the mapped ones. */
    if (setgroups(0, NULL) < 0 && errno != EPERM) die_step("setgroups", NULL, errno);
    if (setresgid(cfg.inside_gid, cfg.inside_gid, cfg.inside_gid) < 0) die_step("setresgid", NULL, errno);
    if (setresuid(cfg.inside_uid, cfg.inside_uid, cfg.inside_uid) < 0) die_step("setresuid", NULL, errno);
    /* Changing ids clears the parent-death signal: without it a SIGKILLed sbx would leave the
     * whole sandbox running. Re-arm it, then make sure the outer did not die in between (it
     * holds the sync pipe's write end for as long as it lives). */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die_step("parent-death-signal", NULL, errno);
    struct pollfd alive = { sync_fd, POLLIN, 0 };
    if (poll(&alive, 1, 0) != 0) _exit(SBX_EXIT_FAILED);
  }
  close(sync_fd);
  /* Non-dumpable: root inside cannot ptrace pid 1 (its mm belongs to the host user namespace). */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) die_step("non-dumpable", NULL, errno);
  umask(0);
  if (cfg.new_cgroupns && unshare(CLONE_NEWCGROUP) < 0) die_step("cgroup-namespace", NULL, errno);
  if (cfg.hostname && sethostname(cfg.hostname, strlen(cfg.hostname)) < 0) die_step("hostname", cfg.hostname, errno);
  if (cfg.loopback_up) bring_loopback_up();
  if (cfg.net_relay_dir) net_relay_listen(&net_relay, cfg.net_relay_port);
  times_mark("pid 1: ids, hostname, loopback");
  if (cfg.stage && !cfg.build_outside) build_root();
  umask(022);
  /* Before the command's pid namespace exists: the supervisor and the relay stay out of the
   * command's sight. */
  if (cfg.net_direct_name) net_direct_start(&net_relay, cfg.net_direct_name);
  if (net_relay.fd4 >= 0) net_relay_start(&net_relay, net_direct.cmd_end);
  if (alone_init()) {
    /* With a pty command_init makes the session itself, and a second setsid would fail. */
    if (!cfg.pty && setsid() < 0) die_step("setsid", NULL, errno);
    times_mark("pid 1: setsid, the command's init");
    command_init(1);
  }
  if (setsid() < 0) die_step("setsid", NULL, errno);
  sigset_t set;
  int sfd = make_signalfd(&set);
  if (sfd < 0) die_step("signalfd", NULL, errno);
  if (unshare(CLONE_NEWPID) < 0) die_step("pid-namespace", NULL, errno);
  times_mark("pid 1: setsid, pid namespace");
  pid_t inner = fork();
  if (inner < 0) die_step("fork", NULL, errno);
  if (inner == 0) {
    close(sfd);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die_step("parent-death-signal", NULL, errno);
    command_init(0);
  }
  if (net_direct.cmd_end >= 0) close(net_direct.cmd_end);
  int killed = 0;
  for (;;) {
    struct pollfd p = { sfd, POLLIN, 0 };
    if (poll(&p, 1, -1) < 0 && errno != EINTR) die_step("poll", NULL, errno);
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
      if (si.ssi_signo == SIGCHLD) continue;
      /* The command's init dies, and with it everything in the command's pid namespace; this
       * process lives on to copy the layers back. */
      if ((int)si.ssi_signo == SIG_KILL_COMMAND) { killed = 1; kill(inner, SIGKILL); }
      else kill(inner, (int)si.ssi_signo);
    }
    int st;
    pid_t w;
    while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
      if (w != inner) continue;
      times_mark("pid 1: command init ended");
      /* Killed on sbx's request: that is the command's end, not a broken sandbox. */
      int requested = killed && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
      if (requested) status_send("signal", "%d", SIGKILL);
      if (cfg.disk_mount && !cfg.build_outside) disk_copy_out();
      if (requested) _exit(128 + SIGKILL);
      /* Our exit takes the daemons (and any stray process) with it. */
      if (WIFSIGNALED(st)) {
        status_send("init-killed", "%d", WTERMSIG(st));
        _exit(128 + WTERMSIG(st));
      }
      _exit(WEXITSTATUS(st));
    }
  }
}
