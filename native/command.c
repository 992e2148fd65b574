/* The command process, forked by the command's init: a new session (with a pty: a process
 * group in init's session, the pty's foreground), a clean fd table,
 * rlimits, no_new_privs, the seccomp filter last, exec. A failure before exec is reported to
 * init as (step, errno) through a close-on-exec pipe, which exec closes on success. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <grp.h>
#include "sandbox.h"

enum cmd_step {
  STEP_CWD = 1, STEP_RLIMIT, STEP_TTY, STEP_NO_NEW_PRIVS, STEP_SECCOMP, STEP_EXEC, STEP_SIGNALS, STEP_FDS,
  STEP_CAP_BOUNDING, STEP_CAPSET, STEP_CAP_AMBIENT, STEP_USER, STEP_COUNT
};
static const char *const step_names[STEP_COUNT] = {
  [STEP_CWD] = "cwd", [STEP_RLIMIT] = "rlimit", [STEP_TTY] = "controlling-tty", [STEP_NO_NEW_PRIVS] = "no-new-privs",
  [STEP_SECCOMP] = "seccomp", [STEP_EXEC] = "exec", [STEP_SIGNALS] = "signal-mask", [STEP_FDS] = "close-fds",
  [STEP_CAP_BOUNDING] = "cap-bounding", [STEP_CAPSET] = "capset", [STEP_CAP_AMBIENT] = "cap-ambient",
  [STEP_USER] = "user",
};

const char *command_step_name(int step) {
  return step > 0 && step < STEP_COUNT ? step_names[step] : "command-setup";
}
int command_step_is_exec(int step) { return step == STEP_EXEC; }
int command_step_is_cwd(int step) { return step == STEP_CWD; }

static void __attribute__((noreturn)) send_report(int pipefd, const struct command_report *r) {
  if (write(pipefd, r, sizeof *r) < 0) { /* nothing left to tell anyone */ }
  _exit(r->step == STEP_EXEC && (r->err == ENOENT || r->fact == EXEC_FACT_MISSING) ? 127 : r->step == STEP_EXEC ? 126 : SBX_EXIT_FAILED);
}

static void __attribute__((noreturn)) report_and_exit(int pipefd, enum cmd_step step, int err) {
  struct command_report r = { (int)step, err, EXEC_FACT_NONE, "" };
  send_report(pipefd, &r);
}

const char *exec_fact_name(int fact) {
  static const char *const names[] = { "-", "missing", "dir", "not-exec", "interp" };
  return fact >= 0 && fact <= EXEC_FACT_INTERP ? names[fact] : "-";
}

/* After execvp failed: what its name led to, as a shell would have found it, so that sbx can
 * say what a shell says (is a directory, not executable, a missing #! interpreter, not found)
 * rather than the errno alone. execvp's EACCES also stands for a PATH directory this user
 * cannot search, where a shell goes on and says not found: that case finds no file here. */
