/* The filesystem ops and building the new root: every mount the sandbox sees is made here,
 * on a tmpfs stage that then becomes / through pivot_root. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include "sandbox.h"

int idmap_userns_fd = -1;

/* Where the new root is while it is being built: the stage before pivot_root, "" after. */
static const char *root_prefix = "";

/* An in-sandbox path, resolved in the new root (resolve.c): a symlink the sandbox made in its
 * layers can only lead elsewhere inside, never to the host. Returns an O_PATH fd. */
static int open_dest(const char *dest, int flags) {
  if (dest[0] != '/') die_msg("spec", "destination is not absolute");
  autoclose int root = open(*root_prefix ? root_prefix : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return -1;
  return open_in_root(root, dest, O_PATH | flags);
}

/* The resolved parent of an in-sandbox path and its last name, for ops that create an entry
 * (mkdir, symlink): the entry is made on the fd, never through a path walked again. */
static int open_dest_parent(const char *dest, const char **name) {
  char parent[SBX_PATH_MAX];
  if (split_last(dest, parent, sizeof parent, name) < 0) return -1;
  return open_dest(*parent ? parent : "/", O_DIRECTORY);
}

/* A mount made detached (fsmount, open_tree) attached at an in-sandbox destination. */
static int attach_at(int mnt, const char *dest) {
  autoclose int d = open_dest(dest, 0);
  if (d < 0) return -1;
  return move_mount(mnt, "", d, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

/* /proc/self/fd/N of a resolved destination, for the calls that take only a path (mount(2) of
 * a new filesystem, chmod): the kernel follows that link to the object the fd holds, so
 * nothing is resolved a second time. */
static const char *fd_path(char out[64], int fd) {
  snprintf(out, 64, "/proc/self/fd/%d", fd);
  return out;
}

/* Lower layers below the next overlay's own (`lower` ops: an image's layers, top first). */
#define MAX_LOWERS 128
static const char *extra_lowers[MAX_LOWERS];
static int n_extra_lowers;

/* A lower layer as the overlay will be given it: the path, or its idmapped clone's
 * /proc/self/fd path. The clone's fd goes to *tree: it must stay open until the overlay is
 * created (older kernels resolve the paths only then). */
static const char *lower_path(const char *lower, int idmap, int *tree_out, char treepath[64]) {
  int tree = -1;
  if (idmap) {
    /* Through an idmapped mount the host's files keep their owners as seen from inside, while
     * what the sandbox creates belongs to the unprivileged range on the host. */
    tree = open_tree(AT_FDCWD, lower, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0) die_step("idmap-lower", lower, errno);
    struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)idmap_userns_fd };
    *tree_out = tree;
    if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) die_step("idmap-lower", lower, errno);
    snprintf(treepath, 64, "/proc/self/fd/%d", tree);
    times_mark("overlay: idmapped lower");
    return treepath;
  }
  return lower;
}

/* overlayfs unescapes upperdir and workdir (a '\\' quotes the next character, as in its
 * comma-separated mount options), though not lowerdir+: a store path holding a '\\' named a
 * dir that did not exist, and every overlay of a saved run fell back. Each '\\' goes doubled. */
static const char *overlay_escaped(const char *path, char buf[SBX_PATH_MAX * 2]) {
  size_t j = 0;
  for (const char *p = path; *p; p++) {
    if (j + 3 > SBX_PATH_MAX * 2) { errno = ENAMETOOLONG; return NULL; }
    if (*p == '\\') buf[j++] = '\\';
    buf[j++] = *p;
  }
  buf[j] = 0;
  return buf;
}

