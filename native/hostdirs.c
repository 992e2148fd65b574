/* sbx-helper host-dirs: a review's listings of HOST directories (sandbox-core/changes/
 * host-tree.ts), opened O_NOATIME. getdents moves a directory's atime (relatime: when it is not
 * newer than its mtime, or a day old) and Node cannot list a directory through an fd it opened
 * with that flag, so a review that lists the host from Node leaves a mark there.
 *
 * fd 3: the host root (trusted: `/`, or an image sandbox's lower root). Each directory is
 * reached one component at a time below it with O_PATH|O_NOFOLLOW|O_DIRECTORY (beneath.c), then
 * opened for listing O_NOATIME; EPERM (a directory not ours without CAP_FOWNER) is listed as
 * before, moving its atime: nothing else lists it. Entries are stat'ed with fstatat
 * (AT_SYMLINK_NOFOLLOW), which moves no time. Trees are walked with an explicit stack, any
 * depth. The helper decides nothing: what the counts and names mean is the caller's.
 *
 * stdin, per job: u32 kind, its words, rel\0 ("" = the root itself)
 *   'S' u32 cap                     size: entries below rel and the bytes of its regular
 *                                   files, stopping once `cap` entries are counted
 *   'L'                             names: rel's own entries
 *   'C' i64 sec u32 nsec            first entry below rel whose ctime is after that time
 * stdout, per job in order (integers little-endian):
 *   'S': u32 errno (0: then u64 entries, u64 bytes, u32 flags); errno when rel cannot be
 *        reached; flags: 1 stopped at the cap, 2 a directory (rel itself or one below it)
 *        could not be listed, counted as empty: both make the counts a lower bound
 *   'L': u32 errno (0: then u32 count, u32 nbytes, count names each ended by a 0 byte)
 *   'C': u32 state (0 none; 1 an entry changed after the time; 2 a directory that cannot be
 *        listed, rel itself included), with 1 and 2: u32 len, that entry's path below the root
 * Exit status: 0 when the protocol completed, 2 on a malformed request or an I/O error. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper.h"
#include "beneath.h"

static int fail(const char *what, int err) {
  fprintf(stderr, "sbx-helper host-dirs: %s: %s\n", what, strerror(err));
  return 2;
}

/* Directory `rel` opened for getdents without moving its atime where we may. */
static DIR *open_listing(struct beneath *b, const char *rel) {
  int at = beneath_dir(b, rel, strlen(rel));
  if (at < 0) return NULL;
  int fd = openat(at, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = openat(at, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return NULL;
  DIR *d = fdopendir(fd);
  if (!d) { int e = errno; close(fd); errno = e; }
  return d;
}

static int is_dot(const char *n) {
  return n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'));
}

static char *join(const char *dir, const char *name) {
  size_t dl = strlen(dir), nl = strlen(name);
  char *p = malloc(dl + nl + 2);
  if (!p) return NULL;
  memcpy(p, dir, dl);
  size_t at = dl;
  if (dl) p[at++] = '/';
  memcpy(p + at, name, nl + 1);
  return p;
}

/* Paths still to list: the walk's explicit stack. */
struct todo { char **p; size_t n, cap; };

static int todo_push(struct todo *t, char *p) {
  if (!p) return -1;
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    char **np = realloc(t->p, cap * sizeof *np);
    if (!np) { free(p); return -1; }
    t->p = np;
    t->cap = cap;
  }
  t->p[t->n++] = p;
  return 0;
}

static void todo_free(struct todo *t) {
  while (t->n) free(t->p[--t->n]);
  free(t->p);
}

/* The type of entry `e` of `d`: d_type, or an fstatat when the filesystem gives none. */
static int is_dir_entry(DIR *d, struct dirent *e, struct stat *st, int *stated) {
  *stated = 0;
  if (e->d_type != DT_UNKNOWN) return e->d_type == DT_DIR;
  if (fstatat(dirfd(d), e->d_name, st, AT_SYMLINK_NOFOLLOW) < 0) return 0;
  *stated = 1;
  return S_ISDIR(st->st_mode);
}

/* 'S': -1 on out of memory. */
static int job_size(struct beneath *b, const char *rel, uint32_t cap, struct buf *out) {
  if (beneath_dir(b, rel, strlen(rel)) < 0) return buf_put32(out, (uint32_t)errno);
  uint64_t entries = 0, bytes = 0;
  uint32_t capped = 0, unlisted = 0;
  struct todo t = {0};
  if (todo_push(&t, strdup(rel)) < 0) return -1;
  while (t.n && !capped) {
    char *dir = t.p[--t.n];
    DIR *d = open_listing(b, dir);
    if (!d) unlisted = 2;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
      if (is_dot(e->d_name)) continue;
      if (++entries >= cap) { capped = 1; break; }
      struct stat st;
      int stated;
      if (is_dir_entry(d, e, &st, &stated)) {
        if (todo_push(&t, join(dir, e->d_name)) < 0) { closedir(d); free(dir); todo_free(&t); return -1; }
      } else if (e->d_type == DT_REG || (stated && S_ISREG(st.st_mode))) {
        if (stated || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
          if (S_ISREG(st.st_mode)) bytes += (uint64_t)st.st_size;
        }
      }
    }
    if (d) closedir(d);
    free(dir);
  }
  todo_free(&t);
  return buf_put32(out, 0) | buf_put64(out, entries) | buf_put64(out, bytes) | buf_put32(out, capped | unlisted);
}

