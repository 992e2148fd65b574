/* sbx-helper scan: walks a sandbox's upper layers and the matching host directories in one
 * process and streams compact binary records to sandbox-core/changes/walk.ts. Node would
 * otherwise pay an lstat object, a path buffer and a helper round trip (for xattrs) per file.
 *
 * fd 3: the layers root (trusted); fd 4: the host root `/`. Every directory is opened one
 * component at a time below them with O_PATH|O_NOFOLLOW|O_DIRECTORY (beneath.c), entries are
 * read with getdents64 and stat'ed with fstatat(AT_SYMLINK_NOFOLLOW): no symlink is followed
 * in any component, names are bytes, any depth (an explicit stack, a bounded chain of fds).
 * The helper decides nothing: which entries are whiteouts, skipped or changed is walk.ts's.
 *
 * stdin, per job (one per layer): upper_rel\0 host_rel\0 u32 flags [u32 cap] [u32 budget]
 *   ("" = the root itself; flag 1: fuse-overlayfs layer, a name ".wh.X" is looked up on the
 *   host as "X" and not descended into; flag 2: read xattrs only where the kind of change
 *   depends on them, the others are reported as none; flag 4: count the lines of new files;
 *   flag 8: send the text of new files, at most `budget` bytes in all over the request;
 *   `cap`, present with flag 4 or 8, is the largest file read; `budget` with flag 8;
 *   flag 16 (not with 8): names mode, see 'N' below)
 * stdout, records (integers little-endian):
 *   'J' u32 job                                  a job starts
 *   'D' i32 dir u32 errno                        directory `dir` (-1: the job's root) cannot
 *                                                be read; nothing below it is reported
 *   'E' i32 parent u16 namelen name
 *       upper: u32 errno (0: then STAT)
 *       host:  u32 state (0 absent or not looked up, 1 present: then STAT, else an errno)
 *       upper xattrs: XATTRS (for every entry stat'ed)
 *       host xattrs:  XATTRS when the host entry has the upper's type and is no symlink
 *       lines: i32, with flag 4, when the upper entry is a regular file and the host's is
 *              not: its lines (a last line without a newline counts), -1 binary (a NUL or
 *              invalid UTF-8), -2 larger than `cap`, -3 not read (Node reads it itself)
 *       text:  with flag 8, under the same condition: i32 length then that many bytes (a
 *              text file: no NUL, valid UTF-8), or -1, -2, -3 as for lines (-3 also once
 *              the budget is spent)
 *   'N' i32 parent u8 d_type u16 namelen name    flag 16 only, instead of an 'E' record, for a
 *                                                regular file or symlink (d_type from
 *                                                getdents64) whose name the host side does
 *                                                not have: nothing about it is read, not even
 *                                                an fstatat (a name list needs none of it)
 *       with flag 4, for a regular file (not a fuse `.wh.` name): i32 lines (as for 'E',
 *       never -3: a file that cannot be opened gets an 'E' record), u64 size of the open file
 *   STAT   = u32 mode uid gid nlink, u64 size blocks ino dev rdev, (i64 sec, u32 nsec) x
 *            atime mtime ctime
 *   XATTRS = u32 errno (0: then u32 count, count x (u32 len name, u32 len value))
 *   Entries ('E' and 'N') are numbered per job from 0 in the order written; a directory's
 *   entries follow it, each directory's names in byte order and each subdirectory's entries
 *   right after it (preorder: nearly the path order sbx sorts by); `parent` is the number of
 *   the directory entry.
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
#include <sys/xattr.h>
#include <unistd.h>

#include "helper.h"
#include "beneath.h"

static struct buf out;
static int oom;

/* Out of memory is remembered and reported once the record is complete. */
static void put(const void *d, size_t n) { if (buf_put(&out, d, n) < 0) oom = 1; }
static void put8(uint8_t v) { put(&v, 1); }
static void put16(uint16_t v) { unsigned char b[2] = {v & 0xff, v >> 8}; put(b, 2); }
static void put32(uint32_t v) { if (buf_put32(&out, v) < 0) oom = 1; }
static void put64(uint64_t v) { put32((uint32_t)v); put32((uint32_t)(v >> 32)); }

