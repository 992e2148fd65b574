/* A fresh run's layer dirs (each layer's dir, its upper and work) and the skeletons' stand-in
 * tree, made by the outer process before anything uses them: sbx lists every entry in the
 * spec (kind, path below the layers dir, mode, owner, times, symlink target), in the order
 * to make them, and this file only makes them. Node pays ~15-25 us per fs call and ~11 calls
 * per layer (its paths go through /proc/self/fd); here each call is 1-2 us.
 *
 * The layers dir is sbx's own; what lies below it is resolved as hostile all the same: each
 * entry's parent with openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, the entry made with the
 * *at call that makes exactly that name (mkdirat, symlinkat, openat O_CREAT|O_EXCL|O_NOFOLLOW),
 * and its mode, owner and times set on an fd of it opened with O_NOFOLLOW, or, for a symlink,
 * with AT_SYMLINK_NOFOLLOW: a symlink planted anywhere on the way fails the step (ELOOP,
 * EEXIST), it is never followed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include "sandbox.h"

static char failed_path[SBX_PATH_MAX];

static void __attribute__((noreturn)) entry_fail(const char *step, const char *rel, int err) {
  snprintf(failed_path, sizeof failed_path, "%s/%s", cfg.layers_dir, rel);
  die_step(step, failed_path, err);
}

static struct timespec entry_time(unsigned long long sec, unsigned long long nsec) {
  if (sec == ENTRY_UNSET) return (struct timespec){ 0, UTIME_OMIT };
  return (struct timespec){ (time_t)(long long)sec, (long)nsec };
}

/* Owner, then mode, then times: the order sbx's own code uses (skeleton.ts), so a tree made
 * here is the one it would make; a chown clears a file's setuid and setgid bits, so the mode
 * comes after it. fd is the entry itself (not O_PATH); -1 for a symlink, set by name below
 * `parent`. */
static void set_attrs(const struct spec_op *op, int parent, const char *name, int fd) {
  const unsigned long long *n = op->num;
  const char *rel = op->args[1];
  if (n[2] != ENTRY_UNSET) {
    int r = fd >= 0 ? fchown(fd, (uid_t)n[2], (gid_t)n[3]) : fchownat(parent, name, (uid_t)n[2], (gid_t)n[3], AT_SYMLINK_NOFOLLOW);
    if (r < 0 && !((op->flags & FLAG_OWNER_OPTIONAL) && (errno == EINVAL || errno == EPERM))) entry_fail("entry-chown", rel, errno);
  }
  if (n[1] != ENTRY_UNSET && fchmod(fd, (mode_t)n[1]) < 0) entry_fail("entry-chmod", rel, errno);
  if (n[4] != ENTRY_UNSET || n[6] != ENTRY_UNSET) {
    struct timespec ts[2] = { entry_time(n[4], n[5]), entry_time(n[6], n[7]) };
    int r = fd >= 0 ? futimens(fd, ts) : utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW);
    if (r < 0) entry_fail("entry-times", rel, errno);
  }
}

/* FLAG_HOST_XATTRS: the host dir's user.* xattrs (not overlayfs's) and POSIX ACLs copied onto
 * the dir `fd` (made here, or by sbx for a layer it made itself: dir-attrs): a layer's upper
 * root, whose attributes the overlay's root shows, and its work dir, which the review
 * compares the root with (changes/walk.ts rootEntry). `from` is
 * "UIDBASE:GIDBASE:COUNT:/HOST": an ACL's named users and groups below COUNT are moved up by
 * the bases, as the run's id shift moves owners (0:0:0: none). A host dir we may not read, or
 * a name the layers' filesystem refuses, is left out, of both dirs alike. */
static void copy_host_xattrs(int fd, const char *from) {
  unsigned long long ub, gb, count;
  int at = 0;
  if (sscanf(from, "%llu:%llu:%llu:%n", &ub, &gb, &count, &at) != 3 || at == 0) return;
  autoclose int h = open(from + at, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (h < 0) return;
  static char names[65536], value[65536];
  ssize_t n = flistxattr(h, names, sizeof names);
  for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
    const char *name = names + i;
    int acl = strcmp(name, "system.posix_acl_access") == 0 || strcmp(name, "system.posix_acl_default") == 0;
    if (!acl && (strncmp(name, "user.", 5) != 0 || strncmp(name, "user.overlay.", 13) == 0 || strncmp(name, "user.fuseoverlayfs.", 19) == 0)) continue;
    ssize_t v = fgetxattr(h, name, value, sizeof value);
    if (v < 0) continue;
    /* struct posix_acl_xattr_entry after a 4-byte header: u16 tag, u16 perm, u32 id, little-endian. */
    for (ssize_t o = 4; acl && o + 8 <= v; o += 8) {
      unsigned char *e = (unsigned char *)value + o;
      unsigned tag = e[0] | (unsigned)e[1] << 8;
      unsigned long long id = e[4] | (unsigned long long)e[5] << 8 | (unsigned long long)e[6] << 16 | (unsigned long long)e[7] << 24;
      if ((tag != 0x02 && tag != 0x08) || id >= count) continue;
      id += tag == 0x02 ? ub : gb;
      for (int k = 0; k < 4; k++) e[4 + k] = (unsigned char)(id >> (8 * k));
    }
    (void)fsetxattr(fd, name, value, (size_t)v, 0);
  }
}

