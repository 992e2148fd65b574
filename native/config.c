/* Turns the parsed spec into the one config the run applies. Per-op checks happened in
 * spec.c; here are the checks that need the whole spec. */
#include <errno.h>
#include <stdlib.h>
#include <linux/filter.h>
#include "sandbox.h"

struct config cfg;

#define ADD(list, n, max, v, what) do { if ((n) >= (max)) die_msg("spec", "too many " what); (list)[(n)++] = (v); } while (0)

void load_config(const struct spec *s) {
  size_t nargs = 0, nenv = 0;
  for (size_t i = 1; i < s->nops; i++) {
    if (s->ops[i].type == OP_ARG) nargs++;
    else if (s->ops[i].type == OP_ENV) nenv++;
  }
  cfg.argv = calloc(nargs + 1, sizeof *cfg.argv);
  cfg.envp = calloc(nenv + 1, sizeof *cfg.envp);
  if (!cfg.argv || !cfg.envp) die_step("spec", NULL, ENOMEM);
  for (size_t i = 1; i < s->nops; i++) {
    const struct spec_op *op = &s->ops[i];
    char *const *a = op->args;
    switch (op->type) {
    case OP_SHARE_NET: cfg.share_net = 1; break;
    case OP_UID_MAP: cfg.uid_map = a[0]; break;
    case OP_GID_MAP: cfg.gid_map = a[0]; break;
    case OP_SETGROUPS: cfg.setgroups = a[0]; break;
    case OP_NEWUIDMAP: cfg.newuidmap[0] = a[0]; cfg.newuidmap[1] = a[1]; break;
    case OP_NEWGIDMAP: cfg.newgidmap[0] = a[0]; cfg.newgidmap[1] = a[1]; break;
    case OP_CGROUP_PROCS: ADD(cfg.cgroup_procs, cfg.n_cgroup_procs, MAX_LIST, a[0], "cgroups"); break;
    case OP_CGROUP_WRITE: ADD(cfg.cgroup_writes, cfg.n_cgroup_writes, MAX_LIST, op, "cgroup writes"); break;
    case OP_DEVBPF: ADD(cfg.devbpf, cfg.n_devbpf, 8, op, "device programs"); break;
    case OP_LAYERS_DIR: cfg.layers_dir = a[0]; break;
    case OP_ENTRY: ADD(cfg.entries, cfg.n_entries, 65536, op, "entries"); break;
    case OP_HOSTNAME: cfg.hostname = a[0]; break;
    case OP_LOOPBACK_UP: cfg.loopback_up = 1; break;
    case OP_NEW_CGROUPNS: cfg.new_cgroupns = 1; break;
    case OP_STAGE: cfg.stage = a[0]; break;
    case OP_BUILD_OUTSIDE: cfg.build_outside = 1; break;
    case OP_LAYERS_TMPFS: cfg.layers_tmpfs = a[0]; break;
    case OP_DISK_TMPFS: cfg.disk_mount = a[0]; cfg.disk_size = op->num[0]; break;
    case OP_DISK_LAYER: ADD(cfg.disk_layers, cfg.n_disk_layers, MAX_LIST, a[0], "disk layers"); break;
    case OP_SCRAP_AFTER: ADD(cfg.scrap, cfg.n_scrap, MAX_SCRAP, op, "scrap_after dirs"); break;
    case OP_REVIEW_SCAN: cfg.review_scan = op; break;
    case OP_SYNCFS_AFTER: cfg.syncfs_dir = a[0]; break;
    case OP_SETID: cfg.setid = 1; cfg.inside_uid = (uid_t)op->num[0]; cfg.inside_gid = (gid_t)op->num[1]; break;
    case OP_CWD: cfg.cwd = a[0]; break;
    case OP_CMD_USER: cfg.cmd_user = 1; cfg.cmd_uid = (uid_t)op->num[0]; cfg.cmd_gid = (gid_t)op->num[1]; break;
    case OP_ARG: cfg.argv[cfg.argc++] = a[0]; break;
    case OP_ENV: cfg.envp[cfg.envc++] = a[0]; break;
    case OP_PTY: cfg.pty = 1; cfg.jobctl_fd = (int)op->num[0]; cfg.pty_fds = (int)op->num[1]; break;
    case OP_OSC_DROP: ADD(cfg.osc_drop, cfg.n_osc_drop, 8, op->num[0], "osc_drop numbers"); break;
    case OP_DCS_DROP: ADD(cfg.dcs_drop, cfg.n_dcs_drop, 8, a[0], "dcs_drop texts"); break;
    case OP_NET_RELAY: cfg.net_relay_dir = a[0]; cfg.net_relay_name = a[1]; cfg.net_relay_port = (int)op->num[0]; cfg.net_relay_buffer = (size_t)op->num[1]; break;
    case OP_NET_DIRECT: cfg.net_direct_name = a[0]; break;
    case OP_SCAN_OUTPUT: ADD(cfg.scan, cfg.n_scan, 16, a[0], "scan_output texts"); break;
    case OP_RELAY_STDIO:
      for (int fd = 0; fd < 3; fd++) if (op->num[0] & (1u << fd)) cfg.relay_fds[cfg.n_relay++] = fd;
      cfg.relay_outputs_shared = (int)op->num[1];
      break;
    case OP_CAPS:
      cfg.caps = (struct cap_sets){ op->num[0], op->num[1], op->num[2], op->num[3] };
      cfg.have_caps = 1;
      break;
    case OP_RLIMIT: {
      struct rlimit_op r = { (int)op->num[0], (rlim_t)op->num[1], (rlim_t)op->num[2] };
      ADD(cfg.rlimits, cfg.n_rlimits, 32, r, "rlimits");
      break;
    }
    case OP_SECCOMP:
      /* The kernel takes at most BPF_MAXINSNS instructions of 8 bytes each. */
      if (op->lens[0] == 0 || op->lens[0] % sizeof(struct sock_filter) || op->lens[0] / sizeof(struct sock_filter) > BPF_MAXINSNS)
        die_msg("spec", "seccomp program length is not a multiple of 8 or exceeds 4096 instructions");
      cfg.seccomp = (const unsigned char *)a[0];
      cfg.seccomp_len = op->lens[0];
      break;
    case OP_WHITEOUT: case OP_MKDIR: case OP_SYMLINK: case OP_LOWER: case OP_OVERLAY: case OP_FUSE_OVERLAY: case OP_FUSE_SHARED: case OP_FUSE_TREE: case OP_FUSE_LOWER:
    case OP_BIND: case OP_TMPFS: case OP_PROC: case OP_DEVPTS: case OP_REMOUNT_RO:
    case OP_RO_RECURSIVE: case OP_CHMOD: case OP_CHOWN:
      ADD(cfg.fs_ops, cfg.n_fs_ops, 65536, op, "filesystem ops");
      break;
    case OP_VERSION:
    case OP_COUNT:
      die_msg("spec", "version may only come first");
    }
  }
  /* Without a stage the command keeps the host's view (used to remove files owned by mapped ids). */
  if (!cfg.stage && cfg.n_fs_ops) die_msg("spec", "filesystem ops need a stage directory");
  if (cfg.n_entries && !cfg.layers_dir) die_msg("spec", "entries need a layers_dir");
  if (cfg.argc == 0) die_msg("spec", "no command");
  if (!cfg.cwd) die_msg("spec", "no cwd");
  /* The supervisor answers the filter's notifications and reaches the proxy through net_relay's directory. */
  if (cfg.net_direct_name && (!cfg.seccomp || !cfg.net_relay_dir)) die_msg("spec", "net_direct needs net_relay and seccomp");
  cfg.argv[cfg.argc] = NULL;
  cfg.envp[cfg.envc] = NULL;
}