/* Written out in large pieces: Node reads the stream as it comes. */
static int flush(int force) {
  if (!force && out.len < (1 << 20)) return 0;
  if (write_all(1, out.p, out.len) < 0) return -1;
  out.len = 0;
  return 0;
}

static void put_stat(const struct stat *st) {
  put32(st->st_mode); put32(st->st_uid); put32(st->st_gid); put32((uint32_t)st->st_nlink);
  put64((uint64_t)st->st_size); put64((uint64_t)st->st_blocks); put64(st->st_ino); put64(st->st_dev); put64(st->st_rdev);
  put64((uint64_t)st->st_atim.tv_sec); put32((uint32_t)st->st_atim.tv_nsec);
  put64((uint64_t)st->st_mtim.tv_sec); put32((uint32_t)st->st_mtim.tv_nsec);
  put64((uint64_t)st->st_ctim.tv_sec); put32((uint32_t)st->st_ctim.tv_nsec);
}

static char names[65536], value[65536];

/* The kernel allocates (and for a value zeroes) a buffer of the size passed before it looks:
 * 64 KiB per call is a page allocation per file. Most entries have no xattr or a short list,
 * so a small size is tried first and the whole buffer only when that is too small (ERANGE). */
#define XATTR_FIRST 512
static ssize_t list_of(const char *path, int fd, size_t size) {
  return fd >= 0 ? flistxattr(fd, names, size) : llistxattr(path, names, size);
}
static ssize_t value_of(const char *path, int fd, const char *name, size_t size) {
  return fd >= 0 ? fgetxattr(fd, name, value, size) : lgetxattr(path, name, value, size);
}

/* Every xattr of `path` (not following it), or of the open file `fd` when fd >= 0;
 * ENOTSUP/ENODATA are an empty list. */
static void put_xattrs_of(const char *path, int fd) {
  ssize_t n = list_of(path, fd, XATTR_FIRST);
  if (n < 0 && errno == ERANGE) n = list_of(path, fd, sizeof names);
  if (n < 0) {
    if (errno == ENOTSUP || errno == ENODATA) { put32(0); put32(0); } else put32((uint32_t)errno);
    return;
  }
  uint32_t count = 0;
  for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) count++;
  put32(0);
  put32(count);
  for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
    const char *name = names + i;
    ssize_t v = value_of(path, fd, name, XATTR_FIRST);
    if (v < 0 && errno == ERANGE) v = value_of(path, fd, name, sizeof value);
    if (v < 0) v = 0; /* removed meanwhile, or larger than any the kernel allows: empty */
    size_t nl = strlen(name);
    put32((uint32_t)nl); put(name, nl);
    put32((uint32_t)v); put(value, (size_t)v);
  }
}

static void put_xattrs(const char *path) { put_xattrs_of(path, -1); }

/* Is b[0..n) valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), as
 * Node's buffer.isUtf8 decides? */
static int valid_utf8(const unsigned char *b, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = b[i];
    if (c < 0x80) { i++; continue; }
    size_t k;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) k = 1;
    else if (c >= 0xe0 && c <= 0xef) { k = 2; if (c == 0xe0) lo = 0xa0; if (c == 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { k = 3; if (c == 0xf0) lo = 0x90; if (c == 0xf4) hi = 0x8f; }
    else return 0;
    if (n - i - 1 < k || b[i + 1] < lo || b[i + 1] > hi) return 0;
    for (size_t j = 2; j <= k; j++) if ((b[i + j] & 0xc0) != 0x80) return 0;
    i += k + 1;
  }
  return 1;
}

static unsigned char *text;
static size_t text_cap;
static int read_open(int fd, uint64_t size, size_t *len);

/* The new files read for a review are closed a batch at a time: one close_range per run of
 * consecutive fds instead of a close each (each syscall costs its entry and exit, which on
 * this kind of VM is most of a small file's cost). Only runs made wholly of the batch's own
 * fds are closed as ranges, so no fd of anyone else's is ever in one. */
#define CLOSE_BATCH 64
static int batch[CLOSE_BATCH];
static size_t batched;

