/* sbx-helper run: builds the sandbox described by the spec and runs the command in it.
 *
 * Three processes, in this order:
 *   outer (this process, in the host namespaces): reads the spec, clones the child into new
 *     namespaces, writes its uid/gid maps and cgroup membership, releases it, forwards signals,
 *     restores the terminal, and exits with the child's status.
 *   init (pid 1 in the new pid namespace): builds the root from the mount ops, pivots into it,
 *     forks the command, relays the terminal when a pty was asked for, reaps zombies, forwards
 *     signals, and reports the command's exit. When it exits, the kernel kills everything left
 *     in the pid namespace and the mount namespace (with every overlay) goes away.
 *   command: new session, clean fd table, rlimits, no_new_privs, seccomp last, exec.
 *
 * Every decision (what to mount where, which ids to map, which filter) was made by the
 * TypeScript side; this file only applies it and reports the failing step, path and errno.
 */
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
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include "helper.h"

#define MAX_LIST 256

struct rlimit_op { int resource; rlim_t soft, hard; };

struct config {
  int share_net, loopback_up, new_cgroupns, pty;
  const char *uid_map, *gid_map, *setgroups;
  const char *newuidmap[2], *newgidmap[2]; /* path, "inside outside count ..." */
  const char *cgroup_procs[MAX_LIST]; size_t n_cgroup_procs;
  struct spec_op *cgroup_writes[MAX_LIST]; size_t n_cgroup_writes;
  struct spec_op *devbpf[8]; size_t n_devbpf;
  const char *hostname, *stage, *cwd;
  int build_outside;            /* root: build the view before entering the user namespace */
  const char *disk_mount, *disk_size; /* --disk: layers live on a tmpfs of this size meanwhile */
  const char *disk_layers[MAX_LIST]; size_t n_disk_layers;
  int setid; uid_t inside_uid; gid_t inside_gid;
  char **argv; size_t argc;   /* as many as the spec has: execve's own limit is the only one */
  char **envp; size_t envc;
  struct rlimit_op rlimits[32]; size_t n_rlimits;
  int have_caps; struct cap_sets caps;
  int relay_fds[3]; size_t n_relay;
  const unsigned char *seccomp; size_t seccomp_len;
  struct spec_op *fs_ops[65536]; size_t n_fs_ops;
};

static struct config cfg;

/* sbx's request to SIGKILL the command (--timeout): sent to the helper instead of SIGKILLing
 * it, so the sandbox's pid 1 survives to copy --disk layers back. The last real-time signal,
 * 64 on every architecture sbx supports; sandbox-core/launch.ts uses the same number. */
#define SIG_KILL_COMMAND __SIGRTMAX

/* Signals forwarded from the outside to the command. */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM, SIG_KILL_COMMAND };

/* Steps of the command process, reported through the exec-error pipe. */
enum cmd_step { STEP_CWD = 1, STEP_RLIMIT, STEP_TTY, STEP_NO_NEW_PRIVS, STEP_SECCOMP, STEP_EXEC, STEP_CAP_BOUNDING, STEP_CAPSET, STEP_CAP_AMBIENT };
static const char *cmd_step_name[] = { "", "cwd", "rlimit", "controlling-tty", "no-new-privs", "seccomp", "exec", "cap-bounding", "capset", "cap-ambient" };

static int parse_rlimit_name(const char *s) {
  static const struct { const char *n; int r; } t[] = {
    {"as", RLIMIT_AS}, {"core", RLIMIT_CORE}, {"cpu", RLIMIT_CPU}, {"data", RLIMIT_DATA},
    {"fsize", RLIMIT_FSIZE}, {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC},
    {"stack", RLIMIT_STACK}, {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) if (strcmp(t[i].n, s) == 0) return t[i].r;
  return -1;
}

static int parse_rlim(const char *s, rlim_t *out) {
  if (strcmp(s, "inf") == 0) { *out = RLIM_INFINITY; return 0; }
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || !*s || *end) return -1;
  *out = (rlim_t)v;
  return 0;
}

#define ADD(list, n, max, v, what) do { if ((n) >= (max)) die_msg("spec", "too many " what); (list)[(n)++] = (v); } while (0)

