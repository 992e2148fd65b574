/* sbx-helper xattr: the few file-metadata system calls Node lacks (extended attributes and
 * mknod, SEEK_DATA/SEEK_HOLE, syncfs), used in batches by sandbox-core/changes and
 * sandbox-core/commit.
 *
 * Paths arrive on stdin as raw bytes (never argv: names may be invalid UTF-8) and are
 * NUL-terminated. Integers are 32-bit little-endian. Nothing here follows a symlink in the
 * last path component: l*xattr for reads, O_NOFOLLOW + f*xattr for writes. The caller
 * (TypeScript) has already checked every parent component with lstat.
 *
 *   xattr get
 *     in:  path\0 path\0 ...
 *     out: per path, in order: u32 errno (0 = ok; then) u32 count,
 *          count x (u32 namelen, name bytes, u32 valuelen, value bytes)
 *          ENOTSUP/ENODATA are reported as ok with count 0.
 *   xattr set
 *     in:  per file: path\0 u32 count, count x (name\0 u32 valuelen value)
 *     out: per file, in order: u32 errno of the first failure (0 = all set)
 *   xattr unset
 *     in:  per file: path\0 u32 count, count x name\0
 *     out: per file, in order: u32 errno of the first failure (0 = all gone; an attribute
 *          already absent, ENODATA, is not a failure)
 *   xattr mknod fifo|socket|whiteout
 *     in:  path\0 ...   (created mode 0600; whiteout = char device 0/0, allowed
 *                        without privileges since Linux 5.8)
 *     out: per path: u32 errno
 *
 *   xattr --beneath [--fence=MNT:HEXPATH ...] OP ...
 *     the same, with every path relative to the directory on fd 3 and resolved one
 *     component at a time without following any symlink (beneath.c), at any depth; with
 *     fences (a commit's layer trees, hex-encoded, and the mount each was on), a directory
 *     on the way that is on another mount than its tree's fails with EXDEV
 *   xattr --beneath stage        (see stage_main: commit's batch of new files, holes kept)
 *   xattr --beneath times        (see times_main: atime and mtime to the nanosecond, any sign)
 *   xattr --beneath stage|times --then-syncfs
 *     the request begins with u32 N and N dirs (dir\0, below the op's destination root);
 *     once every item is done, each dir's filesystem is synced and N u32 errnos follow the
 *     items' answers: a commit's writes and the sync that makes them durable in one start
 *
 * Exit status: 0 when the protocol completed (per-path errors are in the output), 2 on a
 * malformed request or I/O error, with one line on stderr naming the path and errno. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"
#include "beneath.h"

/* With --beneath, every path is relative to the directory on fd 3 and resolved one component
 * at a time with no symlink followed (beneath.c), at any depth. */
static struct beneath root_b;
static struct beneath *B;
/* --fence: the host root's layer trees and their mounts during a commit (beneath.h). */
static struct beneath_fence *fences;
static size_t nfences;

/* The path a call should use: as given, or /proc/self/fd/N/name below fd 3. */
static const char *resolve(const char *path, char *buf, size_t len) {
  return B ? beneath_at(B, path, buf, len) : path;
}


static int fail(const char *what, const char *path, int err) {
  fprintf(stderr, "sbx-helper xattr: %s%s%s: %s\n", what, path ? " " : "", path ? path : "", strerror(err));
  return 2;
}