static int by_fd(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static void close_batch(void) {
  qsort(batch, batched, sizeof *batch, by_fd);
  for (size_t i = 0, j; i < batched; i = j) {
    for (j = i + 1; j < batched && batch[j] == batch[j - 1] + 1; j++) {}
    if (j - i == 1 || close_range((unsigned)batch[i], (unsigned)batch[j - 1], 0) < 0)
      for (size_t k = i; k < j; k++) close(batch[k]);
  }
  batched = 0;
}

/* A file read here is done with: closed with its batch. */
static void release(int fd) {
  if (batched == CLOSE_BATCH) close_batch();
  batch[batched++] = fd;
}

/* `name` in `dir` opened for reading if it is a regular file (its stat in *st), else -1: no
 * symlink followed, no blocking on a fifo, and the type checked on the open file, so a name
 * swapped meanwhile is never read as something else. */
static int open_regular(int dir, const char *name, struct stat *st) {
  int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  /* Out of fds with a batch held open: closed, and the file tried again. */
  if (fd < 0 && errno == EMFILE && batched) { close_batch(); fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC); }
  if (fd < 0) return -1;
  if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) { close(fd); return -1; }
  return fd;
}

/* Reads the regular file `name` in `dir` whole into `text` (one buffer reused for every
 * file; flags 4 and 8): *len bytes, 0; -1 binary (a NUL, which stops the reading, or invalid
 * UTF-8); -2 larger than `cap`; -3 not read. The file may change meanwhile: it is opened
 * without following a symlink or blocking on a fifo, must still be a regular file, and is
 * read to at most the size seen, as sbx itself reads it (a file that grew meanwhile is taken
 * at that size; no read is spent learning that it did). */
static int read_new(int dir, const char *name, uint64_t size, uint64_t cap, size_t *len) {
  *len = 0;
  if (size == 0) return 0;
  if (size > cap) return -2;
  struct stat st;
  int fd = open_regular(dir, name, &st);
  return fd < 0 ? -3 : read_open(fd, size, len);
}

/* Reads the open regular file `fd` (closed here) as read_new does, to at most `size` bytes. */
static int read_open(int fd, uint64_t size, size_t *len) {
  *len = 0;
  if (text_cap < size + 1) {
    unsigned char *t = realloc(text, size + 1);
    if (!t) { release(fd); return -3; }
    text = t;
    text_cap = size + 1;
  }
  size_t n = 0;
  int binary = 0;
  while (n < size + 1) {
    ssize_t r = read(fd, text + n, size + 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { release(fd); return -3; }
    if (r == 0) break;
    size_t upto = n + (size_t)r < size ? n + (size_t)r : size;
    if (upto > n && memchr(text + n, 0, upto - n)) { binary = 1; break; }
    n += (size_t)r;
    if (n >= size) break;
  }
  release(fd);
  if (binary) return -1;
  *len = n < size ? n : size;
  return valid_utf8(text, *len) ? 0 : -1;
}

static int32_t lines_of(size_t len) {
  int64_t lines = 0;
  for (const unsigned char *p = text, *end = text + len; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) lines++;
  if (len && text[len - 1] != '\n') lines++;
  return lines > INT32_MAX ? -2 : (int32_t)lines;
}

/* The record's `lines` (flag 4): lines of a text file (a last line without a newline counts). */
static int32_t count_lines(int dir, const char *name, uint64_t size, uint64_t cap) {
  size_t len;
  int r = read_new(dir, name, size, cap, &len);
  return r < 0 ? r : lines_of(len);
}

/* Bytes of file text put in this answer so far (flag 8): past the request's budget, files
 * are left for sbx to read (-3), so the answer stays bounded. */
static uint64_t text_sent;

/* The record's `text` (flag 8): i32 length then the bytes of a text file, or -1/-2/-3. */
static void put_text(int dir, const char *name, uint64_t size, uint64_t cap, uint64_t budget) {
  if (size > 0 && size <= cap && text_sent + size > budget) { put32((uint32_t)-3); return; }
  size_t len;
  int r = read_new(dir, name, size, cap, &len);
  if (r < 0) { put32((uint32_t)r); return; }
  text_sent += len;
  put32((uint32_t)len);
  put(text, len);
}

/* count_lines and put_text for a new file already open as `fd` (a regular file of `size`
 * bytes, as fstat said), which they close. */
static int32_t count_lines_fd(int fd, uint64_t size, uint64_t cap) {
  if (size == 0 || size > cap) { release(fd); return size ? -2 : 0; }
  size_t len;
  int r = read_open(fd, size, &len);
  return r < 0 ? r : lines_of(len);
}

/* count_lines for an 'N' record (flags 4|16): the file is opened by name and its size taken
 * from the open file, so no fstatat is made; -3 when it cannot be opened as a regular file
 * (then a whole 'E' record is sent instead). */
static int32_t count_lines_named(int dir, const char *name, uint64_t cap, uint64_t *size) {
  struct stat st;
  int fd = open_regular(dir, name, &st);
  if (fd < 0) return -3;
  *size = (uint64_t)st.st_size;
  return count_lines_fd(fd, *size, cap);
}

static void put_text_fd(int fd, uint64_t size, uint64_t cap, uint64_t budget) {
  if (size > 0 && size <= cap && text_sent + size > budget) { release(fd); put32((uint32_t)-3); return; }
  if (size == 0 || size > cap) { release(fd); put32(size ? (uint32_t)-2 : 0); return; }
  size_t len;
  int r = read_open(fd, size, &len);
  if (r < 0) { put32((uint32_t)r); return; }
  text_sent += len;
  put32((uint32_t)len);
  put(text, len);
}

/* A directory being reported: its paths below the roots, its entry number, and its names
 * (read once, sorted by bytes) with the next one to report. Entries are reported in path
 * order, each directory's entries right after it (preorder), so sbx's sort of the list
 * finds it almost in order. Only the names of the directories above the current one are
 * held; their fds are reopened through the beneath chains (cached) when the walk returns. */
struct frame { char *upper, *host; int32_t entry; int host_ok; char **names; char *pool; size_t n, i; int loaded; };
struct stack { struct frame *t; size_t n, cap; };

static int push(struct stack *s, char *upper, char *host, int32_t entry, int host_ok) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    struct frame *t = realloc(s->t, cap * sizeof *t);
    if (!t) return -1;
    s->t = t;
    s->cap = cap;
  }
  s->t[s->n++] = (struct frame){upper, host, entry, host_ok, NULL, NULL, 0, 0, 0};
  return 0;
}