static int configure_overlay(int fs, const char *dest, const char *lower, const char *upper, const char *work, const char *opts, int idmap, int *trees) {
  static char treepaths[MAX_LOWERS + 1][64];
  const char *paths[MAX_LOWERS + 1];
  int n = 0;
  paths[n] = lower_path(lower, idmap, &trees[n], treepaths[n]); n++;
  for (int i = 0; i < n_extra_lowers; i++, n++) paths[n] = lower_path(extra_lowers[i], idmap, &trees[n], treepaths[n]);
  /* "lowerdir+" (6.7+) takes one path verbatim per call, top first; older kernels take one
   * ':'-separated list, which cannot hold a path with ':', ',' or '\\'. */
  if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", paths[0], 0) == 0) {
    for (int i = 1; i < n; i++) if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", paths[i], 0) < 0) return -1;
  } else {
    char list[SBX_PATH_MAX * 4];
    size_t len = 0;
    for (int i = 0; i < n; i++) {
      size_t l = strlen(paths[i]);
      if (strpbrk(paths[i], ":\\,") || len + l + 2 > sizeof list) { errno = EINVAL; return -1; }
      if (i) list[len++] = ':';
      memcpy(list + len, paths[i], l);
      len += l;
    }
    list[len] = 0;
    if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", list, 0) < 0) return -1;
  }
  static char esc[SBX_PATH_MAX * 2];
  if (!overlay_escaped(upper, esc) || fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", esc, 0) < 0) return -1;
  if (!overlay_escaped(work, esc) || fsconfig(fs, FSCONFIG_SET_STRING, "workdir", esc, 0) < 0) return -1;
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
  times_mark("overlay: fsopen, fsconfig");
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) return -1;
  times_mark("overlay: create");
  autoclose int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  if (mnt < 0) return -1;
  return attach_at(mnt, dest);
}

static int mount_overlay(const char *dest, const char *lower, const char *upper, const char *work, const char *opts, int idmap) {
  int trees[MAX_LOWERS + 1];
  for (int i = 0; i <= MAX_LOWERS; i++) trees[i] = -1;
  autoclose int fs = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0) return -1;
  int r = configure_overlay(fs, dest, lower, upper, work, opts, idmap, trees);
  int err = errno;
  for (int i = 0; i <= MAX_LOWERS; i++) tree_release(trees[i]); /* closed off the path: trees.c */
  errno = err;
  return r;
}

/* Whether a mount point lies below `dir` in this mount namespace (/proc/self/mountinfo writes
 * mount points with ' ', '\t', '\n' and '\\' as octal escapes; `dir` is escaped the same way). */
static int mount_below(const char *dir) {
  char want[SBX_PATH_MAX * 4 + 2];
  size_t n = 0;
  for (const char *p = dir; *p; p++) {
    if (n + 6 >= sizeof want) return 0;
    if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\\') n += (size_t)snprintf(want + n, sizeof want - n, "\\%03o", (unsigned char)*p);
    else want[n++] = *p;
  }
  if (n == 1 && want[0] == '/') n = 0;
  want[n++] = '/';
  want[n] = 0;
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) return 0;
  char *line = NULL;
  size_t cap = 0;
  int found = 0;
  while (!found && getline(&line, &cap, f) > 0) {
    /* ID PARENT MAJOR:MINOR ROOT MOUNTPOINT ...: the fifth field. */
    char *s = line;
    for (int field = 0; field < 4 && s; field++) if ((s = strchr(s, ' '))) s++;
    if (s && strncmp(s, want, n) == 0) found = 1;
  }
  free(line);
  fclose(f);
  return found;
}

static void do_overlay(char *const *a, unsigned flags) {
  /* overlay DEST LOWER UPPER WORK OPTIONS FLAGS */
  int r = mount_overlay(a[0], a[1], a[2], a[3], a[4], !!(flags & FLAG_IDMAP_LOWER));
  int err = errno;
  n_extra_lowers = 0;
  if (r == 0) return;
  /* sbx's plan gives every dir that held a mount point a layer of its own, so a mount below
   * this lower appeared on the host after the plan. In an ordinary user's namespace it is
   * locked, and overlayfs cannot clone the lower (EINVAL): the host moved, which sbx answers
   * by planning again, where the fallback would show the whole tree read-only. */
  if (err == EINVAL && (flags & FLAG_MOVED_CHECK) && mount_below(a[1])) die_step("overlay-moved", a[0], err);
  if (!(flags & FLAG_RO_BIND)) die_step("overlay", a[0], err);
  autoclose int tree = open_tree(AT_FDCWD, a[1], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
  if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof ro) < 0 || attach_at(tree, a[0]) < 0) {
    /* The host directory vanished after sbx planned (another program's temporary dir): what
     * is left at dest is the empty stand-in, and sbx says so. */
    if (errno == ENOENT && access(a[1], F_OK) < 0 && errno == ENOENT) { status_send("warn", "overlay %d %s", ENOENT, a[0]); return; }
    die_step("overlay-fallback", a[0], errno);
  }
  status_send("warn", "overlay %d %s", err, a[0]);
}

