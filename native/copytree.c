/* Copies a directory tree between two open directories without following any symlink:
 * files (holes kept), directories, symlinks, device nodes (overlay whiteouts are char 0/0),
 * fifos and sockets, with owners, modes, times, xattrs and hard links. Used by --disk to move
 * the sandbox's layers onto a size-limited tmpfs and back, so the source is whatever the
 * sandboxed command left there: any depth, any name length, any file size.
 *
 * Every call is relative to a directory fd (no path is ever longer than one name), the walk
 * keeps an explicit stack instead of recursing, and only the innermost FD_WINDOW levels keep
 * their fds open: a level whose fds were closed is reopened through ".." from its child and
 * checked to be the same inode, so a 100,000-level chain costs memory, not fds. */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <linux/limits.h>
#include "helper.h"

#define FD_WINDOW 32

struct link_seen { dev_t dev; ino_t ino; char *rel; };

/* One directory being copied: its entries were read when it was entered. */
struct frame {
  char **names; size_t n, next;
  unsigned char *types;   /* a removal's: each name's d_type (DT_UNKNOWN where not given) */
  int src, dst;           /* -1 while closed to bound the fds */
  struct stat sst, dst_st; /* identity of both sides, for reopening through ".." */
  int sst_later;          /* a removal's: sst is taken when src is closed, if ever */
  size_t rel_len;         /* length of the relative path of this directory */
};

struct copy_ctx {
  int dst_root;
  struct frame *stack; size_t depth, cap;
  char *rel; size_t rel_len, rel_cap; /* relative path of the entry being copied */
  struct link_seen *links; size_t nlinks, caplinks;
  char *failed; int failed_errno;
};

static int fail(struct copy_ctx *c, int err) {
  if (!c->failed_errno) {
    c->failed_errno = err ? err : EIO;
    c->failed = strndup(c->rel ? c->rel : "", c->rel ? c->rel_len : 0);
  }
  return -1;
}

/* Sets the relative path to the current directory's plus `name`. */
static int rel_set(struct copy_ctx *c, size_t base, const char *name) {
  size_t nl = strlen(name), need = base + 1 + nl + 1;
  if (need > c->rel_cap) {
    size_t cap = c->rel_cap ? c->rel_cap : 256;
    while (cap < need) cap *= 2;
    char *r = realloc(c->rel, cap);
    if (!r) return -1;
    c->rel = r;
    c->rel_cap = cap;
  }
  size_t at = base;
  if (base) c->rel[at++] = '/';
  memcpy(c->rel + at, name, nl + 1);
  c->rel_len = at + nl;
  return 0;
}

static char xattr_names[XATTR_LIST_MAX], xattr_value[XATTR_SIZE_MAX];

static int copy_xattrs(int src, int dst) {
  ssize_t n = flistxattr(src, xattr_names, sizeof xattr_names);
  if (n < 0) return errno == ENOTSUP ? 0 : -1;
  for (char *name = xattr_names; name < xattr_names + n; name += strlen(name) + 1) {
    ssize_t v = fgetxattr(src, name, xattr_value, sizeof xattr_value);
    if (v < 0) return -1;
    /* Some namespaces cannot be set here (security.*, trusted.* in a user namespace): the
     * overlay's own markers live in user.* when mounted with userxattr. */
    if (fsetxattr(dst, name, xattr_value, (size_t)v, 0) < 0 && errno != EPERM && errno != ENOTSUP) return -1;
  }
  return 0;
}

static int finish_fd(int fd, const struct stat *st) {
  if (fchown(fd, st->st_uid, st->st_gid) < 0 && errno != EPERM && errno != EINVAL) return -1;
  if (fchmod(fd, st->st_mode & 07777) < 0) return -1;
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  return futimens(fd, ts);
}