/* Appends one path's record; grows the list/value buffers as attributes appear. */
static int get_one(const char *path, struct buf *out, struct buf *names, struct buf *val) {
  ssize_t n;
  for (;;) {
    n = llistxattr(path, names->p, names->cap);
    if (n >= 0) break;
    if (errno == ERANGE) {
      ssize_t need = llistxattr(path, NULL, 0);
      if (need < 0) break;
      if (buf_reserve(names, (size_t)need + 1) < 0) return -1;
      continue;
    }
    break;
  }
  if (n < 0) {
    int e = errno;
    if (e == ENOTSUP || e == ENODATA) return buf_put32(out, 0) | buf_put32(out, 0);
    return buf_put32(out, (uint32_t)e);
  }
  uint32_t count = 0;
  for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names->p + i) + 1) count++;
  if (buf_put32(out, 0) < 0 || buf_put32(out, count) < 0) return -1;
  for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names->p + i) + 1) {
    const char *name = names->p + i;
    ssize_t v;
    for (;;) {
      v = lgetxattr(path, name, val->p, val->cap);
      if (v >= 0 || errno != ERANGE) break;
      ssize_t need = lgetxattr(path, name, NULL, 0);
      if (need < 0) break;
      if (buf_reserve(val, (size_t)need + 1) < 0) return -1;
    }
    if (v < 0) v = 0; /* removed between list and get: report it empty rather than lose the record shape */
    size_t nl = strlen(name);
    if (buf_put32(out, (uint32_t)nl) < 0 || buf_put(out, name, nl) < 0 ||
        buf_put32(out, (uint32_t)v) < 0 || buf_put(out, val->p, (size_t)v) < 0)
      return -1;
  }
  return 0;
}

static int cmd_get(const struct buf *in, struct buf *out) {
  struct buf names = {0}, val = {0};
  if (buf_reserve(&names, 4096) < 0 || buf_reserve(&val, 4096) < 0) return fail("out of memory", NULL, ENOMEM);
  size_t off = 0;
  while (off < in->len) {
    const char *path = next_str(in, &off);
    if (!path) return fail("malformed request", NULL, EINVAL);
    char buf[320];
    const char *at = resolve(path, buf, sizeof buf);
    if (!at) {
      if (buf_put32(out, (uint32_t)errno) < 0) return fail("out of memory at", path, ENOMEM);
      continue;
    }
    if (get_one(at, out, &names, &val) < 0) return fail("out of memory at", path, ENOMEM);
  }
  free(names.p);
  free(val.p);
  return 0;
}

/* Opens without following a final symlink; symlinks and sockets (which cannot be opened)
 * fall back to the l* call on the path. */
static int set_one(const char *rel, const char *name, const char *value, size_t vlen) {
  char buf[320];
  const char *path = resolve(rel, buf, sizeof buf);
  if (!path) return errno;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno != ELOOP && errno != ENXIO) return errno;
    return lsetxattr(path, name, value, vlen, 0) < 0 ? errno : 0;
  }
  int r = fsetxattr(fd, name, value, vlen, 0) < 0 ? errno : 0;
  close(fd);
  return r;
}

/* As set_one: the entry opened without following it; symlinks and sockets by path. */
static int unset_one(const char *rel, const char *name) {
  char buf[320];
  const char *path = resolve(rel, buf, sizeof buf);
  if (!path) return errno;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  int r;
  if (fd < 0) {
    if (errno != ELOOP && errno != ENXIO) return errno;
    r = lremovexattr(path, name) < 0 ? errno : 0;
  } else {
    r = fremovexattr(fd, name) < 0 ? errno : 0;
    close(fd);
  }
  return r == ENODATA ? 0 : r;
}

/* `set` (each name with its value) and `unset` (names alone): one result per path, its first
 * error (0 when every name was set or was already absent). */
static int cmd_set_or_unset(const struct buf *in, struct buf *out, int unset) {
  size_t off = 0;
  while (off < in->len) {
    const char *path = next_str(in, &off);
    uint32_t count;
    if (!path || next_u32(in, &off, &count) < 0) return fail("malformed request", NULL, EINVAL);
    uint32_t first_err = 0;
    for (uint32_t i = 0; i < count; i++) {
      const char *name = next_str(in, &off);
      uint32_t vlen = 0;
      if (!name || (!unset && (next_u32(in, &off, &vlen) < 0 || in->len - off < vlen))) return fail("malformed request for", path, EINVAL);
      int e = unset ? unset_one(path, name) : set_one(path, name, in->p + off, vlen);
      off += vlen;
      if (e && !first_err) {
        first_err = (uint32_t)e;
        if (!unset) fprintf(stderr, "sbx-helper xattr: set %s on %s: %s\n", name, path, strerror(e));
      }
    }
    if (buf_put32(out, first_err) < 0) return fail("out of memory at", path, ENOMEM);
  }
  return 0;
}