/* The mount namespace the fuse-overlayfs daemons run in: a copy of the host's view taken before
 * the stage exists. fuse-overlayfs reaches some of its files by absolute path (its work dir for a
 * file deleted while open, its upper dir when setting a fifo's mode): in this namespace's own
 * view those paths would resolve, after pivot_root, inside the sandbox, where the store is
 * hidden (ENOENT) or, when the store lies in a tree the daemon serves itself (SBX_HOME under
 * /tmp), through its own mount: a request it waits on forever. pivot_root moves only the
 * processes whose root is this namespace's, so in their own namespace the daemons keep the
 * host's view, and the sandbox's mounts (the store's hiding tmpfs among them) are not in it. */
static int daemons_ns = -1;

static void make_daemons_namespace(void) {
  autoclose int own = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (own < 0) die_step("fuse-namespace", NULL, errno);
  if (unshare(CLONE_NEWNS) < 0) die_step("fuse-namespace", NULL, errno);
  daemons_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (daemons_ns < 0) die_step("fuse-namespace", NULL, errno);
  if (setns(own, CLONE_NEWNS) < 0) die_step("fuse-namespace", NULL, errno);
}

/* The FUSE mount itself, made here in the sandbox's namespace on a /dev/fuse fd the daemon is
 * given as /dev/fd/3 (libfuse's way of serving a mount its caller made), with the options
 * fuse-overlayfs would have asked for as root of the user namespace. Attached at the
 * in-sandbox `dest`, or, with `mnt_out`, left detached and handed back. */
static int mount_fuse_dev(const char *dest, int *mnt_out) {
  int dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (dev < 0) die_step("fuse-overlayfs", "/dev/fuse", errno);
  autoclose int fs = fsopen("fuse", FSOPEN_CLOEXEC);
  char num[32];
  int ok = fs >= 0;
  snprintf(num, sizeof num, "%d", dev);
  ok = ok && fsconfig(fs, FSCONFIG_SET_STRING, "source", "fuse-overlayfs", 0) == 0;
  ok = ok && fsconfig(fs, FSCONFIG_SET_STRING, "subtype", "fuse-overlayfs", 0) == 0;
  ok = ok && fsconfig(fs, FSCONFIG_SET_STRING, "fd", num, 0) == 0;
  ok = ok && fsconfig(fs, FSCONFIG_SET_STRING, "rootmode", "40000", 0) == 0;
  snprintf(num, sizeof num, "%u", (unsigned)getuid());
  ok = ok && fsconfig(fs, FSCONFIG_SET_STRING, "user_id", num, 0) == 0;
  snprintf(num, sizeof num, "%u", (unsigned)getgid());
  ok = ok && fsconfig(fs, FSCONFIG_SET_STRING, "group_id", num, 0) == 0;
  ok = ok && fsconfig(fs, FSCONFIG_SET_FLAG, "allow_other", NULL, 0) == 0;
  ok = ok && fsconfig(fs, FSCONFIG_SET_FLAG, "default_permissions", NULL, 0) == 0;
  ok = ok && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0;
  int mnt = ok ? fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOATIME) : -1;
  if (mnt < 0) die_step("fuse-mount", dest, errno);
  if (mnt_out) { *mnt_out = mnt; return dev; }
  if (attach_at(mnt, dest) < 0) die_step("fuse-mount", dest, errno);
  close(mnt);
  return dev;
}

/* The daemons being started: each launcher (fuse-overlayfs before it daemonizes) is waited for
 * only once every FUSE mount of the view is made (fuse_wait_all). A launcher takes ~3 ms (exec,
 * libfuse's set-up, the fork into the daemon), and an ordinary user's view has a dozen of them:
 * one after another they were ~45 ms of the run's start (perf trace, 14 daemons), side by side
 * they share the cores. The mount itself is made here before the launcher starts, so the ops
 * that follow never wait on it: a request the daemon is not serving yet waits in the kernel
 * until it is (or fails with ENOTCONN once a daemon that failed has closed the device). */
struct fuse_launch { pid_t pid; int err; const char *binary, *dest, *lower; };
static struct fuse_launch launches[MAX_LIST];
static size_t n_launches;
static void fuse_wait_all(void);

/* fuse-overlayfs's -o for LOWER UPPER WORK OPTIONS (`a`), into `opts`; `label` names the mount in errors. */
static void fuse_options(char *opts, size_t size, char *const *a, const char *label) {
  for (int i = 0; i <= 2; i++)
    if (strpbrk(a[i], ",:\\")) die_step("fuse-overlayfs", a[i], EINVAL); /* its -o syntax cannot quote these */
  /* No upper: a read-only daemon, the lower of the kernel overlays of fuse_lower ops. */
  int n = *a[1] ? snprintf(opts, size, "lowerdir=%s,upperdir=%s,workdir=%s%s%s", a[0], a[1], a[2], *a[3] ? "," : "", a[3])
                : snprintf(opts, size, "lowerdir=%s%s%s", a[0], *a[3] ? "," : "", a[3]);
  if (n < 0 || (size_t)n >= size) die_step("fuse-overlayfs", label, E2BIG);
}