/* 'L' */
static int job_names(struct beneath *b, const char *rel, struct buf *out) {
  DIR *d = open_listing(b, rel);
  if (!d) return buf_put32(out, (uint32_t)errno);
  struct buf names = {0};
  uint32_t count = 0;
  struct dirent *e;
  int r = 0;
  while ((errno = 0, e = readdir(d)) != NULL) {
    if (is_dot(e->d_name)) continue;
    if (buf_put(&names, e->d_name, strlen(e->d_name) + 1) < 0) { r = -1; break; }
    count++;
  }
  int rerr = errno;
  closedir(d);
  if (!r && rerr) r = buf_put32(out, (uint32_t)rerr);
  else if (!r) r = buf_put32(out, 0) | buf_put32(out, count) | buf_put32(out, (uint32_t)names.len) | buf_put(out, names.p, names.len);
  free(names.p);
  return r;
}

static int put_path(struct buf *out, uint32_t state, const char *dir, const char *name) {
  char *p = name ? join(dir, name) : strdup(dir);
  if (!p) return -1;
  int r = buf_put32(out, state) | buf_put32(out, (uint32_t)strlen(p)) | buf_put(out, p, strlen(p));
  free(p);
  return r;
}

/* 'C' */
static int job_changed(struct beneath *b, const char *rel, int64_t sec, uint32_t nsec, struct buf *out) {
  struct todo t = {0};
  if (todo_push(&t, strdup(rel)) < 0) return -1;
  int r = 1; /* 1: nothing found yet */
  while (t.n && r == 1) {
    char *dir = t.p[--t.n];
    DIR *d = open_listing(b, dir);
    if (!d) { r = put_path(out, 2, dir, NULL); free(dir); break; }
    struct dirent *e;
    while (r == 1 && (e = readdir(d)) != NULL) {
      if (is_dot(e->d_name)) continue;
      struct stat st;
      if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue; /* gone meanwhile */
      if (st.st_ctim.tv_sec > sec || (st.st_ctim.tv_sec == sec && (uint32_t)st.st_ctim.tv_nsec > nsec)) r = put_path(out, 1, dir, e->d_name);
      else if (S_ISDIR(st.st_mode) && todo_push(&t, join(dir, e->d_name)) < 0) r = -1;
    }
    closedir(d);
    free(dir);
  }
  todo_free(&t);
  return r == 1 ? buf_put32(out, 0) : r;
}

int host_dirs_main(void) {
  struct buf in = {0}, out = {0};
  if (buf_read_fd(&in, 0) < 0) return fail("read", errno);
  struct beneath b;
  beneath_init(&b, 3);
  size_t off = 0;
  while (off < in.len) {
    uint32_t kind, cap = 0, nsec = 0;
    uint64_t sec = 0;
    if (next_u32(&in, &off, &kind) < 0) return fail("malformed request", EINVAL);
    if ((kind == 'S' && next_u32(&in, &off, &cap) < 0) || (kind == 'C' && (next_u64(&in, &off, &sec) < 0 || next_u32(&in, &off, &nsec) < 0)))
      return fail("malformed request", EINVAL);
    const char *rel = next_str(&in, &off);
    if (!rel || (kind != 'S' && kind != 'L' && kind != 'C')) return fail("malformed request", EINVAL);
    int r = kind == 'S' ? job_size(&b, rel, cap, &out) : kind == 'L' ? job_names(&b, rel, &out) : job_changed(&b, rel, (int64_t)sec, nsec, &out);
    if (r < 0) return fail("out of memory", ENOMEM);
  }
  if (write_all(1, out.p, out.len) < 0) return fail("write", errno);
  beneath_close(&b);
  free(in.p);
  free(out.p);
  return 0;
}