static int cmd_mknod(const char *kind, const struct buf *in, struct buf *out) {
  mode_t type;
  dev_t dev = 0;
  if (strcmp(kind, "fifo") == 0) type = S_IFIFO;
  else if (strcmp(kind, "socket") == 0) type = S_IFSOCK;
  else if (strcmp(kind, "whiteout") == 0) { type = S_IFCHR; dev = makedev(0, 0); }
  else return fail("unknown mknod kind", kind, EINVAL);
  size_t off = 0;
  while (off < in->len) {
    const char *path = next_str(in, &off);
    if (!path) return fail("malformed request", NULL, EINVAL);
    char buf[320];
    const char *at = resolve(path, buf, sizeof buf);
    int e = !at ? errno : mknod(at, type | 0600, dev) < 0 ? errno : 0;
    if (buf_put32(out, (uint32_t)e) < 0) return fail("out of memory at", path, ENOMEM);
  }
  return 0;
}

/* Copies the bytes of [from, to) from s to d at the same offsets. */
static int copy_range(int s, int d, off_t from, off_t to, int *use_cfr, uint64_t *copied) {
  static char buf[1 << 20];
  loff_t in = from, outo = from;
  while (in < to) {
    ssize_t n = -1;
    if (*use_cfr) {
      n = copy_file_range(s, &in, d, &outo, (size_t)(to - in), 0);
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP || errno == EBADF)) *use_cfr = 0;
      else if (n < 0 && errno == EINTR) continue;
      else if (n < 0) return -1;
    }
    if (!*use_cfr) {
      size_t want = (size_t)(to - in) < sizeof buf ? (size_t)(to - in) : sizeof buf;
      n = pread(s, buf, want, in);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return -1;
      for (ssize_t w = 0; w < n;) {
        ssize_t k = pwrite(d, buf + w, (size_t)(n - w), in + w);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return -1;
        w += k;
      }
      in += n;
      outo = in;
    }
    if (n == 0) break; /* the source shrank: the size is set below */
    *copied += (uint64_t)n;
  }
  return 0;
}

/* Copies a regular file keeping its holes: only the data extents are read and written
 * (SEEK_DATA/SEEK_HOLE), the rest stays unallocated. The caller sets the size when the
 * copy ends short of it (a trailing hole, or a source that shrank). A file with as many
 * blocks as bytes has no hole to keep: it is copied whole, without the two lseeks. */
static int copy_sparse(int s, int d, const struct stat *st, uint64_t *copied) {
  int use_cfr = 1;
  off_t pos = 0, size = st->st_size;
  if ((off_t)st->st_blocks * 512 >= size) return size ? copy_range(s, d, 0, size, &use_cfr, copied) : 0;
  while (pos < size) {
    off_t data = lseek(s, pos, SEEK_DATA);
    if (data < 0 && errno == ENXIO) break; /* a hole up to the end */
    if (data < 0) return copy_range(s, d, pos, size, &use_cfr, copied);
    if (data >= size) break;
    off_t hole = lseek(s, data, SEEK_HOLE);
    if (hole < 0 || hole > size) hole = size;
    if (copy_range(s, d, data, hole, &use_cfr, copied) < 0) return -1;
    pos = hole;
  }
  return 0;
}

/* The flags in `mask` (the caller's choice of chattr's flags) of the regular file `name` in
 * `dir`, onto the staged copy `d` before its data: compression and no-COW apply only to what
 * is written after. 0 or an errno. Nothing but a regular file is opened (a device's or a
 * FIFO's open may act); a filesystem without inode flags has none to carry. */
static int carry_inode_flags(int dir, const char *name, int d, uint32_t mask) {
  struct stat st;
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return errno == ENOENT ? 0 : errno;
  if (!S_ISREG(st.st_mode)) return 0;
  int t = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (t < 0) return errno;
  int host = 0, mine = 0, e = ioctl(t, FS_IOC_GETFLAGS, &host) < 0 ? errno : 0;
  close(t);
  if (e) return e == ENOTTY || e == EOPNOTSUPP ? 0 : e;
  if (!(host & (int)mask)) return 0;
  if (ioctl(d, FS_IOC_GETFLAGS, &mine) < 0) return errno;
  int want = (mine & ~(int)mask) | (host & (int)mask);
  return want == mine || ioctl(d, FS_IOC_SETFLAGS, &want) == 0 ? 0 : errno;
}