static void pop(struct stack *s) {
  struct frame *t = &s->t[--s->n];
  free(t->upper); free(t->host); free(t->names); free(t->pool);
}

static char *join(const char *dir, const char *name, size_t nl) {
  size_t dl = strlen(dir);
  char *p = malloc(dl + nl + 2);
  if (!p) return NULL;
  memcpy(p, dir, dl);
  size_t at = dl;
  if (dl) p[at++] = '/';
  memcpy(p + at, name, nl);
  p[at + nl] = '\0';
  return p;
}

static int fail(const char *what, int err) {
  fprintf(stderr, "sbx-helper scan: %s: %s\n", what, strerror(err));
  return 2;
}

/* Each name in a frame's pool is preceded by its d_type byte (the 'N' records' kind). */
static int by_bytes(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads every name of the directory below `ufd` into t (sorted); -1 with errno when it
 * cannot be opened (reported as a 'D' record), -2 with errno on a read or memory error. */
static int load_names(int ufd, struct frame *t) {
  int dfd = openat(ufd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return -1;
  DIR *d = fdopendir(dfd);
  if (!d) { int e = errno; close(dfd); errno = e; return -2; }
  struct buf pool = {0};
  size_t n = 0;
  struct dirent *e;
  while ((errno = 0, e = readdir(d)) != NULL) {
    const char *name = e->d_name;
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
    size_t nl = strlen(name) + 1;
    if (buf_reserve(&pool, nl + 1) < 0) { closedir(d); free(pool.p); errno = ENOMEM; return -2; }
    pool.p[pool.len++] = (char)e->d_type;
    memcpy(pool.p + pool.len, name, nl);
    pool.len += nl;
    n++;
  }
  int rerr = errno;
  closedir(d);
  if (rerr) { free(pool.p); errno = rerr; return -2; }
  char **names = malloc((n ? n : 1) * sizeof *names);
  if (!names) { free(pool.p); errno = ENOMEM; return -2; }
  for (size_t i = 0, off = 0; i < n; i++) { names[i] = pool.p + off + 1; off += strlen(pool.p + off + 1) + 2; }
  qsort(names, n, sizeof *names, by_bytes);
  t->names = names;
  t->pool = pool.p;
  t->n = n;
  t->i = 0;
  t->loaded = 1;
  return 0;
}

static int scan_job(struct beneath *ub, struct beneath *hb, const char *upper_root, const char *host_root, int fuse, int few, int lines, int texts, int names_only, uint64_t cap, uint64_t budget) {
  struct stack st = {0};
  int32_t next = 0;
  char *u0 = strdup(upper_root), *h0 = strdup(host_root);
  if (!u0 || !h0 || push(&st, u0, h0, -1, 1) < 0) return fail("out of memory", ENOMEM);
  while (st.n) {
    struct frame *t = &st.t[st.n - 1];
    if (t->loaded && t->i == t->n) { pop(&st); continue; }
    /* (Re)entering the directory: entered first, or back from a subdirectory. */
    int ufd = beneath_dir(ub, t->upper, strlen(t->upper));
    if (ufd >= 0 && !t->loaded) {
      int r = load_names(ufd, t);
      if (r == -2) { int e = errno; pop(&st); return fail("readdir", e); }
      if (r < 0) ufd = -1;
    }
    if (ufd < 0) {
      put8('D'); put32((uint32_t)t->entry); put32((uint32_t)errno);
      pop(&st);
      continue;
    }
    /* The host side, when it is a directory: entries are looked up from its fd. */
    int hfd = t->host_ok ? beneath_dir(hb, t->host, strlen(t->host)) : -1;
    int hdup = hfd >= 0 ? fcntl(hfd, F_DUPFD_CLOEXEC, 0) : -1;
    /* The upper directory's xattr calls take names relative to it (l*xattr, which follow
     * no final symlink); the directory is ours, found without following any symlink. */
    if (fchdir(ufd) < 0) { int e = errno; if (hdup >= 0) close(hdup); return fail("fchdir", e); }
    int descend = 0;
    while (!descend && t->i < t->n) {
      const char *name = t->names[t->i++];
      size_t nl = strlen(name);
      int wh = fuse && nl > 4 && memcmp(name, ".wh.", 4) == 0;
      const char *hname = wh ? name + 4 : name;
      int32_t me = next++;
      unsigned char dtype = (unsigned char)name[-1];
      struct stat us, hs;
      int hstate = 0;
      if (hdup >= 0 && !(fuse && strcmp(name, ".wh..wh..opq") == 0)) {
        if (fstatat(hdup, hname, &hs, AT_SYMLINK_NOFOLLOW) == 0) hstate = 1;
        else if (errno != ENOENT) hstate = errno;
      }
      int32_t nlines = 0;
      uint64_t nsize = 0;
      if (names_only && hstate == 0 && dtype == DT_REG && lines && !wh) nlines = count_lines_named(ufd, name, cap, &nsize);
      if (names_only && hstate == 0 && (dtype == DT_REG || dtype == DT_LNK) && nlines != -3) {
        put8('N'); put32((uint32_t)t->entry); put8(dtype); put16((uint16_t)nl); put(name, nl);
        if (lines && dtype == DT_REG && !wh) { put32((uint32_t)nlines); put64(nsize); }
        if (oom) { if (hdup >= 0) close(hdup); return fail("out of memory", ENOMEM); }
        if (flush(0) < 0) { int e = errno; if (hdup >= 0) close(hdup); return fail("write", e); }
        continue;
      }
      put8('E'); put32((uint32_t)t->entry); put16((uint16_t)nl); put(name, nl);
      /* A new regular file whose content is asked for (flag 4 or 8) is opened first, then
       * stat'ed, its xattrs listed and its content read through that fd: one lookup of the
       * name instead of three (fstatat, llistxattr, openat). */
      int nfd = -1;
      if (lines != texts && dtype == DT_REG && !(hstate == 1 && S_ISREG(hs.st_mode))) {
        nfd = open_regular(ufd, name, &us);
      }
      int uerr = nfd >= 0 ? 0 : fstatat(ufd, name, &us, AT_SYMLINK_NOFOLLOW) < 0 ? errno : 0;
      if (uerr) put32((uint32_t)uerr); else { put32(0); put_stat(&us); }
      put32((uint32_t)hstate);
      if (hstate == 1) put_stat(&hs);
      char path[64 + 256];
      if (!uerr) {
        /* A name relative to the cwd (the directory itself, see fchdir above): a path
         * through /proc/self/fd costs the lookup of a magic link per call. */
        /* flag 2: only where the change list's kinds depend on them (opaque dirs, whiteout
         * files, entries the host also has); a listing needs no more. */
        int same_type = hstate == 1 && (hs.st_mode & S_IFMT) == (us.st_mode & S_IFMT);
        int new_file = S_ISREG(us.st_mode) && !(hstate == 1 && S_ISREG(hs.st_mode));
        if (!few || S_ISDIR(us.st_mode) || (S_ISREG(us.st_mode) && us.st_size == 0) || same_type)
          put_xattrs_of(name, nfd);
        else { put32(0); put32(0); }
        if (same_type && !S_ISLNK(hs.st_mode)) {
          snprintf(path, sizeof path, "/proc/self/fd/%d/%s", hdup, hname);
          put_xattrs(path);
        }
        if (lines && new_file) put32((uint32_t)(nfd >= 0 ? count_lines_fd(nfd, (uint64_t)us.st_size, cap) : count_lines(ufd, name, (uint64_t)us.st_size, cap)));
        if (texts && new_file) { if (nfd >= 0) put_text_fd(nfd, (uint64_t)us.st_size, cap, budget); else put_text(ufd, name, (uint64_t)us.st_size, cap, budget); }
        nfd = -1; /* closed by either */
        if (S_ISDIR(us.st_mode) && !wh) {
          char *cu = join(t->upper, name, nl), *ch = join(t->host, hname, strlen(hname));
          int host_ok = hstate == 1 && S_ISDIR(hs.st_mode);
          /* push may move the stack: t is not used after it. */
          if (!cu || !ch || push(&st, cu, ch, me, host_ok) < 0) { if (hdup >= 0) close(hdup); return fail("out of memory", ENOMEM); }
          descend = 1;
        }
      }
      if (nfd >= 0) close(nfd);
      if (oom) { if (hdup >= 0) close(hdup); return fail("out of memory", ENOMEM); }
      if (flush(0) < 0) { int e = errno; if (hdup >= 0) close(hdup); return fail("write", e); }
    }
    /* Before any other fd is opened: the next directory's files then reuse these numbers, so
     * its batches are runs again. */
    close_batch();
    if (hdup >= 0) close(hdup);
  }
  free(st.t);
  return 0;
}

int scan_main(void) {
  struct buf in = {0};
  if (buf_read_fd(&in, 0) < 0) return fail("read", errno);
  /* A larger pipe: fewer wake-ups of Node and of this process for a stream of megabytes
   * (stdout may be no pipe; then this fails and changes nothing). */
  (void)fcntl(1, F_SETPIPE_SZ, 1 << 20);
  struct beneath ub, hb;
  beneath_init(&ub, 3);
  beneath_init(&hb, 4);
  size_t off = 0;
  for (uint32_t job = 0; off < in.len; job++) {
    const char *u = in.p + off;
    const char *un = memchr(u, '\0', in.len - off);
    if (!un) return fail("malformed request", EINVAL);
    off = (size_t)(un - in.p) + 1;
    const char *h = in.p + off;
    const char *hn = off < in.len ? memchr(h, '\0', in.len - off) : NULL;
    if (!hn || in.len - ((size_t)(hn - in.p) + 1) < 4) return fail("malformed request", EINVAL);
    off = (size_t)(hn - in.p) + 1;
    uint32_t flags = le32(in.p + off);
    off += 4;
    uint32_t cap = 0, budget = 0;
    if (flags & 12) {
      if (in.len - off < 4) return fail("malformed request", EINVAL);
      cap = le32(in.p + off);
      off += 4;
    }
    if ((flags & 16) && (flags & 8)) return fail("malformed request", EINVAL);
    if (flags & 8) {
      if (in.len - off < 4) return fail("malformed request", EINVAL);
      budget = le32(in.p + off);
      off += 4;
    }
    put8('J'); put32(job);
    int r = scan_job(&ub, &hb, u, h, flags & 1, flags & 2, flags & 4, flags & 8, flags & 16, cap, budget);
    if (r) return r;
  }
  close_batch();
  if (oom) return fail("out of memory", ENOMEM);
  if (flush(1) < 0) return fail("write", errno);
  beneath_close(&ub);
  beneath_close(&hb);
  free(in.p);
  free(text);
  return 0;
}