static int finish_at(int dir, const char *name, const struct stat *st) {
  if (fchownat(dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM && errno != EINVAL) return -1;
  if (!S_ISLNK(st->st_mode) && fchmodat(dir, name, st->st_mode & 07777, 0) < 0) return -1;
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  return utimensat(dir, name, ts, AT_SYMLINK_NOFOLLOW);
}

static int copy_range(int in, int out, off_t off, off_t len) {
  static char buf[1 << 16];
  static int no_cfr; /* between these two filesystems the kernel has no copy_file_range */
  while (len > 0) {
    loff_t oi = off, oo = off;
    ssize_t n = -1;
    if (!no_cfr) {
      n = copy_file_range(in, &oi, out, &oo, (size_t)(len < (1 << 30) ? len : (1 << 30)), 0);
      if (n < 0 && errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) return -1;
      if (n < 0) no_cfr = 1;
    }
    if (n < 0) {
      ssize_t r = pread(in, buf, (size_t)(len < (off_t)sizeof buf ? len : (off_t)sizeof buf), off);
      if (r < 0) return -1;
      n = r;
      for (ssize_t w = 0; w < r;) {
        ssize_t k = pwrite(out, buf + w, (size_t)(r - w), off + w);
        if (k < 0) return -1;
        w += k;
      }
    }
    if (n == 0) return 0; /* the file shrank: ftruncate below gives it its size */
    off += n;
    len -= n;
  }
  return 0;
}

/* Only the data extents are copied: a 3 GB file with nothing in it stays 3 GB of hole, on the
 * tmpfs (where --disk counts blocks) and back in the store. */
static int copy_data(int in, int out, off_t size) {
  off_t pos = 0;
  while (pos < size) {
    off_t data = lseek(in, pos, SEEK_DATA), hole;
    if (data < 0 && errno == ENXIO) break; /* the rest is a hole */
    if (data < 0) {
      if (errno != EINVAL && errno != EOPNOTSUPP) return -1;
      data = pos; /* no SEEK_DATA here: copy everything */
      hole = size;
    } else {
      hole = lseek(in, data, SEEK_HOLE);
      if (hole < 0) return -1;
    }
    if (hole > size) hole = size;
    if (copy_range(in, out, data, hole - data) < 0) return -1;
    pos = hole;
  }
  return ftruncate(out, size);
}

/* Opens the parent directory of `rel` (below root) one component at a time, never following a
 * symlink; *last gets the final name. The caller closes the fd. */
static int open_parent_beneath(int root, char *rel, char **last) {
  int fd = dup(root);
  if (fd < 0) return -1;
  char *p = rel;
  for (char *slash; (slash = strchr(p, '/'));) {
    *slash = 0;
    int next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    *slash = '/';
    int e = errno;
    close(fd);
    if (next < 0) { errno = e; return -1; }
    fd = next;
    p = slash + 1;
  }
  *last = p;
  return fd;
}

/* A second name of an inode already copied becomes a hard link to the copy. 1: linked,
 * 0: first time seen (remembered), -1: error. */
static int link_if_seen(struct copy_ctx *c, const struct stat *st, int dst, const char *name) {
  for (size_t i = 0; i < c->nlinks; i++) {
    if (c->links[i].dev != st->st_dev || c->links[i].ino != st->st_ino) continue;
    char *last;
    int parent = open_parent_beneath(c->dst_root, c->links[i].rel, &last);
    if (parent < 0) return -1;
    int r = linkat(parent, last, dst, name, 0);
    int e = errno;
    close(parent);
    errno = e;
    return r < 0 ? -1 : 1;
  }
  if (c->nlinks == c->caplinks) {
    size_t cap = c->caplinks ? c->caplinks * 2 : 64;
    struct link_seen *nl = realloc(c->links, cap * sizeof *nl);
    if (!nl) return -1;
    c->links = nl;
    c->caplinks = cap;
  }
  char *rel = strndup(c->rel, c->rel_len);
  if (!rel) return -1;
  c->links[c->nlinks++] = (struct link_seen){ st->st_dev, st->st_ino, rel };
  return 0;
}

static void free_names(struct frame *f) {
  for (size_t i = 0; i < f->n; i++) free(f->names[i]);
  free(f->names);
  free(f->types);
  f->names = NULL;
  f->types = NULL;
  f->n = f->next = 0;
}

static int read_names(int dir, struct frame *f) {
  int dupfd = dup(dir);
  if (dupfd < 0) return -1;
  /* Read from the start even if this fd was read before. */
  if (lseek(dupfd, 0, SEEK_SET) < 0) { close(dupfd); return -1; }
  DIR *d = fdopendir(dupfd);
  if (!d) { int e = errno; close(dupfd); errno = e; return -1; }
  size_t cap = 0;
  struct dirent *e;
  int r = 0;
  while ((errno = 0, e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (f->n == cap) {
      cap = cap ? cap * 2 : 16;
      char **nn = realloc(f->names, cap * sizeof *nn);
      if (!nn) { r = -1; break; }
      f->names = nn;
    }
    if (!(f->names[f->n] = strdup(e->d_name))) { r = -1; break; }
    f->n++;
  }
  if (r == 0 && errno) r = -1;
  int err = errno;
  closedir(d);
  errno = err;
  return r;
}

/* The names of a directory fd just opened (at offset 0, read by nobody), straight from
 * getdents64: a removal enters every directory of the tree once, and the dup, lseek and
 * fdopendir's fstat and fcntls of read_names were most of its syscalls. */
struct dirent64_raw { ino64_t d_ino; off64_t d_off; unsigned short d_reclen; unsigned char d_type; char d_name[]; };

static int read_names_fresh(int dir, struct frame *f) {
  char buf[16384] __attribute__((aligned(8)));
  size_t cap = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (n <= 0) return n < 0 ? -1 : 0;
    for (long off = 0; off < n;) {
      struct dirent64_raw *e = (struct dirent64_raw *)(buf + off);
      off += e->d_reclen;
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      if (f->n == cap) {
        cap = cap ? cap * 2 : 16;
        char **nn = realloc(f->names, cap * sizeof *nn);
        if (!nn) return -1;
        f->names = nn;
        unsigned char *nt = realloc(f->types, cap);
        if (!nt) return -1;
        f->types = nt;
      }
      if (!(f->names[f->n] = strdup(e->d_name))) return -1;
      f->types[f->n++] = e->d_type;
    }
  }
}

/* Enters a directory whose two sides are open; takes ownership of the fds. A removal has no
 * second side (dst -1), reads its fresh src fd directly, and passes no identity (sst NULL):
 * it is taken only if the fd is closed to bound the fds, one fstat per level beyond the
 * window instead of one per directory. */
static int push(struct copy_ctx *c, int src, int dst, const struct stat *sst) {
  if (c->depth == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 64;
    struct frame *ns = realloc(c->stack, cap * sizeof *ns);
    if (!ns) { close(src); if (dst >= 0) close(dst); errno = ENOMEM; return -1; }
    c->stack = ns;
    c->cap = cap;
  }
  struct frame *f = &c->stack[c->depth++];
  memset(f, 0, sizeof *f);
  f->src = src;
  f->dst = dst;
  if (sst) f->sst = *sst;
  else f->sst_later = 1;
  f->rel_len = c->rel_len;
  if (dst < 0 ? read_names_fresh(src, f) < 0 : (fstat(dst, &f->dst_st) < 0 || read_names(src, f) < 0)) return -1;
  if (c->depth > FD_WINDOW) {
    struct frame *old = &c->stack[c->depth - 1 - FD_WINDOW];
    if (old->src >= 0) {
      int bad = old->sst_later && fstat(old->src, &old->sst) < 0;
      close(old->src);
      old->src = -1;
      if (bad) return -1;
    }
    if (old->dst >= 0) { close(old->dst); old->dst = -1; }
  }
  return 0;
}

static int reopen_dotdot(int child, const struct stat *want) {
  int fd = openat(child, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0) return -1;
  if (fstat(fd, &st) < 0 || st.st_dev != want->st_dev || st.st_ino != want->st_ino) {
    close(fd);
    errno = ESTALE; /* the tree moved under us */
    return -1;
  }
  return fd;
}

/* Leaves the innermost directory: its own metadata is applied now that its children exist. */
static int pop(struct copy_ctx *c) {
  struct frame *f = &c->stack[c->depth - 1];
  c->rel_len = f->rel_len;
  int r = 0;
  if (c->depth > 1) {
    struct frame *parent = &c->stack[c->depth - 2];
    if (parent->src < 0 && (parent->src = reopen_dotdot(f->src, &parent->sst)) < 0) r = -1;
    if (r == 0 && parent->dst < 0 && (parent->dst = reopen_dotdot(f->dst, &parent->dst_st)) < 0) r = -1;
    if (r == 0 && (copy_xattrs(f->src, f->dst) < 0 || finish_fd(f->dst, &f->sst) < 0)) r = -1;
  }
  int e = errno;
  close(f->src);
  close(f->dst);
  free_names(f);
  c->depth--;
  errno = e;
  return r;
}

/* Copies one non-directory entry, or opens both sides of a directory and enters it. */
static int copy_entry(struct copy_ctx *c, int src, int dst, const char *name) {
  struct stat st;
  if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return -1;
  if (S_ISDIR(st.st_mode)) {
    int s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s < 0) return -1;
    struct stat again;
    if (fstat(s, &again) < 0 || again.st_ino != st.st_ino || again.st_dev != st.st_dev) { close(s); errno = ESTALE; return -1; }
    if (mkdirat(dst, name, 0700) < 0) { int e = errno; close(s); errno = e; return -1; }
    int d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d < 0) { int e = errno; close(s); errno = e; return -1; }
    return push(c, s, d, &st);
  }
  if (S_ISREG(st.st_mode)) {
    if (st.st_nlink > 1) {
      int seen = link_if_seen(c, &st, dst, name);
      if (seen != 0) return seen < 0 ? -1 : 0;
    }
    int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (in < 0) return -1;
    struct stat again;
    if (fstat(in, &again) < 0 || !S_ISREG(again.st_mode) || again.st_ino != st.st_ino || again.st_dev != st.st_dev) { close(in); errno = ESTALE; return -1; }
    int out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) { int e = errno; close(in); errno = e; return -1; }
    int r = 0;
    if (copy_data(in, out, again.st_size) < 0 || copy_xattrs(in, out) < 0 || finish_fd(out, &st) < 0) r = -1;
    int e = errno;
    close(in);
    close(out);
    errno = e;
    return r;
  }
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX + 1];
    ssize_t n = readlinkat(src, name, target, sizeof target - 1);
    if (n < 0) return -1;
    target[n] = 0;
    if (symlinkat(target, dst, name) < 0) return -1;
    return finish_at(dst, name, &st);
  }
  /* Whiteouts (char 0/0), fifos, sockets and whatever device node an upper layer holds. */
  if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0) return -1;
  return finish_at(dst, name, &st);
}