static void load_config(struct spec *s) {
  size_t nargs = 0, nenv = 0;
  for (size_t i = 1; i < s->nops; i++) {
    if (!strcmp(s->ops[i].name, "arg")) nargs++;
    else if (!strcmp(s->ops[i].name, "env")) nenv++;
  }
  cfg.argv = calloc(nargs + 1, sizeof *cfg.argv);
  cfg.envp = calloc(nenv + 1, sizeof *cfg.envp);
  if (!cfg.argv || !cfg.envp) die_step("spec", NULL, ENOMEM);
  for (size_t i = 1; i < s->nops; i++) {
    struct spec_op *op = &s->ops[i];
    const char *n = op->name;
    char **a = op->args;
    if (!strcmp(n, "share_net")) cfg.share_net = 1;
    else if (!strcmp(n, "uid_map")) cfg.uid_map = a[0];
    else if (!strcmp(n, "gid_map")) cfg.gid_map = a[0];
    else if (!strcmp(n, "setgroups")) {
      if (strcmp(a[0], "deny") && strcmp(a[0], "allow")) die_msg("spec", "setgroups must be deny or allow");
      cfg.setgroups = a[0];
    }
    else if (!strcmp(n, "newuidmap")) { cfg.newuidmap[0] = a[0]; cfg.newuidmap[1] = a[1]; }
    else if (!strcmp(n, "newgidmap")) { cfg.newgidmap[0] = a[0]; cfg.newgidmap[1] = a[1]; }
    else if (!strcmp(n, "cgroup_procs")) ADD(cfg.cgroup_procs, cfg.n_cgroup_procs, MAX_LIST, a[0], "cgroups");
    else if (!strcmp(n, "cgroup_write")) ADD(cfg.cgroup_writes, cfg.n_cgroup_writes, MAX_LIST, op, "cgroup writes");
    else if (!strcmp(n, "devbpf")) ADD(cfg.devbpf, cfg.n_devbpf, 8, op, "device programs");
    else if (!strcmp(n, "hostname")) cfg.hostname = a[0];
    else if (!strcmp(n, "loopback_up")) cfg.loopback_up = 1;
    else if (!strcmp(n, "new_cgroupns")) cfg.new_cgroupns = 1;
    else if (!strcmp(n, "stage")) cfg.stage = a[0];
    else if (!strcmp(n, "build_outside")) cfg.build_outside = 1;
    else if (!strcmp(n, "disk_tmpfs")) { cfg.disk_mount = a[0]; cfg.disk_size = a[1]; }
    else if (!strcmp(n, "disk_layer")) ADD(cfg.disk_layers, cfg.n_disk_layers, MAX_LIST, a[0], "disk layers");
    else if (!strcmp(n, "setid")) {
      char *e1 = NULL, *e2 = NULL;
      unsigned long u = strtoul(a[0], &e1, 10), g = strtoul(a[1], &e2, 10);
      if (!*a[0] || *e1 || !*a[1] || *e2) die_msg("spec", "bad setid");
      cfg.setid = 1; cfg.inside_uid = (uid_t)u; cfg.inside_gid = (gid_t)g;
    }
    else if (!strcmp(n, "cwd")) cfg.cwd = a[0];
    else if (!strcmp(n, "arg")) cfg.argv[cfg.argc++] = a[0];
    else if (!strcmp(n, "env")) cfg.envp[cfg.envc++] = a[0];
    else if (!strcmp(n, "pty")) cfg.pty = 1;
    else if (!strcmp(n, "relay_stdio")) {
      for (const char *p = a[0]; *p; p++) {
        if (*p == ',') continue;
        if (*p < '0' || *p > '2' || cfg.n_relay >= 3) die_msg("spec", "relay_stdio takes fds 0, 1, 2");
        cfg.relay_fds[cfg.n_relay++] = *p - '0';
      }
    }
    else if (!strcmp(n, "caps")) {
      if (caps_parse_mask(a[0], &cfg.caps.bounding) || caps_parse_mask(a[1], &cfg.caps.permitted) ||
          caps_parse_mask(a[2], &cfg.caps.inheritable) || caps_parse_mask(a[3], &cfg.caps.ambient))
        die_msg("spec", "bad capability mask");
      cfg.have_caps = 1;
    }
    else if (!strcmp(n, "rlimit")) {
      struct rlimit_op r;
      r.resource = parse_rlimit_name(a[0]);
      if (r.resource < 0 || parse_rlim(a[1], &r.soft) || parse_rlim(a[2], &r.hard))
        die_msg("spec", "bad rlimit");
      ADD(cfg.rlimits, cfg.n_rlimits, 32, r, "rlimits");
    }
    else if (!strcmp(n, "seccomp")) {
      /* The kernel takes at most BPF_MAXINSNS instructions of 8 bytes each. */
      if (op->lens[0] == 0 || op->lens[0] % sizeof(struct sock_filter) || op->lens[0] / sizeof(struct sock_filter) > BPF_MAXINSNS)
        die_msg("spec", "seccomp program length is not a multiple of 8 or exceeds 4096 instructions");
      cfg.seccomp = (const unsigned char *)a[0];
      cfg.seccomp_len = op->lens[0];
    }
    else ADD(cfg.fs_ops, cfg.n_fs_ops, 65536, op, "filesystem ops");
  }
  /* Without a stage the command keeps the host's view (used to remove files owned by mapped ids). */
  if (!cfg.stage && cfg.n_fs_ops) die_msg("spec", "filesystem ops need a stage directory");
  if (cfg.argc == 0) die_msg("spec", "no command");
  if (!cfg.cwd) die_msg("spec", "no cwd");
  cfg.argv[cfg.argc] = NULL;
  cfg.envp[cfg.envc] = NULL;
}

/* ------------------------------------------------------------------ utilities */

/* A user namespace carrying the sandbox's mapping, for idmapped mounts (root only). */
static int idmap_userns_fd = -1;

/* Where the new root is while it is being built: the stage before pivot_root, "" after. */
static const char *root_prefix = "";

/* Joins the new root and an absolute in-sandbox path. */
static char *staged(const char *dest) {
  static char buf[2][8192];
  static int which;
  char *b = buf[which ^= 1];
  if (dest[0] != '/') die_msg("spec", "destination is not absolute");
  if ((size_t)snprintf(b, sizeof buf[0], "%s%s", root_prefix, strcmp(dest, "/") || !*root_prefix ? dest : "") >= sizeof buf[0])
    die_msg("spec", "path too long");
  return b;
}

static int has_token(const char *list, const char *tok) {
  size_t tl = strlen(tok);
  for (const char *p = list; *p;) {
    const char *e = strchr(p, ',');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l == tl && strncmp(p, tok, tl) == 0) return 1;
    if (!e) break;
    p = e + 1;
  }
  return 0;
}

static int set_readonly(const char *path, int recursive) {
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
  return mount_setattr(AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr, sizeof attr);
}

/* ------------------------------------------------------------------ filesystem ops */