/* fuse-overlayfs serving the mount on `dev` as a daemon of the daemons' namespace, started
 * here; fuse_wait_all sees it up. */
static void launch_fuse(const char *binary, const char *label, const char *lower, const char *opts, const char *preload, int dev, int errp[2]) {
  pid_t pid = fork();
  if (pid < 0) die_step("fuse-overlayfs", label, errno);
  if (pid == 0) {
    if (dup2(errp[1], 2) < 0) _exit(127);
    if (setns(daemons_ns, CLONE_NEWNS) < 0) { dprintf(2, "cannot enter the daemons' mount namespace: %s\n", strerror(errno)); _exit(1); }
    if ((dev == 3 ? fcntl(3, F_SETFD, 0) : dup2(dev, 3)) < 0 || close_range(4, ~0U, 0) < 0) _exit(127);
    if (*preload && setenv("LD_PRELOAD", preload, 1) < 0) _exit(127);
    execl(binary, "fuse-overlayfs", "-o", opts, "/dev/fd/3", (char *)NULL);
    _exit(127);
  }
  /* The daemon holds the device now: when it ends, the mount's requests fail (ENOTCONN) rather
   * than wait on a copy of the fd nobody reads. */
  close(dev);
  close(errp[1]);
  launches[n_launches++] = (struct fuse_launch){ pid, errp[0], binary, label, lower };
  /* A later step that fails may have failed because of a daemon that did: that is said first. */
  set_before_die(fuse_wait_all);
}

/* The checks before a daemon is started, and the pipe for its chatter ("unknown argument
 * ignored" is noise on success; on failure it says why). */
static void fuse_prepare(const char *label, int errp[2]) {
  if (daemons_ns < 0) die_step("fuse-namespace", label, EBADF);
  if (n_launches == MAX_LIST) die_step("fuse-overlayfs", label, E2BIG);
  if (pipe2(errp, O_CLOEXEC) < 0) die_step("fuse-overlayfs", label, errno);
}

static void mount_fuse_overlay(char *const *a) {
  /* fuse_overlay BINARY DEST LOWER UPPER WORK OPTIONS PRELOAD ("": none) */
  char opts[16384];
  int errp[2];
  fuse_options(opts, sizeof opts, a + 2, a[1]);
  /* Vanished since sbx planned, as for an overlay's fallback above: left as the empty stand-in. */
  if (access(a[2], F_OK) < 0 && errno == ENOENT) { status_send("warn", "overlay %d %s", ENOENT, a[1]); return; }
  fuse_prepare(a[1], errp);
  int dev = mount_fuse_dev(a[1], NULL);
  launch_fuse(a[0], a[1], a[2], opts, a[6], dev, errp);
}

/* Each fuse_shared op's mount, attached at its stage, by the stage's name: a fuse_tree op
 * names the one it binds from (the trees of two daemons come in the view's order, mixed). */
#define MAX_SHARED 64
static struct { const char *stage; int mnt; } shared_fuse[MAX_SHARED];
static size_t n_shared_fuse;

/* One daemon for several trees: its mount of LOWER attached at STAGE (beneath ROOT, the store's
 * or the scratch dir: no symlink followed), in this namespace's host view, which the pivot
 * detaches. Attached, not kept detached: older kernels clone no tree of a detached mount. */
