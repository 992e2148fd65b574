/* Copies a directory tree between two open directories without following any symlink:
 * files, directories, symlinks, device nodes (overlay whiteouts are char 0/0), fifos and
 * sockets, with owners, modes, times, xattrs and hard links. Used by --disk to move the
 * sandbox's layers onto a size-limited tmpfs and back. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include "helper.h"

struct link_seen { dev_t dev; ino_t ino; char *rel; };

struct copy_ctx {
  int dst_root;
  struct link_seen *links;
  size_t nlinks, caplinks;
  char failed_path[4096];
  int failed_errno;
};

static int fail(struct copy_ctx *c, const char *rel, int err) {
  if (!c->failed_errno) {
    c->failed_errno = err;
    snprintf(c->failed_path, sizeof c->failed_path, "%s", rel);
  }
  return -1;
}

static int copy_xattrs(int src, int dst) {
  char names[65536];
  ssize_t n = flistxattr(src, names, sizeof names);
  if (n < 0) return errno == ENOTSUP ? 0 : -1;
  for (char *name = names; name < names + n; name += strlen(name) + 1) {
    char value[65536];
    ssize_t v = fgetxattr(src, name, value, sizeof value);
    if (v < 0) return -1;
    /* Some namespaces cannot be set here (security.*, trusted.* in a user namespace): the
     * overlay's own markers live in user.* when mounted with userxattr. */
    if (fsetxattr(dst, name, value, (size_t)v, 0) < 0 && errno != EPERM && errno != ENOTSUP) return -1;
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

static int copy_data(int in, int out) {
  for (;;) {
    ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
    if (n == 0) return 0;
    if (n > 0) continue;
    if (errno != EXDEV && errno != ENOSYS && errno != EINVAL) return -1;
    char buf[65536];
    for (;;) {
      ssize_t r = read(in, buf, sizeof buf);
      if (r == 0) return 0;
      if (r < 0) return -1;
      for (ssize_t off = 0; off < r;) {
        ssize_t w = write(out, buf + off, (size_t)(r - off));
        if (w < 0) return -1;
        off += w;
      }
    }
  }
}

static int copy_dir(struct copy_ctx *c, int src, int dst, const char *rel);

static int copy_entry(struct copy_ctx *c, int src, int dst, const char *name, const char *rel) {
  struct stat st;
  if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return fail(c, rel, errno);
  if (S_ISDIR(st.st_mode)) {
    if (mkdirat(dst, name, 0700) < 0 && errno != EEXIST) return fail(c, rel, errno);
    int s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s < 0) return fail(c, rel, errno);
    int d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d < 0) { close(s); return fail(c, rel, errno); }
    int r = copy_dir(c, s, d, rel);
    if (r == 0 && (copy_xattrs(s, d) < 0 || finish_fd(d, &st) < 0)) r = fail(c, rel, errno);
    close(s);
    close(d);
    return r;
  }
  if (S_ISREG(st.st_mode)) {
    if (st.st_nlink > 1) {
      for (size_t i = 0; i < c->nlinks; i++) {
        if (c->links[i].dev == st.st_dev && c->links[i].ino == st.st_ino) {
          if (linkat(c->dst_root, c->links[i].rel, dst, name, 0) < 0) return fail(c, rel, errno);
          return 0;
        }
      }
      if (c->nlinks == c->caplinks) {
        c->caplinks = c->caplinks ? c->caplinks * 2 : 64;
        struct link_seen *nl = realloc(c->links, c->caplinks * sizeof *nl);
        if (!nl) return fail(c, rel, ENOMEM);
        c->links = nl;
      }
      c->links[c->nlinks++] = (struct link_seen){ st.st_dev, st.st_ino, strdup(rel) };
    }
    int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0) return fail(c, rel, errno);
    int out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) { close(in); return fail(c, rel, errno); }
    int r = 0;
    if (copy_data(in, out) < 0 || copy_xattrs(in, out) < 0 || finish_fd(out, &st) < 0) r = fail(c, rel, errno);
    close(in);
    close(out);
    return r;
  }
  if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = readlinkat(src, name, target, sizeof target - 1);
    if (n < 0) return fail(c, rel, errno);
    target[n] = 0;
    if (symlinkat(target, dst, name) < 0) return fail(c, rel, errno);
    return finish_at(dst, name, &st) < 0 ? fail(c, rel, errno) : 0;
  }
  /* Whiteouts (char 0/0), fifos, sockets and whatever device node an upper layer holds. */
  if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0) return fail(c, rel, errno);
  return finish_at(dst, name, &st) < 0 ? fail(c, rel, errno) : 0;
}

static int copy_dir(struct copy_ctx *c, int src, int dst, const char *rel) {
  int dupfd = dup(src);
  if (dupfd < 0) return fail(c, rel, errno);
  DIR *d = fdopendir(dupfd);
  if (!d) { close(dupfd); return fail(c, rel, errno); }
  struct dirent *e;
  int r = 0;
  while (r == 0 && (errno = 0, e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char sub[4096];
    if ((size_t)snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >= sizeof sub) { r = fail(c, rel, ENAMETOOLONG); break; }
    r = copy_entry(c, src, dst, e->d_name, sub);
  }
  if (r == 0 && errno) r = fail(c, rel, errno);
  closedir(d);
  return r;
}

int copy_tree(int src, int dst, char *failed_path, size_t failed_len) {
  struct copy_ctx c = { .dst_root = dst };
  int r = copy_dir(&c, src, dst, "");
  for (size_t i = 0; i < c.nlinks; i++) free(c.links[i].rel);
  free(c.links);
  if (r < 0) {
    snprintf(failed_path, failed_len, "%s", c.failed_path);
    errno = c.failed_errno;
  }
  return r;
}