/* syncfs of the filesystem holding `dir` (below b's root, no symlink followed): its errno, 0
 * when synced, appended to out. Nonzero: out of memory (said). */
static int sync_one(struct beneath *b, const char *dir, struct buf *out) {
  int e = 0;
  int parent = beneath_dir(b, dir, strlen(dir));
  int fd = parent < 0 ? -1 : openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) e = errno;
  else {
    if (syncfs(fd) < 0) e = errno;
    close(fd);
  }
  return buf_put32(out, (uint32_t)e) < 0 ? fail("out of memory at", dir, ENOMEM) : 0;
}

/* --then-syncfs: the dirs at the head of the request, synced after the op's items. */
struct sync_dirs {
  uint32_t n;
  size_t at;
};

/* Reads the head (u32 N, N x dir\0) and leaves *off at the first item. */
static int sync_dirs_read(const struct buf *in, size_t *off, struct sync_dirs *s) {
  if (next_u32(in, off, &s->n) < 0) return fail("malformed request", NULL, EINVAL);
  s->at = *off;
  for (uint32_t i = 0; i < s->n; i++)
    if (!next_str(in, off)) return fail("malformed request", NULL, EINVAL);
  return 0;
}

static int sync_dirs_run(struct beneath *b, const struct buf *in, const struct sync_dirs *s, struct buf *out) {
  size_t off = s->at;
  for (uint32_t i = 0; i < s->n; i++) {
    int r = sync_one(b, next_str(in, &off), out);
    if (r) return r;
  }
  return 0;
}

enum { ST_OK, ST_OPEN_SOURCE, ST_SOURCE_CHANGED, ST_CREATE, ST_COPY, ST_OWNER, ST_XATTR, ST_MODE, ST_TIMES };

/* xattr --beneath stage: writes each new file beside its target, unsynced unless asked
 * (--then-syncfs: the caller makes them durable, one syncfs per filesystem, before it renames
 * anything).
 *   fd 3: root of the sources (the sandbox's layers), fd 4: root of the destinations ("/")
 *   in, per file: src\0 dst\0 like\0 u32 uid, u32 gid, u32 perm, u64 ino, u64 dev, i64 atime_s,
 *        u32 atime_ns, i64 mtime_s, u32 mtime_ns, u32 flags_mask, u32 count,
 *        count x (name\0 u32 len, value)
 *   out, per file: u32 errno, u32 step (ST_*), u32 owner_not_kept, u32 xattr_errno,
 *        u32 flags_errno, u64 bytes
 * `like`: the file the copy replaces, a name in dst's dir (empty: none); its inode flags in
 * flags_mask are given to the copy (a new inode has none of the old one's).
 * The source must still be the inode the review saw (ino, dev); the destination is created
 * with O_EXCL, so an existing name, even a dangling symlink, fails. */