int copy_tree(int src, int dst, char *failed_path, size_t failed_len) {
  struct copy_ctx c = { .dst_root = dst };
  struct stat st;
  int r = 0;
  int s = dup(src), d = dup(dst);
  if (s < 0 || d < 0 || fstat(src, &st) < 0) {
    if (s >= 0) close(s);
    if (d >= 0) close(d);
    r = fail(&c, errno);
  } else if (rel_set(&c, 0, "") < 0 || push(&c, s, d, &st) < 0) {
    r = fail(&c, errno);
  }
  while (r == 0 && c.depth) {
    struct frame *f = &c.stack[c.depth - 1];
    if (f->next == f->n) {
      if (pop(&c) < 0) r = fail(&c, errno);
      continue;
    }
    const char *name = f->names[f->next++];
    if (rel_set(&c, f->rel_len, name) < 0 || copy_entry(&c, f->src, f->dst, name) < 0) r = fail(&c, errno);
  }
  while (c.depth) {
    struct frame *f = &c.stack[--c.depth];
    if (f->src >= 0) close(f->src);
    if (f->dst >= 0) close(f->dst);
    free_names(f);
  }
  free(c.stack);
  free(c.rel);
  for (size_t i = 0; i < c.nlinks; i++) free(c.links[i].rel);
  free(c.links);
  if (r < 0) {
    /* The end of a long path says more than its start. */
    size_t len = c.failed ? strlen(c.failed) : 0;
    const char *p = c.failed ? c.failed : "";
    if (len >= failed_len) { p += len - (failed_len - 4); snprintf(failed_path, failed_len, "...%s", p); }
    else snprintf(failed_path, failed_len, "%s", p);
    free(c.failed);
    errno = c.failed_errno;
  }
  return r;
}