static int mount_overlay(const char *dest, const char *lower, const char *upper, const char *work, const char *opts, int idmap) {
  autoclose int tree = -1;
  char treepath[64];
  if (idmap) {
    /* Through an idmapped mount the host's files keep their owners as seen from inside, while
     * what the sandbox creates belongs to the unprivileged range on the host. */
    tree = open_tree(AT_FDCWD, lower, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0) die_step("idmap-lower", lower, errno);
    struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)idmap_userns_fd };
    if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) die_step("idmap-lower", lower, errno);
    snprintf(treepath, sizeof treepath, "/proc/self/fd/%d", tree);
    lower = treepath;
  }
  autoclose int fs = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0) return -1;
  /* "lowerdir+" (6.7+) takes one path verbatim; older kernels need the ':'-separated form. */
  if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", lower, 0) < 0) {
    if (strpbrk(lower, ":\\,")) { errno = EINVAL; return -1; }
    if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0) return -1;
  }
  if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0) return -1;
  if (fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0) return -1;
  char optbuf[1024];
  if (strlen(opts) >= sizeof optbuf) { errno = E2BIG; return -1; }
  strcpy(optbuf, opts);
  for (char *save = NULL, *tok = strtok_r(optbuf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '=');
    int r;
    if (eq) { *eq = 0; r = fsconfig(fs, FSCONFIG_SET_STRING, tok, eq + 1, 0); }
    else r = fsconfig(fs, FSCONFIG_SET_FLAG, tok, NULL, 0);
    if (r < 0) return -1;
  }
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) return -1;
  autoclose int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  if (mnt < 0) return -1;
  return move_mount(mnt, "", AT_FDCWD, dest, MOVE_MOUNT_F_EMPTY_PATH);
}

/* fuse-overlayfs runs as a daemon of this mount namespace; it returns once the mount is up. */
static void mount_fuse_overlay(char **a) {
  /* fuse_overlay BINARY DEST LOWER UPPER WORK OPTIONS */
  char opts[16384];
  for (int i = 2; i <= 4; i++)
    if (strpbrk(a[i], ",:\\")) die_step("fuse-overlayfs", a[i], EINVAL); /* its -o syntax cannot quote these */
  if ((size_t)snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s%s%s", a[2], a[3], a[4], *a[5] ? "," : "", a[5]) >= sizeof opts)
    die_step("fuse-overlayfs", a[1], E2BIG);
  const char *dest = staged(a[1]);
  /* Its chatter ("unknown argument ignored") is noise on success; on failure it says why. */
  int errp[2];
  if (pipe2(errp, O_CLOEXEC) < 0) die_step("fuse-overlayfs", a[1], errno);
  pid_t pid = fork();
  if (pid < 0) die_step("fuse-overlayfs", a[1], errno);
  if (pid == 0) {
    if (dup2(errp[1], 2) < 0) _exit(127);
    close_range(3, ~0U, 0);
    execl(a[0], "fuse-overlayfs", "-o", opts, dest, (char *)NULL);
    _exit(127);
  }
  close(errp[1]);
  char msg[4096];
  size_t len = 0;
  ssize_t r;
  /* The daemon keeps stderr open after the mount: stop reading once the launcher exits. */
  int st;
  while (waitpid(pid, &st, 0) < 0) if (errno != EINTR) die_step("fuse-overlayfs", a[1], errno);
  fcntl(errp[0], F_SETFL, O_NONBLOCK);
  while (len < sizeof msg - 1 && (r = read(errp[0], msg + len, sizeof msg - 1 - len)) > 0) len += (size_t)r;
  close(errp[0]);
  msg[len] = 0;
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127) die_step("fuse-overlayfs", a[0], ENOENT);
    /* Keep the last line that says something other than the option chatter. */
    char *last = NULL;
    for (char *save = NULL, *line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
      if (!strstr(line, "unknown argument ignored")) last = line;
    char text[4200];
    snprintf(text, sizeof text, "%s: %s", a[1], last ? last : "failed");
    die_msg("fuse-overlayfs", text);
  }
}

/* Swaps the procfs at `dest` for one of the calling process's pid namespace. The new one is
 * created while the old is still visible (the kernel requires that in a user namespace), and
 * the old is detached rather than covered, so nothing can uncover it. */
static void replace_proc(const char *dest) {
  autoclose int fs = fsopen("proc", FSOPEN_CLOEXEC);
  if (fs < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) die_step("proc", dest, errno);
  autoclose int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (mnt < 0) die_step("proc", dest, errno);
  /* When the view was built outside the user namespace the old procfs is locked: it cannot be
   * detached, and for the same reason nothing inside can uncover it either. */
  if (umount2(dest, MNT_DETACH) < 0 && errno != EINVAL) die_step("proc-detach", dest, errno);
  if (move_mount(mnt, "", AT_FDCWD, dest, MOVE_MOUNT_F_EMPTY_PATH) < 0) die_step("proc-attach", dest, errno);
}

/* The in-sandbox path an op acts on (NULL for ops on host paths). */
static const char *op_dest(const struct spec_op *op) {
  const char *n = op->name;
  if (!strcmp(n, "whiteout")) return NULL;
  if (!strcmp(n, "symlink") || !strcmp(n, "bind")) return op->args[1];
  if (!strcmp(n, "fuse_overlay")) return op->args[1];
  return op->args[0];
}

/* /proc must be mounted from the pid namespace it shows, so the command's init mounts it again
 * and applies everything below it. The kernel only lets a user namespace mount procfs where a
 * fully visible one already exists, so the sandbox's pid 1 mounts a bare one first. */
static int is_proc_op(const struct spec_op *op) {
  const char *d = op_dest(op);
  return d && !strncmp(d, "/proc/", 6);
}

/* An in-sandbox path, resolved in the new root (see beneath.c): a symlink the sandbox made in
 * its layers can only lead elsewhere inside, never to the host. Returns an O_PATH fd. */