void make_entries(void) {
  if (!cfg.n_entries) return;
  autoclose int root = open(cfg.layers_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0) die_step("entry-layers-dir", cfg.layers_dir, errno);
  /* The parent of the last entry: most entries are a dir's first few children, in order. */
  char last[SBX_PATH_MAX] = "";
  int parent = -1;
  for (size_t i = 0; i < cfg.n_entries; i++) {
    const struct spec_op *op = cfg.entries[i];
    const char *rel = op->args[1], *name;
    char dir[SBX_PATH_MAX];
    if (split_last(rel, dir, sizeof dir, &name) < 0) entry_fail("entry-path", rel, errno);
    /* A layer's own dir is in the layers dir itself: no parent to open. */
    if (!dir[0]) {
      if (parent >= 0 && parent != root) close(parent);
      parent = root;
      last[0] = 0;
    } else if (parent < 0 || strcmp(dir, last) != 0) {
      if (parent >= 0 && parent != root) close(parent);
      parent = open_beneath(root, dir, O_PATH | O_DIRECTORY);
      if (parent < 0) entry_fail("entry-parent", rel, errno);
      memcpy(last, dir, strlen(dir) + 1);
    }
    int fd = -1;
    switch ((enum entry_kind)op->num[0]) {
    case ENTRY_DIR:
      if (mkdirat(parent, name, 0700) < 0) entry_fail("entry-mkdir", rel, errno);
      /* Nothing to set: no need to open it. */
      if (op->num[1] == ENTRY_UNSET && op->num[2] == ENTRY_UNSET && op->num[4] == ENTRY_UNSET && op->num[6] == ENTRY_UNSET && !(op->flags & (FLAG_OPAQUE | FLAG_HOST_XATTRS))) continue;
      /* fallthrough */
    case ENTRY_DIR_ATTRS:
      fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) entry_fail("entry-open", rel, errno);
      break;
    case ENTRY_FILE:
      fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0) entry_fail("entry-file", rel, errno);
      break;
    case ENTRY_FILE_ATTRS: {
      /* A regular file sbx wrote itself (a stand-in's copy): opened for its attributes only. */
      struct stat st;
      fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
      if (fd < 0) entry_fail("entry-open", rel, errno);
      if (fstat(fd, &st) < 0) entry_fail("entry-stat", rel, errno);
      if (!S_ISREG(st.st_mode)) entry_fail("entry-open", rel, EINVAL);
      break;
    }
    case ENTRY_SYMLINK:
      if (symlinkat(op->args[7], parent, name) < 0) entry_fail("entry-symlink", rel, errno);
      break;
    }
    /* A dir shown empty in a kernel overlay's upper: the mark before its times are set. */
    if ((op->flags & FLAG_OPAQUE) && fsetxattr(fd, "user.overlay.opaque", "y", 1, 0) < 0) entry_fail("entry-opaque", rel, errno);
    if (op->flags & FLAG_HOST_XATTRS) copy_host_xattrs(fd, op->args[7]);
    set_attrs(op, parent, name, fd);
    /* Last: the mode and times set above moved its ctime. sbx records both (the review knows
     * an unwritten copy by them: changes/walk.ts), as it does for a copy it makes itself. */
    if (op->flags & FLAG_REPORT) {
      struct stat st;
      if (fstat(fd, &st) < 0) entry_fail("entry-stat", rel, errno);
      status_send("entry-made", "%llu %lld %ld %s", (unsigned long long)st.st_ino, (long long)st.st_ctim.tv_sec, (long)st.st_ctim.tv_nsec, rel);
    }
    if (fd >= 0) close(fd);
  }
  if (parent >= 0 && parent != root) close(parent);
}