/* Opens directory `name` below `at` for reading, without following a symlink. A directory
 * of ours that we may not read (overlayfs makes its work dirs mode 0) is first made 0700
 * through an O_PATH fd of that very inode, so a name swapped meanwhile changes nothing else. */
static int open_dir_to_remove(int at, const char *name) {
  int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 || errno != EACCES) return fd;
  int p = openat(at, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (p < 0) return -1;
  char self[32];
  snprintf(self, sizeof self, "/proc/self/fd/%d", p);
  int r = chmod(self, 0700);
  int e = errno;
  close(p);
  if (r < 0) { errno = e; return -1; }
  return openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Removes one entry of a directory being emptied, TYPE its d_type (DT_UNKNOWN: not known):
 * a non-directory is unlinked and an empty directory removed, in one syscall each for the
 * kinds getdents named (most directories of a throwaway run's work dirs are empty). 0 once it
 * is gone, 1 for a directory that still holds entries (to be opened and emptied), -1 on error.
 * unlinkat follows no symlink, with or without AT_REMOVEDIR; a name that changed kind
 * meanwhile gets the other call. A mount point is EBUSY: an error, never entered. */
static int remove_entry(int dir, const char *name, unsigned char type) {
  if (type != DT_DIR && type != DT_UNKNOWN) {
    if (unlinkat(dir, name, 0) == 0 || errno == ENOENT) return 0;
    if (errno != EISDIR) return -1;
  }
  if (unlinkat(dir, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return 0;
  if (errno == ENOTEMPTY || errno == EEXIST) return 1;
  if (errno != ENOTDIR) return -1;
  return unlinkat(dir, name, 0) == 0 || errno == ENOENT ? 0 : -1;
}

/* Removes `name` below `parent` and everything under it, without following any symlink, at
 * any depth, with the same bounded fds as the copy. Used for a copy that did not complete,
 * for a layer's previous contents once its copy replaced it, for a throwaway run's overlay
 * work dirs once its sandbox ended, and for a committed sandbox or a discarded run's scratch
 * tree (rmtree). Each directory is first removed as if empty and only opened and listed when
 * that says it is not. */
int remove_tree_at(int parent, const char *name) {
  int r = remove_entry(parent, name, DT_UNKNOWN);
  if (r <= 0) return r;
  struct copy_ctx c = { .dst_root = -1 };
  int s = open_dir_to_remove(parent, name);
  if (s < 0) return -1;
  /* The copy's frames serve here too, with no dst side (-1). An entry that cannot be removed
   * (a file of another uid in a dir we may not write) is stepped over and the rest removed, as
   * rm -r does: the first failure's errno is the answer, and what is left is that entry and
   * the dirs above it. */
  int e = 0;
#define FAILED() do { if (!e) e = errno ? errno : EIO; } while (0)
  if (push(&c, s, -1, NULL) < 0) FAILED();
  while (c.depth) {
    struct frame *f = &c.stack[c.depth - 1];
    if (f->next < f->n) {
      size_t i = f->next++;
      int full = remove_entry(f->src, f->names[i], f->types[i]);
      if (full < 0) FAILED();
      else if (full && ((s = open_dir_to_remove(f->src, f->names[i])) < 0 || push(&c, s, -1, NULL) < 0)) FAILED();
      continue;
    }
    /* Empty now: remove it from its parent (reopened through ".." if its fds were closed). */
    int pfd = parent;
    const char *pname = name;
    if (c.depth > 1) {
      struct frame *p = &c.stack[c.depth - 2];
      if (p->src < 0 && (p->src = reopen_dotdot(f->src, &p->sst)) < 0) { FAILED(); break; }
      pfd = p->src;
      pname = p->names[p->next - 1];
    }
    close(f->src);
    f->src = -1;
    if (unlinkat(pfd, pname, AT_REMOVEDIR) < 0) FAILED();
    free_names(f);
    c.depth--;
  }
#undef FAILED
  r = e ? -1 : 0;
  while (c.depth) {
    struct frame *f = &c.stack[--c.depth];
    if (f->src >= 0) close(f->src);
    if (f->dst >= 0) close(f->dst);
    free_names(f);
  }
  free(c.stack);
  errno = e;
  return r;
}

/* sbx-helper rmtree NAME...: removes each NAME below fd 3 (a directory the caller opened and
 * trusts: the store root, or the scratch dir) with everything under it, as remove_tree_at does.
 * Started detached by a commit that no longer needs the sandbox it just committed, so the
 * commit does not wait for the unlinks (deleting is slower than copying on a disk mounted
 * with `discard`), and by the discard of a run with thousands of changes. Each
 * name is first claimed by renaming it, never over an existing name, to NAME.PID: two
 * removers never work on one tree, and a claimed tree whose pid is gone was left by a remover
 * that died or failed (sandbox-core/store.ts sweeps those). With `maps` (`sbx-helper
 * as-mapped-root UIDTOOL UIDMAP GIDTOOL GIDMAP rmtree NAME...`) the names are claimed first,
 * as the caller, and removed as root of a user namespace with the sandbox's mapping: files a
 * sandbox gave to other inside users belong to the caller's subordinate uids, which it cannot
 * unlink as itself. If that namespace cannot be entered, the claims stay for the sweep. Exit
 * 0 when every name is gone or was claimed by another remover, 1 when a removal failed, 2 on
 * a malformed name. */
int rmtree_main(int argc, char **argv, char **maps) {
  int r = 0;
  size_t n_claimed = 0;
  char (*claimed)[NAME_MAX + 1] = calloc(argc > 1 ? (size_t)argc - 1 : 1, sizeof *claimed);
  if (!claimed) { fprintf(stderr, "sbx-helper rmtree: out of memory\n"); return 1; }
  for (int i = 1; i < argc; i++) {
    const char *n = argv[i];
    char *c = claimed[n_claimed];
    if (!*n || strchr(n, '/') || strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
        snprintf(c, NAME_MAX + 1, "%s.%d", n, (int)getpid()) >= NAME_MAX + 1) {
      fprintf(stderr, "sbx-helper rmtree: malformed name\n");
      r = 2;
      continue;
    }
    if (renameat2(3, n, 3, c, RENAME_NOREPLACE) < 0) {
      if (errno != ENOENT) { fprintf(stderr, "sbx-helper rmtree: claim %s: %s\n", n, strerror(errno)); r = r ? r : 1; }
      continue;
    }
    n_claimed++;
  }
  if (n_claimed && maps && enter_mapped_root(maps) < 0) { free(claimed); return 1; }
  for (size_t i = 0; i < n_claimed; i++) {
    if (remove_tree_at(3, claimed[i]) < 0) {
      fprintf(stderr, "sbx-helper rmtree: remove %s: %s\n", claimed[i], strerror(errno));
      r = r ? r : 1;
    }
  }
  free(claimed);
  return r;
}