static void mount_fuse_shared(char *const *a) {
  /* fuse_shared BINARY ROOT STAGE LOWER UPPER WORK OPTIONS PRELOAD */
  char opts[16384];
  int errp[2];
  fuse_options(opts, sizeof opts, a + 3, a[3]);
  autoclose int rfd = open(a[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0) die_step("fuse-stage", a[1], errno);
  autoclose int stage = open_beneath(rfd, a[2], O_PATH | O_DIRECTORY);
  if (stage < 0) die_step("fuse-stage", a[2], errno);
  if (n_shared_fuse == MAX_SHARED) die_step("fuse-stage", a[2], E2BIG);
  fuse_prepare(a[3], errp);
  int mnt;
  int dev = mount_fuse_dev(a[3], &mnt);
  if (move_mount(mnt, "", stage, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) die_step("fuse-stage", a[2], errno);
  shared_fuse[n_shared_fuse].stage = a[2];
  shared_fuse[n_shared_fuse++].mnt = mnt;
  launch_fuse(a[0], a[3], a[3], opts, a[7], dev, errp);
}

/* REL (no symlink) of the shared daemon's mount at STAGE, as an O_PATH fd; -1 with errno
 * ENOENT when the host dir went since sbx planned. Its first lookup waits until the daemon
 * serves (or fails with ENOTCONN once a daemon that failed has closed the device). */
static int fuse_dir(const char *step, const char *dest, const char *stage, const char *rel) {
  int mnt = -1;
  for (size_t i = 0; i < n_shared_fuse; i++) if (!strcmp(shared_fuse[i].stage, stage)) mnt = shared_fuse[i].mnt;
  if (mnt < 0) die_step(step, dest, EBADF);
  int dir = open_beneath(mnt, rel, O_PATH | O_DIRECTORY);
  if (dir < 0 && errno != ENOENT) die_step(step, dest, errno);
  return dir;
}

/* REL of the shared daemon's mount at STAGE bound at DEST (a sandbox saved before fuse_lower). */
static void fuse_tree(const char *dest, const char *stage, const char *rel) {
  autoclose int dir = fuse_dir("fuse-tree", dest, stage, rel);
  /* Gone from the host since sbx planned: left as the empty stand-in, said after the run. */
  if (dir < 0) { status_send("warn", "overlay %d %s", ENOENT, dest); return; }
  autoclose int tree = open_tree(dir, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0 || attach_at(tree, dest) < 0) die_step("fuse-tree", dest, errno);
}

/* A kernel overlay at DEST over REL of the shared read-only daemon's mount at STAGE. The daemon
 * shows the host's files as root's (squash_to_root), which is an id of the user namespace, so
 * overlayfs can copy them up, and every write after that stays in the kernel: no round trip
 * to the daemon per file written (docs/architecture.md, "Overlay engines"). */
static void fuse_lower(char *const *a) {
  /* fuse_lower DEST STAGE REL UPPER WORK OPTIONS */
  autoclose int dir = fuse_dir("fuse-lower", a[0], a[1], a[2]);
  if (dir < 0) { status_send("warn", "overlay %d %s", ENOENT, a[0]); return; }
  char lower[64];
  snprintf(lower, sizeof lower, "/proc/self/fd/%d", dir);
  if (mount_overlay(a[0], lower, a[3], a[4], a[5], 0) < 0) die_step("overlay", a[0], errno);
}

/* The shared mounts' fds, once every tree is bound: no process of the sandbox (pid 1, the
 * command's init before its exec) keeps a way to the daemons' whole view of `/`. */
static void fuse_shared_close(void) {
  for (size_t i = 0; i < n_shared_fuse; i++) close(shared_fuse[i].mnt);
  n_shared_fuse = 0;
}

/* Each launcher's end, in the order they started: the first that failed is reported, with the
 * last line of its own that says something other than the option chatter. */
static void fuse_wait_all(void) {
  set_before_die(NULL);
  for (size_t i = 0; i < n_launches; i++) {
    const struct fuse_launch *l = &launches[i];
    char msg[4096];
    size_t len = 0;
    ssize_t r;
    /* The daemon keeps stderr open after the mount: read only what is there once the launcher exited. */
    int st;
    while (waitpid(l->pid, &st, 0) < 0) if (errno != EINTR) die_step("fuse-overlayfs", l->dest, errno);
    if (fcntl(l->err, F_SETFL, O_NONBLOCK) < 0) die_step("fuse-overlayfs", l->dest, errno);
    while (len < sizeof msg - 1 && (r = read(l->err, msg + len, sizeof msg - 1 - len)) > 0) len += (size_t)r;
    close(l->err);
    msg[len] = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      if (WIFEXITED(st) && WEXITSTATUS(st) == 127) die_step("fuse-overlayfs", l->binary, ENOENT);
      /* Its lower dir went after the check above (another program's temporary dir): said as
       * that path and ENOENT, so that sbx plans the view again from the host as it is now. */
      if (access(l->lower, F_OK) < 0 && errno == ENOENT) die_step("fuse-overlayfs", l->lower, ENOENT);
      char *last = NULL;
      for (char *save = NULL, *line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (!strstr(line, "unknown argument ignored")) last = line;
      char text[4200];
      snprintf(text, sizeof text, "%s: %s", l->dest, last ? last : "failed");
      die_msg("fuse-overlayfs", text);
    }
  }
  n_launches = 0;
}

/* Swaps the procfs at `dest` for one of the calling process's pid namespace. The new one is
 * created while the old is still visible (the kernel requires that in a user namespace), and
 * the old is detached rather than covered, so nothing can uncover it. */
void replace_proc(const char *dest) {
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
  switch (op->type) {
  case OP_WHITEOUT: return NULL;
  case OP_FUSE_SHARED: return NULL;
  case OP_SYMLINK: case OP_BIND: case OP_FUSE_OVERLAY: return op->args[1];
  default: return op->args[0];
  }
}

/* /proc must be mounted from the pid namespace it shows, so the command's init mounts it again
 * and applies everything below it. The kernel only lets a user namespace mount procfs where a
 * fully visible one already exists, so the sandbox's pid 1 mounts a bare one first. */
int is_proc_op(const struct spec_op *op) {
  const char *d = op_dest(op);
  return d && !strncmp(d, "/proc/", 6);
}

/* An O_PATH fd of the in-sandbox dir `path`, each missing component made (0755, owned like
 * the new root's `/`: root inside, whoever builds the view) on the one before it, which was
 * resolved in the new root. A loop, not recursion: any depth. */
static int open_dir_made(const char *path) {
  char pre[SBX_PATH_MAX];
  size_t n = strlen(path);
  if (n >= sizeof pre) { errno = ENAMETOOLONG; return -1; }
  int cur = open_dest("/", O_DIRECTORY);
  struct stat root;
  if (cur >= 0 && fstat(cur, &root) < 0) { int err = errno; close(cur); errno = err; return -1; }
  for (size_t i = 1; cur >= 0 && i <= n; i++) {
    if (i < n && path[i] != '/') continue;
    memcpy(pre, path, i);
    pre[i] = '\0';
    const char *comp = strrchr(pre, '/') + 1;
    if (!*comp) continue;
    int next = open_dest(pre, O_DIRECTORY);
    if (next < 0 && errno == ENOENT) {
      if (mkdirat(cur, comp, 0755) == 0) {
        if (fchownat(cur, comp, root.st_uid, root.st_gid, AT_SYMLINK_NOFOLLOW) == 0) next = open_beneath(cur, comp, O_PATH | O_DIRECTORY);
      } else if (errno == EEXIST) next = open_beneath(cur, comp, O_PATH | O_DIRECTORY);
    }
    int err = errno;
    close(cur);
    cur = next;
    errno = err;
  }
  return cur;
}

/* The bind's destination, made like its source (dir or empty file) on its resolved parent
 * when it does not exist (with the parent's missing dirs, when asked); an O_PATH fd of it. */
static int ensure_dest_like(int src, const char *src_arg, const char *dest, unsigned flags) {
  int fd = open_dest(dest, 0);
  if (fd >= 0 || errno != ENOENT) return fd;
  struct stat st;
  if (fstat(src, &st) < 0) die_step("bind", src_arg, errno);
  char parent[SBX_PATH_MAX];
  const char *name;
  if (split_last(dest, parent, sizeof parent, &name) < 0) die_step("bind", dest, errno);
  const char *up = *parent ? parent : "/";
  autoclose int pfd = flags & FLAG_PARENTS ? open_dir_made(up) : open_dest(up, O_DIRECTORY);
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

static int source_vanished(const char *src_arg, const char *dest_arg, unsigned flags, int tries);

static void bind_tries(const char *src_arg, const char *dest_arg, unsigned flags, int tries) {
  /* A source inside (a /proc entry bound onto itself read-only) is resolved in the new root like
   * any destination; a host source is the host path the user or sbx named. */
  autoclose int src = flags & FLAG_SRC_INSIDE ? open_dest(src_arg, 0) : open(src_arg, O_PATH | O_CLOEXEC);
  /* "optional": kernel files that may not exist on this kernel (masks over /proc entries). */
  if (flags & FLAG_OPTIONAL) {
    autoclose int probe = open_dest(dest_arg, 0);
    if (src < 0 || probe < 0) return;
  }
  if (src < 0 && source_vanished(src_arg, dest_arg, flags, tries)) return;
  if (src < 0) die_step(flags & FLAG_IDMAP ? "bind-idmap" : "bind", src_arg, errno);
  autoclose int dest = ensure_dest_like(src, src_arg, dest_arg, flags);
  if (dest < 0) die_step("bind", dest_arg, errno);
  int rec = !!(flags & FLAG_REC);
  /* A detached copy of the source, made read-only or idmapped before it is attached to the
   * destination fd: nothing walks the destination path again. */
  autoclose int tree = open_tree(src, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
  if (tree < 0 && source_vanished(src_arg, dest_arg, flags, tries)) return;
  if (tree < 0) die_step(flags & FLAG_IDMAP ? "bind-idmap" : "bind", src_arg, errno);
  struct mount_attr attr = { .attr_set = flags & FLAG_RO ? MOUNT_ATTR_RDONLY : 0 };
  if (flags & FLAG_NOSUID_NODEV) attr.attr_set |= MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (flags & FLAG_IDMAP) {
    /* Root's remapped sandboxes see bound host paths with their real owners. */
    attr.attr_set |= MOUNT_ATTR_IDMAP;
    attr.userns_fd = (uint64_t)idmap_userns_fd;
  }
  if (attr.attr_set && mount_setattr(tree, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
    die_step(flags & FLAG_IDMAP ? "bind-idmap" : "bind-readonly", src_arg, errno);
  if (move_mount(tree, "", dest, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
    if (source_vanished(src_arg, dest_arg, flags, tries)) return;
    die_step("bind", dest_arg, errno);
  }
}

/* A host file beside a mount point may be another program's temporary file: it can vanish
 * after sbx planned, between any two of the calls above, which then fail with ENOENT. Replaced
 * (renamed over), the new file is bound, a few times at most; gone, its empty stand-in is bound
 * onto itself instead, read-only as the file would have been, and sbx says so. */
static int source_vanished(const char *src_arg, const char *dest_arg, unsigned flags, int tries) {
  if (!(flags & FLAG_MAY_VANISH) || errno != ENOENT) return 0;
  if (tries > 0 && access(src_arg, F_OK) == 0) {
    bind_tries(src_arg, dest_arg, flags, tries - 1);
  } else {
    status_send("warn", "bind %d %s", ENOENT, dest_arg);
    bind_tries(dest_arg, dest_arg, (flags & ~FLAG_MAY_VANISH) | FLAG_SRC_INSIDE, 0);
  }
  return 1;
}

static void do_bind(const char *src_arg, const char *dest_arg, unsigned flags) {
  bind_tries(src_arg, dest_arg, flags, 3);
}

static void do_tmpfs(const char *dest_arg, const char *data, unsigned flags) {
  unsigned long mf = MS_NOSUID | MS_NODEV;
  if (flags & FLAG_NOEXEC) mf |= MS_NOEXEC;
  if (flags & FLAG_RO) mf |= MS_RDONLY;
  autoclose int dest = open_dest(dest_arg, 0);
  /* "optional": a cover for a path that may be absent inside (sbx's own dirs below a --hide). */
  if (dest < 0 && (flags & FLAG_OPTIONAL) && (errno == ENOENT || errno == ENOTDIR)) return;
  if (dest < 0) die_step("tmpfs", dest_arg, errno);
  char target[64];
  if (mount("tmpfs", fd_path(target, dest), "tmpfs", mf, data) < 0) die_step("tmpfs", dest_arg, errno);
}

/* Remount-ro, chown, chmod, proc and devpts act on the object their path resolves to in the new
 * root, the way binds and tmpfs do. */
static int dest_or_die(const char *step, const char *dest, int flags) {
  int fd = open_dest(dest, flags);
  if (fd < 0) die_step(step, dest, errno);
  return fd;
}

static void set_readonly_at(const char *step, const char *dest, int recursive) {
  autoclose int d = dest_or_die(step, dest, 0);
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
  if (mount_setattr(d, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0) die_step(step, dest, errno);
}

static void do_mkdir(const char *dest, mode_t mode) {
  const char *name;
  autoclose int parent = open_dest_parent(dest, &name);
  if (parent < 0) die_step("mkdir", dest, errno);
  if (mkdirat(parent, name, mode) < 0 && errno != EEXIST) die_step("mkdir", dest, errno);
  /* An existing symlink in its place is not followed to chmod what it points to. */
  autoclose int d = open_beneath(parent, name, O_RDONLY | O_DIRECTORY);
  if (d < 0 || fchmod(d, mode) < 0) die_step("mkdir-chmod", dest, errno);
}

static void do_symlink(const char *target, const char *dest) {
  const char *name;
  autoclose int parent = open_dest_parent(dest, &name);
  if (parent < 0 || (symlinkat(target, parent, name) < 0 && errno != EEXIST)) die_step("symlink", dest, errno);
}

static void mount_new(const char *fstype, const char *dest, unsigned long flags, const char *data) {
  autoclose int d = dest_or_die(fstype, dest, O_DIRECTORY);
  char p[64];
  if (mount(fstype, fd_path(p, d), fstype, flags, data) < 0) die_step(fstype, dest, errno);
}

void apply_fs_op(const struct spec_op *op) {
  char *const *a = op->args;
  char p[64];
  switch (op->type) {
  case OP_WHITEOUT:
    /* An overlay whiteout (char 0/0) in an upper layer: the path looks absent inside. It is
     * made beneath the layers root with openat2, never through a symlink the sandbox left. */
  {
    const char *step;
    if (make_whiteout_beneath(a[0], a[1], &step) < 0) die_step(step, a[1], errno);
    break;
  }
  case OP_MKDIR: do_mkdir(a[0], (mode_t)op->num[0]); break;
  case OP_SYMLINK: do_symlink(a[0], a[1]); break;
  case OP_LOWER:
    if (n_extra_lowers >= MAX_LOWERS) die_step("overlay", a[0], E2BIG);
    extra_lowers[n_extra_lowers++] = a[0];
    break;
  case OP_OVERLAY: do_overlay(a, op->flags); break;
  case OP_FUSE_OVERLAY: mount_fuse_overlay(a); break;
  case OP_FUSE_SHARED: mount_fuse_shared(a); break;
  case OP_FUSE_TREE: fuse_tree(a[0], a[1], a[2]); break;
  case OP_FUSE_LOWER: fuse_lower(a); break;
  case OP_BIND: do_bind(a[0], a[1], op->flags); break;
  case OP_TMPFS: do_tmpfs(a[0], a[1], op->flags); break;
  case OP_PROC: mount_new("proc", a[0], MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL); break;
  case OP_DEVPTS: mount_new("devpts", a[0], MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620"); break;
  case OP_REMOUNT_RO: set_readonly_at("remount-readonly", a[0], 0); break;
  case OP_RO_RECURSIVE: set_readonly_at("readonly-recursive", a[0], 1); break;
  case OP_CHOWN:
  {
    /* Like lchown: a symlink at the destination is changed itself, never followed. */
    autoclose int d = dest_or_die("chown", a[0], O_NOFOLLOW);
    if (fchownat(d, "", (uid_t)op->num[0], (gid_t)op->num[1], AT_EMPTY_PATH) < 0) die_step("chown", a[0], errno);
    break;
  }
  case OP_CHMOD:
  {
    autoclose int d = dest_or_die("chmod", a[0], 0);
    if (chmod(fd_path(p, d), (mode_t)op->num[0]) < 0) die_step("chmod", a[0], errno);
    break;
  }
  default:
    die_msg("spec", "op not valid here");
  }
}

void build_root(void) {
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die_step("make-private", "/", errno);
  if (cfg.disk_mount) disk_setup();
  /* Whiteouts are made in upper layers before anything is mounted over them. */
  for (size_t i = 0; i < cfg.n_fs_ops; i++)
    if (cfg.fs_ops[i]->type == OP_WHITEOUT) apply_fs_op(cfg.fs_ops[i]);
  for (size_t i = 0; i < cfg.n_fs_ops; i++)
    if (cfg.fs_ops[i]->type == OP_FUSE_OVERLAY || cfg.fs_ops[i]->type == OP_FUSE_SHARED) { make_daemons_namespace(); break; }
  if (mount("tmpfs", cfg.stage, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) die_step("stage", cfg.stage, errno);
  root_prefix = cfg.stage;
  times_mark("stage");
  for (size_t i = 0; i < cfg.n_fs_ops; i++)
    if (cfg.fs_ops[i]->type != OP_WHITEOUT && !is_proc_op(cfg.fs_ops[i])) {
      apply_fs_op(cfg.fs_ops[i]);
      times_mark(cfg.fs_ops[i]->name);
    }
  fuse_wait_all();
  fuse_shared_close();
  trees_release_all();
  times_mark("trees-released");
  if (chdir(cfg.stage) < 0) die_step("pivot", cfg.stage, errno);
  /* pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only ours. */
  if (syscall(SYS_pivot_root, ".", ".") < 0) die_step("pivot", cfg.stage, errno);
  if (umount2(".", MNT_DETACH) < 0) die_step("detach-old-root", "/", errno);
  if (chdir("/") < 0) die_step("pivot", "/", errno);
  root_prefix = "";
  times_mark("pivot");
}
