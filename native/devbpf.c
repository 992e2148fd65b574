/* Device cgroup v2: loads a BPF_PROG_TYPE_CGROUP_DEVICE program (compiled by
 * policies/devices from the allowlist; this file knows nothing of the policy) and attaches it
 * to a cgroup directory. The program stays attached after our fds close, for as long as the
 * cgroup exists, and applies to every process later moved into it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include "helper.h"

static long sys_bpf(int cmd, union bpf_attr *attr) {
  return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

/* The verifier's log costs it the formatting of every state it visits: for the default
 * program 2.0 ms a load with the log against 0.55 ms without (10 loads each, 6.18, load ~3).
 * So the program is loaded without one, and only a refused program is loaded again with the
 * log, to say why. */
static int load(const unsigned char *insns, size_t len, char *log, size_t log_size) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = (uint32_t)(len / sizeof(struct bpf_insn));
  /* The program calls no helpers, so no GPL-only symbol is involved. */
  attr.license = (uint64_t)(uintptr_t)"MIT";
  if (log) {
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = (uint32_t)log_size;
    attr.log_level = 1;
    log[0] = 0;
  }
  return (int)sys_bpf(BPF_PROG_LOAD, &attr);
}

/* Loads the program (a refusal's reason sent as a "verifier" status line) and attaches it. */
int devbpf_attach(const char *cgroup_dir, const unsigned char *insns, size_t len, const char **step) {
  static char log[65536];
  if (len == 0 || len % sizeof(struct bpf_insn) || len / sizeof(struct bpf_insn) > 4096) {
    *step = "devbpf-program";
    errno = EINVAL;
    return -1;
  }
  autoclose int prog = load(insns, len, NULL, 0);
  if (prog < 0) {
    int err = errno;
    prog = load(insns, len, log, sizeof log);
    if (prog < 0) {
      /* The verifier's last line says why it refused: worth one status line. */
      size_t n = strlen(log);
      while (n > 0 && log[n - 1] == '\n') log[--n] = 0;
      const char *last = strrchr(log, '\n');
      if (n) status_send("verifier", "%s", last ? last + 1 : log);
      *step = "devbpf-load";
      errno = err;
      return -1;
    }
    /* Refused once, accepted now: nothing to say. */
  }
  autoclose int cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) { *step = "devbpf-cgroup"; return -1; }
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)cg;
  attr.attach_bpf_fd = (uint32_t)prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  /* MULTI: ancestors' device programs (systemd's, a container runtime's) still run too, and
   * access needs every one of them to allow it. */
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0) { *step = "devbpf-attach"; return -1; }
  return 0;
}