static int open_dest(const char *dest, int flags) {
  autoclose int root = open(*root_prefix ? root_prefix : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return -1;
  return open_in_root(root, dest, O_PATH | flags);
}

/* The bind's destination, made like its source (dir or empty file) when it does not exist. */
static int ensure_dest_like(const char *src, const char *dest) {
  int fd = open_dest(dest, 0);
  if (fd >= 0 || errno != ENOENT) return fd;
  struct stat st;
  if (stat(src, &st) < 0) die_step("bind", src, errno);
  char parent[8192];
  const char *name;
  if (split_last(dest, parent, sizeof parent, &name) < 0) die_step("bind", dest, errno);
  autoclose int pfd = open_dest(parent, O_DIRECTORY);
  if (pfd < 0) die_step("bind-mkdir", dest, errno);
  if (S_ISDIR(st.st_mode)) {
    if (mkdirat(pfd, name, 0755) < 0 && errno != EEXIST) die_step("bind-mkdir", dest, errno);
  } else {
    int f = openat(pfd, name, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (f < 0 && errno != EEXIST && errno != EISDIR) die_step("bind-create", dest, errno);
    if (f >= 0) close(f);
  }
  return open_beneath(pfd, name, O_PATH);
}

static void do_bind(const char *src_arg, const char *dest_arg, const char *flags) {
  char src[8192];
  if (has_token(flags, "src-inside")) snprintf(src, sizeof src, "%s", staged(src_arg));
  else snprintf(src, sizeof src, "%s", src_arg);
  /* "optional": kernel files that may not exist on this kernel (masks over /proc entries). */
  if (has_token(flags, "optional")) {
    autoclose int probe = open_dest(dest_arg, 0);
    if (access(src, F_OK) < 0 || probe < 0) return;
  }
  autoclose int dest = ensure_dest_like(src, dest_arg);
  if (dest < 0) die_step("bind", dest_arg, errno);
  int rec = has_token(flags, "rec");
  /* A detached copy of the source, made read-only or idmapped before it is attached to the
   * destination fd: nothing walks the destination path again. */
  autoclose int tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
  if (tree < 0) die_step("bind", src_arg, errno);
  struct mount_attr attr = { .attr_set = has_token(flags, "ro") ? MOUNT_ATTR_RDONLY : 0 };
  if (has_token(flags, "idmap")) {
    /* Root's remapped sandboxes see bound host paths with their real owners. */
    attr.attr_set |= MOUNT_ATTR_IDMAP;
    attr.userns_fd = (uint64_t)idmap_userns_fd;
  }
  if (attr.attr_set && mount_setattr(tree, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
    die_step(has_token(flags, "idmap") ? "bind-idmap" : "bind-readonly", src_arg, errno);
  if (move_mount(tree, "", dest, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) die_step("bind", dest_arg, errno);
}

static void do_tmpfs(const char *dest_arg, const char *data, const char *flags) {
  unsigned long mf = MS_NOSUID | MS_NODEV;
  if (has_token(flags, "noexec")) mf |= MS_NOEXEC;
  if (has_token(flags, "ro")) mf |= MS_RDONLY;
  autoclose int dest = open_dest(dest_arg, 0);
  if (dest < 0) die_step("tmpfs", dest_arg, errno);
  char target[64];
  snprintf(target, sizeof target, "/proc/self/fd/%d", dest);
  if (mount("tmpfs", target, "tmpfs", mf, data) < 0) die_step("tmpfs", dest_arg, errno);
}

static void apply_fs_op(struct spec_op *op) {
  const char *n = op->name;
  char **a = op->args;
  if (!strcmp(n, "whiteout")) {
    /* An overlay whiteout (char 0/0) in an upper layer: the path looks absent inside. */
    const char *step;
    if (make_whiteout_beneath(a[0], a[1], &step) < 0) die_step(step, a[1], errno);
  } else if (!strcmp(n, "mkdir")) {
    const char *p = staged(a[0]);
    mode_t mode = (mode_t)strtoul(a[1], NULL, 8) & 07777;
    if (mkdir(p, mode) < 0 && errno != EEXIST) die_step("mkdir", a[0], errno);
    /* An existing symlink in its place is not followed to chmod what it points to. */
    autoclose int d = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d < 0 || fchmod(d, mode) < 0) die_step("mkdir-chmod", a[0], errno);
  } else if (!strcmp(n, "symlink")) {
    if (symlink(a[0], staged(a[1])) < 0 && errno != EEXIST) die_step("symlink", a[1], errno);
  } else if (!strcmp(n, "overlay")) {
    /* overlay DEST LOWER UPPER WORK OPTIONS FALLBACK */
    const char *dest = staged(a[0]);
    if (mount_overlay(dest, a[1], a[2], a[3], a[4], has_token(a[5], "idmap-lower")) < 0) {
      int err = errno;
      if (!has_token(a[5], "ro-bind")) die_step("overlay", a[0], err);
      if (mount(a[1], dest, NULL, MS_BIND | MS_REC, NULL) < 0 || set_readonly(dest, 1) < 0)
        die_step("overlay-fallback", a[0], errno);
      status_send("warn", "overlay %d %s", err, a[0]);
    }
  } else if (!strcmp(n, "fuse_overlay")) {
    mount_fuse_overlay(a);
  } else if (!strcmp(n, "bind")) {
    do_bind(a[0], a[1], a[2]);
  } else if (!strcmp(n, "tmpfs")) {
    do_tmpfs(a[0], a[1], a[2]);
  } else if (!strcmp(n, "proc")) {
    if (mount("proc", staged(a[0]), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) die_step("proc", a[0], errno);
  } else if (!strcmp(n, "devpts")) {
    if (mount("devpts", staged(a[0]), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620") < 0)
      die_step("devpts", a[0], errno);
  } else if (!strcmp(n, "remount_ro")) {
    if (set_readonly(staged(a[0]), 0) < 0) die_step("remount-readonly", a[0], errno);
  } else if (!strcmp(n, "ro_recursive")) {
    if (set_readonly(staged(a[0]), 1) < 0) die_step("readonly-recursive", a[0], errno);
  } else if (!strcmp(n, "chown")) {
    if (lchown(staged(a[0]), (uid_t)strtoul(a[1], NULL, 10), (gid_t)strtoul(a[2], NULL, 10)) < 0) die_step("chown", a[0], errno);
  } else if (!strcmp(n, "chmod")) {
    if (chmod(staged(a[0]), (mode_t)strtoul(a[1], NULL, 8) & 07777) < 0) die_step("chmod", a[0], errno);
  } else {
    die_msg("spec", "op not valid here");
  }
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

/* --disk: the layers are copied onto a tmpfs of the given size, so a runaway writer gets
 * ENOSPC inside while the host disk is untouched, and copied back after the command. The fds
 * are opened before pivot_root hides both places. */
static int disk_fd = -1, disk_parent_fd = -1;

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

static void disk_setup(void) {
  char data[128];
  snprintf(data, sizeof data, "size=%s,mode=0700", cfg.disk_size);
  if (mount("tmpfs", cfg.disk_mount, "tmpfs", MS_NOSUID | MS_NODEV, data) < 0) die_step("disk-tmpfs", cfg.disk_mount, errno);
  disk_fd = open(cfg.disk_mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (disk_fd < 0) die_step("disk-tmpfs", cfg.disk_mount, errno);
  for (size_t i = 0; i < cfg.n_disk_layers; i++) {
    const char *layer = cfg.disk_layers[i], *name = base_name(layer);
    if (disk_parent_fd < 0) {
      char parent[4096];
      snprintf(parent, sizeof parent, "%.*s", (int)(name - layer), layer);
      disk_parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (disk_parent_fd < 0) die_step("disk-copy-in", parent, errno);
    }
    autoclose int src = open(layer, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0) die_step("disk-copy-in", layer, errno);
    if (mkdirat(disk_fd, name, 0700) < 0) die_step("disk-copy-in", name, errno);
    autoclose int dst = openat(disk_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char failed[4096];
    if (dst < 0) die_step("disk-copy-in", name, errno);
    if (copy_tree(src, dst, failed, sizeof failed) < 0) {
      int err = errno;
      char where[4700];
      snprintf(where, sizeof where, "%s/%s", name, failed);
      die_step("disk-copy-in", where, err);
    }
  }
}

/* After the command: each layer's new state is copied to LAYER.out beside it. Only when every
 * copy completed are they exchanged with the layers (each exchange atomic) and the old states
 * removed; otherwise every layer stays as it was and the partial copies go. Either way sbx
 * reads one status line: "disk-copied", or "disk-copy-failed ERRNO LAYER/PATH". */
static void disk_copy_out(void) {
  char out[MAX_LIST][512];
  size_t done = 0;
  int err = 0;
  char failed[4096] = "", where[4700] = "";
  for (size_t i = 0; i < cfg.n_disk_layers; i++) {
    const char *name = base_name(cfg.disk_layers[i]);
    snprintf(out[i], sizeof out[i], "%s.out", name);
    /* A copy left by an sbx that was killed half way is stale. */
    if (remove_tree_at(disk_parent_fd, out[i]) < 0 || mkdirat(disk_parent_fd, out[i], 0700) < 0) {
      err = errno; snprintf(where, sizeof where, "%s", out[i]); break;
    }
    done = i + 1;
    autoclose int src = openat(disk_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    autoclose int dst = openat(disk_parent_fd, out[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0 || dst < 0) { err = errno; snprintf(where, sizeof where, "%s", name); break; }
    if (copy_tree(src, dst, failed, sizeof failed) < 0) { err = errno; snprintf(where, sizeof where, "%s/%s", name, failed); break; }
  }
  size_t swapped = 0;
  if (!err) {
    for (; swapped < cfg.n_disk_layers; swapped++) {
      const char *name = base_name(cfg.disk_layers[swapped]);
      if (renameat2(disk_parent_fd, out[swapped], disk_parent_fd, name, RENAME_EXCHANGE) < 0) {
        err = errno; snprintf(where, sizeof where, "%s", name);
        break;
      }
    }
    /* All or none: a layer already exchanged goes back to its old state. */
    if (err)
      while (swapped > 0) { swapped--; renameat2(disk_parent_fd, out[swapped], disk_parent_fd, base_name(cfg.disk_layers[swapped]), RENAME_EXCHANGE); }
  }
  /* What is in LAYER.out now is either a partial copy or the layer's old state. */
  for (size_t i = 0; i < done; i++) remove_tree_at(disk_parent_fd, out[i]);
  if (err) status_send("disk-copy-failed", "%d %s", err, where);
  else status_send("disk-copied", "%zu", cfg.n_disk_layers);
}

static void build_root(void) {
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die_step("make-private", "/", errno);
  if (cfg.disk_mount) disk_setup();
  /* Whiteouts are made in upper layers before anything is mounted over them. */
  for (size_t i = 0; i < cfg.n_fs_ops; i++)
    if (!strcmp(cfg.fs_ops[i]->name, "whiteout")) apply_fs_op(cfg.fs_ops[i]);
  if (mount("tmpfs", cfg.stage, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) die_step("stage", cfg.stage, errno);
  root_prefix = cfg.stage;
  for (size_t i = 0; i < cfg.n_fs_ops; i++)
    if (strcmp(cfg.fs_ops[i]->name, "whiteout") != 0 && !is_proc_op(cfg.fs_ops[i])) apply_fs_op(cfg.fs_ops[i]);
  if (chdir(cfg.stage) < 0) die_step("pivot", cfg.stage, errno);
  /* pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only ours. */
  if (syscall(SYS_pivot_root, ".", ".") < 0) die_step("pivot", cfg.stage, errno);
  if (umount2(".", MNT_DETACH) < 0) die_step("detach-old-root", "/", errno);
  if (chdir("/") < 0) die_step("pivot", "/", errno);
  root_prefix = "";
}

/* ------------------------------------------------------------------ the command */

static void report_and_exit(int pipefd, enum cmd_step step, int err) {
  int msg[2] = { (int)step, err };
  if (write(pipefd, msg, sizeof msg) < 0) { /* nothing left to tell anyone */ }
  _exit(step == STEP_EXEC && err == ENOENT ? 127 : step == STEP_EXEC ? 126 : SBX_EXIT_FAILED);
}

static void exec_command(int errpipe, int slave) {
  sigset_t none;
  sigemptyset(&none);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) signal(forwarded[i], SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGTTOU, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* A new session: without a controlling terminal shared with the host, TIOCSTI cannot reach it. */
  if (setsid() < 0) report_and_exit(errpipe, STEP_TTY, errno);
  if (slave >= 0) {
    if (ioctl(slave, TIOCSCTTY, 0) < 0) report_and_exit(errpipe, STEP_TTY, errno);
    for (int fd = 0; fd < 3; fd++) if (dup2(slave, fd) < 0) report_and_exit(errpipe, STEP_TTY, errno);
  }
  if (relay_child() < 0) report_and_exit(errpipe, STEP_EXEC, errno);
  if (chdir(cfg.cwd) < 0) report_and_exit(errpipe, STEP_CWD, errno);
  for (size_t i = 0; i < cfg.n_rlimits; i++) {
    struct rlimit rl = { cfg.rlimits[i].soft, cfg.rlimits[i].hard };
    if (setrlimit(cfg.rlimits[i].resource, &rl) < 0) report_and_exit(errpipe, STEP_RLIMIT, errno);
  }
  /* Only 0, 1, 2 and the exec-error pipe (closed by exec) survive. */
  if (dup2(errpipe, 3) < 0) report_and_exit(errpipe, STEP_EXEC, errno);
  errpipe = 3;
  fcntl(errpipe, F_SETFD, FD_CLOEXEC);
  if (close_range(4, ~0U, 0) < 0) report_and_exit(errpipe, STEP_EXEC, errno);
  if (cfg.have_caps) {
    const char *step = "";
    if (caps_apply(&cfg.caps, &step) < 0)
      report_and_exit(errpipe, !strcmp(step, "cap-bounding") ? STEP_CAP_BOUNDING : !strcmp(step, "capset") ? STEP_CAPSET : STEP_CAP_AMBIENT, errno);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) report_and_exit(errpipe, STEP_NO_NEW_PRIVS, errno);
  extern char **environ;
  environ = cfg.envp;
  if (cfg.seccomp) {
    struct sock_fprog prog = { (unsigned short)(cfg.seccomp_len / sizeof(struct sock_filter)), (struct sock_filter *)cfg.seccomp };
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) report_and_exit(errpipe, STEP_SECCOMP, errno);
  }
  execvp(cfg.argv[0], cfg.argv);
  report_and_exit(errpipe, STEP_EXEC, errno);
}

/* ------------------------------------------------------------------ pid 1 */

static void noop_handler(int sig) { (void)sig; }

static int make_signalfd(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(set, forwarded[i]);
  /* pid 1 only receives signals it has a handler for, even from the parent namespace. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = noop_handler;
  for (int s = 1; s < NSIG; s++) if (sigismember(set, s)) sigaction(s, &sa, NULL);
  if (sigprocmask(SIG_BLOCK, set, NULL) < 0) return -1;
  return signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void copy_winsize(int from, int to) {
  struct winsize ws;
  if (ioctl(from, TIOCGWINSZ, &ws) == 0) ioctl(to, TIOCSWINSZ, &ws);
}

static int relay(int from, int to) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0) return (n < 0 && (errno == EAGAIN || errno == EINTR)) ? 0 : -1;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, (size_t)(n - off));
    if (w < 0) { if (errno == EINTR || errno == EAGAIN) continue; return -1; }
    off += w;
  }
  return 1;
}

/* pid 1 of the command's own pid namespace: mounts /proc for it, gives it a pty if asked,
 * runs it, reaps, forwards signals, and reports how it ended. */
static void __attribute__((noreturn)) command_init(void) {
  ssize_t n;
  /* A mount namespace of its own: the /proc below is this pid namespace's, while the daemons
   * keep theirs (fuse-overlayfs reopens files through /proc/self/fd). */
  if (unshare(CLONE_NEWNS) < 0) die_step("mount-namespace", NULL, errno);
  for (size_t i = 0; i < cfg.n_fs_ops; i++) {
    struct spec_op *op = cfg.fs_ops[i];
    if (!strcmp(op->name, "proc")) replace_proc(op->args[0]);
    else if (is_proc_op(op)) apply_fs_op(op);
  }
  int master = -1, slave = -1;
  if (cfg.pty) {
    master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) die_step("pty", "/dev/pts/ptmx", errno);
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0) die_step("pty-unlock", NULL, errno);
    slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) die_step("pty-peer", NULL, errno);
    struct termios t;
    if (tcgetattr(0, &t) == 0) {
      tcsetattr(slave, TCSANOW, &t); /* the command starts with the user's settings */
      cfmakeraw(&t);
      tcsetattr(0, TCSANOW, &t);
    }
    copy_winsize(0, master);
  }
  sigset_t set;
  int sfd = make_signalfd(&set);
  if (sfd < 0) die_step("signalfd", NULL, errno);
  /* Made here, by root of the sandbox: the command can reopen them as /dev/stdin etc. */
  if (!cfg.pty && relay_prepare(cfg.relay_fds, cfg.n_relay) < 0) die_step("stdio-relay", NULL, errno);
  int ep[2];
  if (pipe2(ep, O_CLOEXEC) < 0) die_step("pipe", NULL, errno);
  pid_t cmd = fork();
  if (cmd < 0) die_step("fork", NULL, errno);
  if (cmd == 0) {
    close(ep[0]);
    close(sfd);
    if (master >= 0) close(master);
    exec_command(ep[1], slave);
  }
  close(ep[1]);
  if (slave >= 0) close(slave);
  relay_parent();
  /* A reader of the real stdout that went away is the relay's business, not a reason to die. */
  signal(SIGPIPE, SIG_IGN);
  int msg[2];
  do n = read(ep[0], msg, sizeof msg); while (n < 0 && errno == EINTR);
  close(ep[0]);
  if (n == (ssize_t)sizeof msg) {
    int st;
    waitpid(cmd, &st, 0);
    if (msg[0] == STEP_EXEC) status_send("exec-error", "%d", msg[1]);
    else status_send("error", "%s %d %s", cmd_step_name[msg[0]], msg[1], msg[0] == STEP_CWD ? cfg.cwd : "-");
    _exit(msg[0] == STEP_EXEC ? (msg[1] == ENOENT ? 127 : 126) : SBX_EXIT_FAILED);
  }
  status_send("started", "%d", (int)cmd);

  int cmd_status = -1, in_open = master >= 0, out_open = master >= 0;
  if (master >= 0) fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  while (cmd_status < 0) {
    struct pollfd p[9] = { { sfd, POLLIN, 0 }, { in_open ? 0 : -1, POLLIN, 0 }, { out_open ? master : -1, POLLIN, 0 } };
    size_t np = 3 + relay_pollfds(p + 3);
    if (poll(p, np, -1) < 0 && errno != EINTR) die_step("poll", NULL, errno);
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) { if (relay(0, master) < 0) in_open = 0; }
    if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) { if (relay(master, 1) < 0) out_open = 0; }
    relay_events(p + 3);
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
      if (si.ssi_signo == SIGCHLD) continue;
      if (si.ssi_signo == SIGWINCH && master >= 0) copy_winsize(0, master);
      else kill(cmd, (int)si.ssi_signo);
    }
    int st;
    pid_t w;
    while ((w = waitpid(-1, &st, WNOHANG)) > 0) if (w == cmd) cmd_status = st;
  }
  /* Drain what the command wrote before it exited. */
  while (out_open && relay(master, 1) > 0) {}
  relay_finish();
  if (WIFSIGNALED(cmd_status)) {
    status_send("signal", "%d", WTERMSIG(cmd_status));
    _exit(128 + WTERMSIG(cmd_status));
  }
  status_send("exit", "%d", WEXITSTATUS(cmd_status));
  _exit(WEXITSTATUS(cmd_status));
}

/* pid 1 of the sandbox: builds the root, keeps the sandbox's daemons (fuse-overlayfs) as its
 * children, and runs the command's init in a nested pid namespace, so that nothing the
 * command runs can see, signal or ptrace those daemons (whose fds reach the host). */
static void __attribute__((noreturn)) init_main(int sync_fd) {
  char c;
  ssize_t n;
  do n = read(sync_fd, &c, 1); while (n < 0 && errno == EINTR);
  if (n != 1) _exit(SBX_EXIT_FAILED); /* the outer process failed and already reported why */
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
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  umask(0);
  if (cfg.new_cgroupns && unshare(CLONE_NEWCGROUP) < 0) die_step("cgroup-namespace", NULL, errno);
  if (cfg.hostname && sethostname(cfg.hostname, strlen(cfg.hostname)) < 0) die_step("hostname", cfg.hostname, errno);
  if (cfg.loopback_up) bring_loopback_up();
  if (cfg.stage && !cfg.build_outside) build_root();
  umask(022);
  if (setsid() < 0) die_step("setsid", NULL, errno);
  sigset_t set;
  int sfd = make_signalfd(&set);
  if (sfd < 0) die_step("signalfd", NULL, errno);
  if (unshare(CLONE_NEWPID) < 0) die_step("pid-namespace", NULL, errno);
  pid_t inner = fork();
  if (inner < 0) die_step("fork", NULL, errno);
  if (inner == 0) {
    close(sfd);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die_step("parent-death-signal", NULL, errno);
    command_init();
  }
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

/* ------------------------------------------------------------------ outer */

static pid_t child_pid = -1;

static void __attribute__((noreturn)) outer_fail(const char *step, const char *path, int err) {
  if (child_pid > 0) kill(child_pid, SIGKILL);
  die_step(step, path, err);
}

static void run_idmap_tool(const char *step, const char *tool, const char *args) {
  char *argv[256];
  char pidbuf[32], buf[4096];
  size_t argc = 0;
  snprintf(pidbuf, sizeof pidbuf, "%d", (int)child_pid);
  if (strlen(args) >= sizeof buf) outer_fail(step, tool, E2BIG);
  strcpy(buf, args);
  argv[argc++] = (char *)tool;
  argv[argc++] = pidbuf;
  for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && argc < 255; t = strtok_r(NULL, " ", &save)) argv[argc++] = t;
  argv[argc] = NULL;
  pid_t p = fork();
  if (p < 0) outer_fail(step, tool, errno);
  if (p == 0) {
    /* The tool's own messages go to stderr; its status is what we act on. */
    execv(tool, argv);
    _exit(127);
  }
  int st;
  while (waitpid(p, &st, 0) < 0) if (errno != EINTR) outer_fail(step, tool, errno);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) outer_fail(step, tool, WIFEXITED(st) && WEXITSTATUS(st) == 127 ? ENOENT : EPERM);
}

/* Writes one of /proc/PID/{uid_map,gid_map,setgroups}; on failure the child is killed. */
static void write_proc_file(const char *step, pid_t pid, const char *file, const char *content) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, content, strlen(content)) < 0) outer_fail(step, path, errno);
  close(fd);
}

static void write_idmaps(void) {
  if (cfg.newuidmap[0]) run_idmap_tool("uid-map", cfg.newuidmap[0], cfg.newuidmap[1]);
  else if (cfg.uid_map) write_proc_file("uid-map", child_pid, "uid_map", cfg.uid_map);
  if (cfg.setgroups) write_proc_file("setgroups", child_pid, "setgroups", cfg.setgroups);
  if (cfg.newgidmap[0]) run_idmap_tool("gid-map", cfg.newgidmap[0], cfg.newgidmap[1]);
  else if (cfg.gid_map) write_proc_file("gid-map", child_pid, "gid_map", cfg.gid_map);
}

/* A short-lived process in a new user namespace with the sandbox's mapping; its namespace
 * outlives it through the fd and serves every idmapped lower layer. */
static void make_idmap_userns(void) {
  if (!cfg.uid_map || !cfg.gid_map) die_msg("idmap-userns", "idmapped layers need uid_map and gid_map");
  /* ready: the child says it has unshared (no polling of /proc/PID/ns/user); hold: it waits
   * for EOF on it until its namespace is mapped and held open by our fd. */
  int ready[2], hold[2];
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0) die_step("idmap-userns", NULL, errno);
  pid_t h = fork();
  if (h < 0) die_step("idmap-userns", NULL, errno);
  if (h == 0) {
    char c;
    close(ready[0]);
    close(hold[1]);
    int err = unshare(CLONE_NEWUSER) == 0 ? 0 : errno;
    if (write(ready[1], &err, sizeof err) != (ssize_t)sizeof err || err) _exit(1);
    while (read(hold[0], &c, 1) < 0 && errno == EINTR) {}
    _exit(0);
  }
  close(ready[1]);
  close(hold[0]);
  int err = EPIPE;
  ssize_t n;
  while ((n = read(ready[0], &err, sizeof err)) < 0 && errno == EINTR) {}
  close(ready[0]);
  if (n != (ssize_t)sizeof err) err = EPIPE;
  if (err) { waitpid(h, NULL, 0); die_step("idmap-userns", "unshare", err); }
  char nspath[64];
  snprintf(nspath, sizeof nspath, "/proc/%d/ns/user", (int)h);
  write_proc_file("idmap-userns", h, "uid_map", cfg.uid_map);
  write_proc_file("idmap-userns", h, "gid_map", cfg.gid_map);
  idmap_userns_fd = open(nspath, O_RDONLY | O_CLOEXEC);
  if (idmap_userns_fd < 0) die_step("idmap-userns", nspath, errno);
  close(hold[1]);
  waitpid(h, NULL, 0);
}

int sandbox_main(int spec_fd, int status_fd) {
  status_init(status_fd);
  fcntl(status_fd, F_SETFD, 0);
  /* If sbx dies, so do we, and with us (pid 1's parent-death signal) the whole sandbox. */
  pid_t parent = getppid();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die_step("parent-death-signal", NULL, errno);
  if (getppid() != parent) _exit(SBX_EXIT_FAILED);

  struct spec spec;
  char err[512];
  if (spec_read(spec_fd, &spec, err, sizeof err) < 0) die_msg("spec", err);
  close(spec_fd);
  load_config(&spec);

  sigset_t set;
  int sfd = make_signalfd(&set);
  if (sfd < 0) die_step("signalfd", NULL, errno);
  signal(SIGTTOU, SIG_IGN); /* restoring the terminal from a background group must not stop us */
  struct termios saved;
  int have_termios = cfg.pty && tcgetattr(0, &saved) == 0;

  /* Limits and device rules are in place before the child exists. */
  for (size_t i = 0; i < cfg.n_cgroup_writes; i++) {
    const char *path = cfg.cgroup_writes[i]->args[0], *val = cfg.cgroup_writes[i]->args[1];
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, val, strlen(val)) < 0) die_step("cgroup-write", path, errno);
    close(fd);
  }
  for (size_t i = 0; i < cfg.n_devbpf; i++) {
    const char *step = NULL;
    struct spec_op *op = cfg.devbpf[i];
    if (devbpf_attach(op->args[0], (const unsigned char *)op->args[1], op->lens[1], &step) < 0) die_step(step, op->args[0], errno);
  }
  /* Opened now: a view built outside hides the host's /sys from us. */
  int procs_fds[MAX_LIST];
  for (size_t i = 0; i < cfg.n_cgroup_procs; i++) {
    procs_fds[i] = open(cfg.cgroup_procs[i], O_WRONLY | O_CLOEXEC);
    if (procs_fds[i] < 0) die_step("cgroup", cfg.cgroup_procs[i], errno);
  }
  if (cfg.build_outside) {
    if (unshare(CLONE_NEWNS) < 0) die_step("mount-namespace", NULL, errno);
    make_idmap_userns();
    build_root();
  }

  int sync[2];
  if (pipe2(sync, O_CLOEXEC) < 0) die_step("pipe", NULL, errno);
  int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | (cfg.share_net ? 0 : CLONE_NEWNET);
  child_pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (child_pid < 0) die_step("clone", NULL, errno);
  if (child_pid == 0) {
    close(sync[1]);
    close(sfd);
    for (size_t i = 0; i < cfg.n_cgroup_procs; i++) close(procs_fds[i]);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die_step("parent-death-signal", NULL, errno);
    init_main(sync[0]);
  }
  close(sync[0]);
  write_idmaps();
  for (size_t i = 0; i < cfg.n_cgroup_procs; i++) {
    char pidbuf[32];
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)child_pid);
    if (write(procs_fds[i], pidbuf, strlen(pidbuf)) < 0) outer_fail("cgroup", cfg.cgroup_procs[i], errno);
    close(procs_fds[i]);
  }
  if (write(sync[1], "1", 1) != 1) outer_fail("release-child", NULL, errno);
  /* sync[1] stays open while we live: the child checks it after changing its ids. */

  int st = 0;
  for (;;) {
    struct pollfd p = { sfd, POLLIN, 0 };
    if (poll(&p, 1, -1) < 0 && errno != EINTR) outer_fail("poll", NULL, errno);
    struct signalfd_siginfo si;
    int done = 0;
    while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
      if (si.ssi_signo != SIGCHLD) kill(child_pid, (int)si.ssi_signo);
    }
    pid_t w;
    while ((w = waitpid(child_pid, &st, WNOHANG)) > 0 || (w < 0 && errno == EINTR)) if (w == child_pid) done = 1;
    if (done) break;
  }
  if (have_termios) tcsetattr(0, TCSADRAIN, &saved);
  if (cfg.disk_mount && cfg.build_outside) disk_copy_out();
  if (WIFSIGNALED(st)) {
    status_send("init-killed", "%d", WTERMSIG(st));
    return 128 + WTERMSIG(st);
  }
  return WEXITSTATUS(st);
}