static int stage_main(const struct buf *in, size_t off, const struct sync_dirs *sync, struct buf *out) {
  struct beneath dst_b;
  beneath_init(&dst_b, 4);
  beneath_fence(&dst_b, fences, nfences);
  while (off < in->len) {
    const char *src = next_str(in, &off), *dst = next_str(in, &off), *like = next_str(in, &off);
    uint32_t uid, gid, perm, ans, mns, mask, count;
    uint64_t ino, dev;
    int64_t as, ms;
    if (!src || !dst || next_u32(in, &off, &uid) < 0 || next_u32(in, &off, &gid) < 0 || next_u32(in, &off, &perm) < 0 ||
        next_u64(in, &off, &ino) < 0 || next_u64(in, &off, &dev) < 0 || next_i64(in, &off, &as) < 0 ||
        next_u32(in, &off, &ans) < 0 || next_i64(in, &off, &ms) < 0 || next_u32(in, &off, &mns) < 0 ||
        next_u32(in, &off, &mask) < 0 || next_u32(in, &off, &count) < 0 || !like)
      return fail("malformed request", NULL, EINVAL);
    size_t xattrs_at = off;
    for (uint32_t i = 0; i < count; i++) {
      uint32_t vl;
      if (!next_str(in, &off) || next_u32(in, &off, &vl) < 0 || in->len - off < vl) return fail("malformed request for", dst, EINVAL);
      off += vl;
    }
    int err = 0, step = ST_OK, owner_lost = 0, xerr = 0, ferr = 0, s = -1, d = -1, ddir = -1;
    uint64_t copied = 0;
    const char *sname, *dname;
    struct stat st, dst_st;
    int sdir = beneath_parent(B, src, &sname);
    /* O_NOATIME: reading the copy moved its atime (relatime), and a commit killed after this
     * staged its file again with the moved one; refused on a file not ours without CAP_FOWNER. */
    if (sdir >= 0 && (s = openat(sdir, sname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOATIME)) < 0 && errno == EPERM)
      s = openat(sdir, sname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (sdir < 0 || s < 0) { err = errno; step = ST_OPEN_SOURCE; goto done; }
    if (fstat(s, &st) < 0) { err = errno; step = ST_OPEN_SOURCE; goto done; }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_ino != ino || (uint64_t)st.st_dev != dev) { err = ESTALE; step = ST_SOURCE_CHANGED; goto done; }
    ddir = beneath_parent(&dst_b, dst, &dname);
    if (ddir < 0 || (d = openat(ddir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) { err = errno; step = ST_CREATE; d = -1; goto done; }
    if (mask && *like) ferr = carry_inode_flags(ddir, like, d, mask);
    if (copy_sparse(s, d, &st, &copied) < 0) { err = errno; step = ST_COPY; goto done; }
    if (fstat(d, &dst_st) < 0) { err = errno; step = ST_COPY; goto done; }
    if (dst_st.st_size != st.st_size && ftruncate(d, st.st_size) < 0) { err = errno; step = ST_COPY; goto done; }
    /* chown first: it clears setuid bits, and the mode below is the one asked for. */
    if ((dst_st.st_uid != uid || dst_st.st_gid != gid) && fchown(d, uid, gid) < 0) {
      if (errno != EPERM && errno != EINVAL) { err = errno; step = ST_OWNER; goto done; }
      owner_lost = 1;
    }
    size_t xo = xattrs_at;
    for (uint32_t i = 0; i < count; i++) {
      const char *name = next_str(in, &xo);
      uint32_t vl = 0;
      next_u32(in, &xo, &vl);
      if (fsetxattr(d, name, in->p + xo, vl, 0) < 0 && !xerr) xerr = errno;
      xo += vl;
    }
    if (fchmod(d, perm) < 0) { err = errno; step = ST_MODE; goto done; }
    struct timespec ts[2] = {{(time_t)as, (long)ans}, {(time_t)ms, (long)mns}};
    if (futimens(d, ts) < 0) { err = errno; step = ST_TIMES; goto done; }
  done:
    if (s >= 0) close(s);
    if (d >= 0) close(d);
    if (err && step > ST_CREATE) unlinkat(ddir, dname, 0);
    if (buf_put32(out, (uint32_t)err) < 0 || buf_put32(out, (uint32_t)step) < 0 || buf_put32(out, (uint32_t)owner_lost) < 0 ||
        buf_put32(out, (uint32_t)xerr) < 0 || buf_put32(out, (uint32_t)ferr) < 0 || buf_put64(out, copied) < 0)
      return fail("out of memory at", dst, ENOMEM);
  }
  int r = sync_dirs_run(&dst_b, in, sync, out);
  beneath_close(&dst_b);
  return r;
}

/* xattr --beneath times: sets each entry's atime and mtime as given, to the nanosecond and of
 * any sign (Node's utimes takes seconds as a double, keeps microseconds and makes a negative
 * time the current one).
 *   fd 3: root of the paths ("/")
 *   in, per entry: path\0 u64 ino, u64 dev, i64 atime_s, u32 atime_ns, i64 mtime_s, u32 mtime_ns
 *   out, per entry: u32 errno (ESTALE: the name no longer holds that inode)
 * The entry is opened O_PATH without following it (a symlink gets its own times) and must be
 * the inode the caller worked on, so a name swapped since is refused rather than changed. */
static int times_main(const struct buf *in, size_t off, const struct sync_dirs *sync, struct buf *out) {
  while (off < in->len) {
    const char *path = next_str(in, &off), *name;
    uint64_t ino, dev;
    int64_t as, ms;
    uint32_t ans, mns;
    if (!path || next_u64(in, &off, &ino) < 0 || next_u64(in, &off, &dev) < 0 || next_i64(in, &off, &as) < 0 ||
        next_u32(in, &off, &ans) < 0 || next_i64(in, &off, &ms) < 0 || next_u32(in, &off, &mns) < 0)
      return fail("malformed request", NULL, EINVAL);
    int e = 0, parent = beneath_parent(B, path, &name), fd = -1;
    struct stat st;
    struct timespec ts[2] = {{(time_t)as, (long)ans}, {(time_t)ms, (long)mns}};
    if (parent < 0 || (fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) e = errno;
    else if ((uint64_t)st.st_ino != ino || (uint64_t)st.st_dev != dev) e = ESTALE;
    /* Before Linux 5.8 utimensat takes no AT_EMPTY_PATH: by name, the inode just checked. */
    else if (utimensat(fd, "", ts, AT_EMPTY_PATH) < 0 && (errno != EINVAL || utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW) < 0)) e = errno;
    if (fd >= 0) close(fd);
    if (buf_put32(out, (uint32_t)e) < 0) return fail("out of memory at", path, ENOMEM);
  }
  return sync_dirs_run(B, in, sync, out);
}

int xattr_main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--beneath") == 0) {
    beneath_init(&root_b, 3);
    B = &root_b;
    argc--;
    argv++;
    if (beneath_fence_args(&argc, &argv, &fences, &nfences) < 0) return fail("bad --fence", NULL, errno);
    /* stage's root on fd 3 is the layers': its fences go with the destinations' (fd 4). */
    if (argc >= 2 && strcmp(argv[1], "stage") != 0) beneath_fence(&root_b, fences, nfences);
  }
  if (argc < 2 || (strcmp(argv[1], "mknod") == 0 && argc < 3)) {
    fprintf(stderr, "usage: sbx-helper xattr [--beneath [--fence=MNT:HEXPATH ...]] get | set | unset | mknod fifo|socket|whiteout | stage | times [--then-syncfs]  (paths on stdin, see native/xattr.c)\n");
    return 2;
  }
  struct buf in = {0}, out = {0};
  if (buf_read_fd(&in, 0) < 0) return fail("reading stdin", NULL, errno);
  int r;
  struct sync_dirs sync = {0, 0};
  size_t off = 0;
  if (argc >= 3 && strcmp(argv[2], "--then-syncfs") == 0 && (strcmp(argv[1], "stage") == 0 || strcmp(argv[1], "times") == 0)) {
    if (sync_dirs_read(&in, &off, &sync)) return 2;
  }
  if (strcmp(argv[1], "get") == 0) r = cmd_get(&in, &out);
  else if (strcmp(argv[1], "set") == 0) r = cmd_set_or_unset(&in, &out, 0);
  else if (strcmp(argv[1], "unset") == 0) r = cmd_set_or_unset(&in, &out, 1);
  else if (strcmp(argv[1], "mknod") == 0) r = cmd_mknod(argv[2], &in, &out);
  else if (strcmp(argv[1], "stage") == 0 && B) r = stage_main(&in, off, &sync, &out);
  else if (strcmp(argv[1], "times") == 0 && B) r = times_main(&in, off, &sync, &out);
  else return fail("unknown subcommand", argv[1], EINVAL);
  if (r == 0 && write_all(1, out.p ? out.p : "", out.len) < 0) r = fail("writing stdout", NULL, errno);
  free(in.p);
  free(out.p);
  return r;
}

#ifdef XATTR_STANDALONE
int main(int argc, char **argv) { return xattr_main(argc - 1, argv + 1); }
#endif
