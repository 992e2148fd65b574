/* The status channel: one line per message, so the launcher can tell a setup failure from the
 * command's own exit. Paths are escaped so a hostile name cannot forge a message. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "helper.h"

static int status_fd = -1;

void status_init(int fd) { status_fd = fd; }

/* Escape everything outside printable ASCII (and backslash) as \xHH. */
static void escape(const char *in, char *out, size_t outlen) {
  size_t o = 0;
  for (; *in && o + 5 < outlen; in++) {
    unsigned char c = (unsigned char)*in;
    if (c < 0x20 || c >= 0x7f || c == '\\') o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
    else out[o++] = (char)c;
  }
  out[o] = 0;
}

void status_send(const char *kind, const char *fmt, ...) {
  char raw[4096], esc[4096 * 4 + 8], line[4096 * 4 + 64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(raw, sizeof raw, fmt, ap);
  va_end(ap);
  escape(raw, esc, sizeof esc);
  int n = snprintf(line, sizeof line, "%s %s\n", kind, esc);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) n = sizeof line - 1;
  /* Nobody is left to tell if this fails. */
  if (status_fd >= 0) (void)write_all(status_fd, line, (size_t)n);
  else (void)write_all(2, line, (size_t)n);
}

/* Set while work started in the background may be what made a step fail (mounts.c: the
 * fuse-overlayfs daemons starting side by side, a mount below one whose daemon died failing
 * with ENOTCONN): run first, once, by the process that set it, it reports that instead. */
static void (*before_die)(void);
static pid_t before_die_pid;

void set_before_die(void (*fn)(void)) {
  before_die = fn;
  before_die_pid = fn ? getpid() : 0;
}

static void run_before_die(void) {
  void (*fn)(void) = before_die;
  before_die = NULL;
  if (fn && getpid() == before_die_pid) fn();
}

void die_step(const char *step, const char *path, int err) {
  run_before_die();
  /* Format: error STEP ERRNO-NAME-OR-NUMBER PATH: the launcher maps it to one user-facing line. */
  status_send("error", "%s %d %s", step, err, path ? path : "-");
  _exit(SBX_EXIT_FAILED);
}

void die_msg(const char *step, const char *msg) {
  run_before_die();
  status_send("error", "%s 0 - %s", step, msg);
  _exit(SBX_EXIT_FAILED);
}

void exit_with_parent(pid_t parent, int status) {
  /* Armed first, then the parent checked: one that died before prctl never sends the signal. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent) _exit(status);
}