static void exec_facts(const char *file, struct command_report *r) {
  static char buf[PATH_MAX], first[PATH_MAX];
  const char *found = NULL;
  struct stat st;
  if (!*file) { r->fact = EXEC_FACT_MISSING; return; }
  if (strchr(file, '/')) {
    found = file;
  } else {
    /* The first executable file by that name, else the first file (bash's order). */
    const char *path = getenv("PATH");
    if (!path) path = "/bin:/usr/bin";
    first[0] = 0;
    for (const char *p = path;;) {
      const char *end = strchrnul(p, ':');
      int n = end > p ? snprintf(buf, sizeof buf, "%.*s/%s", (int)(end - p), p, file) : snprintf(buf, sizeof buf, "%s", file);
      if (n > 0 && (size_t)n < sizeof buf && stat(buf, &st) == 0 && !S_ISDIR(st.st_mode)) {
        if (access(buf, X_OK) == 0) { found = buf; break; }
        if (!first[0]) memcpy(first, buf, (size_t)n + 1);
      }
      if (!*end) break;
      p = end + 1;
    }
    if (!found && first[0]) found = first;
  }
  if (!found) { r->fact = EXEC_FACT_MISSING; return; }
  if (stat(found, &st) < 0) {
    if (errno == ENOENT || errno == ENOTDIR) r->fact = EXEC_FACT_MISSING;
    return;
  }
  if (S_ISDIR(st.st_mode)) { r->fact = EXEC_FACT_DIR; return; }
  if (access(found, X_OK) < 0) { r->fact = EXEC_FACT_NOT_EXEC; return; }
  if (r->err != ENOENT) return;
  /* The file is there and executable: what is missing is its #! interpreter. */
  int fd = open(found, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char head[sizeof r->interp + 2];
  ssize_t n = read(fd, head, sizeof head - 1);
  close(fd);
  if (n < 3 || head[0] != '#' || head[1] != '!') return;
  head[n] = 0;
  char *s = head + 2;
  while (*s == ' ' || *s == '\t') s++;
  size_t len = strcspn(s, " \t\n");
  if (!len || len >= sizeof r->interp) return;
  memcpy(r->interp, s, len);
  r->interp[len] = 0;
  r->fact = EXEC_FACT_INTERP;
}

int command_setup_failed(int errpipe, struct command_report *r) {
  ssize_t n;
  do n = read(errpipe, r, sizeof *r); while (n < 0 && errno == EINTR);
  if (n != (ssize_t)sizeof *r) return 0;
  r->interp[sizeof r->interp - 1] = 0;
  return 1;
}

void exec_command(int errpipe, int slave) {
  times_mark("command: forked");
  if (slave >= 0) {
    /* A process group of its own in init's session, the pty's foreground (init.c: then it is
     * not orphaned, and Ctrl-Z stops it). Taking the terminal from the background: SIGTTOU
     * ignored until the reset below. */
    signal(SIGTTOU, SIG_IGN);
    if (setpgid(0, 0) < 0 || tcsetpgrp(slave, getpid()) < 0) report_and_exit(errpipe, STEP_TTY, errno);
    for (int fd = 0; fd < 3; fd++) if ((cfg.pty_fds & (1 << fd)) && dup2(slave, fd) < 0) report_and_exit(errpipe, STEP_TTY, errno);
  } else if (setsid() < 0) {
    /* A new session: without a controlling terminal shared with the host, TIOCSTI cannot reach it. */
    report_and_exit(errpipe, STEP_TTY, errno);
  }
  sigset_t none;
  sigemptyset(&none);
  for (size_t i = 0; i < n_forwarded_signals; i++) signal(forwarded_signals[i], SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGTTOU, SIG_DFL);
  if (sigprocmask(SIG_SETMASK, &none, NULL) < 0) report_and_exit(errpipe, STEP_SIGNALS, errno);
  if (relay_child() < 0) report_and_exit(errpipe, STEP_FDS, errno);
  if (chdir(cfg.cwd) < 0) report_and_exit(errpipe, STEP_CWD, errno);
  umask(cfg.umask);
  for (size_t i = 0; i < cfg.n_rlimits; i++) {
    struct rlimit rl = { cfg.rlimits[i].soft, cfg.rlimits[i].hard };
    if (setrlimit(cfg.rlimits[i].resource, &rl) < 0) report_and_exit(errpipe, STEP_RLIMIT, errno);
  }
  /* Only 0, 1, 2 and the exec-error pipe (closed by exec) survive; with --allow-net's direct
   * path also, as 4 until the filter is installed, the socket its listener goes to. */
  int direct = net_direct.cmd_end;
  if (direct >= 0 && (direct = fcntl(direct, F_DUPFD_CLOEXEC, 5)) < 0) report_and_exit(errpipe, STEP_FDS, errno);
  if (dup2(errpipe, 3) < 0) report_and_exit(errpipe, STEP_FDS, errno);
  errpipe = 3;
  if (fcntl(errpipe, F_SETFD, FD_CLOEXEC) < 0) report_and_exit(errpipe, STEP_FDS, errno);
  if (direct >= 0 && (direct = dup3(direct, 4, O_CLOEXEC)) < 0) report_and_exit(errpipe, STEP_FDS, errno);
  if (close_range(direct >= 0 ? 5 : 4, ~0U, 0) < 0) report_and_exit(errpipe, STEP_FDS, errno);
  if (cfg.have_caps) {
    const char *step = "";
    if (caps_apply(&cfg.caps, &step) < 0)
      report_and_exit(errpipe, !strcmp(step, "cap-bounding") ? STEP_CAP_BOUNDING : !strcmp(step, "capset") ? STEP_CAPSET : STEP_CAP_AMBIENT, errno);
  }
  /* An image's User: after the capability sets (the kernel clears a non-root uid's), before
   * no_new_privs. setgroups is refused where the user namespace denies it: nothing to drop. */
  if (cfg.cmd_user) {
    if (setgroups(0, NULL) < 0 && errno != EPERM) report_and_exit(errpipe, STEP_USER, errno);
    if (setresgid(cfg.cmd_gid, cfg.cmd_gid, cfg.cmd_gid) < 0) report_and_exit(errpipe, STEP_USER, errno);
    if (setresuid(cfg.cmd_uid, cfg.cmd_uid, cfg.cmd_uid) < 0) report_and_exit(errpipe, STEP_USER, errno);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) report_and_exit(errpipe, STEP_NO_NEW_PRIVS, errno);
  extern char **environ;
  environ = cfg.envp;
  if (cfg.seccomp) {
    struct sock_fprog prog = { (unsigned short)(cfg.seccomp_len / sizeof(struct sock_filter)), (struct sock_filter *)cfg.seccomp };
    if (direct < 0) {
      if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) report_and_exit(errpipe, STEP_SECCOMP, errno);
    } else {
      /* The filter's connect(2) notifications go to the supervisor (netdirect.c), which is not under it. */
      int listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
      if (listener < 0 || net_direct_send_listener(direct, listener) < 0) report_and_exit(errpipe, STEP_SECCOMP, errno);
      close(listener);
      close(direct);
    }
  }
  execvp(cfg.argv[0], cfg.argv);
  struct command_report r = { STEP_EXEC, errno, EXEC_FACT_NONE, "" };
  exec_facts(cfg.argv[0], &r);
  send_report(errpipe, &r);
}
