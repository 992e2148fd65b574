/* sbx-helper scan: walks a sandbox's upper layers and the matching host directories in one
 * process and streams compact binary records to sandbox-core/changes/walk.ts. Node would
 * otherwise pay an lstat object, a path buffer and a helper round trip (for xattrs) per file.
 *
 * fd 3: the layers root (trusted); fd 4: the host root `/`. Every directory is opened one
 * component at a time below them with O_PATH|O_NOFOLLOW|O_DIRECTORY (beneath.c), entries are
 * read with getdents64 and stat'ed with fstatat(AT_SYMLINK_NOFOLLOW) (new files read for a
 * review are opened in batches through io_uring, see `prefetch`): no symlink is followed
 * in any component, names are bytes, any depth (an explicit stack, a bounded chain of fds).
 * The helper decides nothing: which entries are whiteouts, skipped or changed is walk.ts's.
 *
 * stdin, per job (one per layer): upper_rel\0 host_rel\0 u32 flags [u32 cap] [u32 budget]
 *   ("" = the root itself; flag 1: fuse-overlayfs layer, a name ".wh.X" is looked up on the
 *   host as "X" and not descended into; flag 2: read xattrs only where the kind of change
 *   depends on them, the others are reported as none; flag 4: count the lines of new files;
 *   flag 8: send the text of new files, at most `budget` bytes in all over the request;
 *   `cap`, present with flag 4 or 8, is the largest file read; `budget` with flag 8;
 *   flag 16 (not with 8): names mode, see 'N' below; flag 32: base_rel\0 follows, see 'R')
 * stdout, records (integers little-endian):
 *   'J' u32 job                                  a job starts
 *   'R' ROOT ROOT ROOT                           flag 32, right after 'J': the upper root, the
 *                                                host root and `base_rel` (below the layers
 *                                                root: a dir sbx made as it made the upper
 *                                                root), each ROOT = u32 errno (0: then STAT
 *                                                and XATTRS). The roots' own attributes, which
 *                                                no 'E' record carries
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
 *   'M' i32 parent u32 count u32 nbytes names    flag 16 without flag 4: `count` 'N' records of
 *                                                regular files (not fuse `.wh.` names) that
 *                                                follow one another with one parent, sent as
 *                                                their names, each ended by a 0 byte (nbytes
 *                                                in all); each is an entry, numbered in turn
 *   STAT   = u32 mode uid gid nlink, u64 size blocks ino dev rdev, (i64 sec, u32 nsec) x
 *            atime mtime ctime
 *   XATTRS = u32 errno (0: then u32 count, count x (u32 len name, u32 len value))
 *   Entries ('E' and 'N') are numbered per job from 0 in the order written; a directory's
 *   entries follow it, each directory's names in byte order and each subdirectory's entries
 *   right after it (preorder: nearly the path order sbx sorts by); `parent` is the number of
 *   the directory entry.
 * With flag 4 or 8 the walk has a second thread (see `struct pool`): the answer is the same.
 * `scan --whole-max=BYTES`: the caller takes an answer of at most BYTES whole and asks again,
 * reading as it comes, for a bigger one; the walk stops with exit status 3 as soon as the
 * answer passes BYTES (not after a megabyte's walk, this file's usual piece).
 *
 * Exit status: 0 when the protocol completed, 2 on a malformed request or an I/O error, 3 when
 * the answer passed --whole-max. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "helper.h"
#include "beneath.h"
#include "ring.h"
#include <linux/io_uring.h>

static struct buf out;

/* What each thread of the scan has of its own (see `struct pool`): where its records go, the
 * buffers its syscalls fill, and its batch of files to close. */
#define CLOSE_BATCH 128
/* What `prefetch` found for compute(), for one entry of a chunk: the host side looked up
 * (`host` as compute's hstate, with its stat, or NOT_ASKED) and the file opened in one batch
 * with the rest of the chunk (ring.c): >= 0, -errno, or NOT_ASKED (also once given out). */
#define CHUNK 32
#define NOT_ASKED (-1000000)
struct pre { int fd; int host; struct stat hs; };
struct tctx {
  struct buf *cur;     /* records are put here: `out`, or a slot of the window */
  int oom;
  char names[65536], value[65536];
  unsigned char *text; /* a new file's text (flags 4, 8): one buffer reused for every file */
  size_t text_cap;
  int batch[CLOSE_BATCH];
  size_t batched;
  struct ring ring;
  int ring_state;      /* 0 not tried yet, 1 usable, -1 not usable (each call made itself) */
  struct pre pre[CHUNK];
  struct pre *at;      /* the prefetched open of the entry compute() is making, or NULL */
};
static struct tctx main_ctx = {.cur = &out}, worker_ctx;
static __thread struct tctx *T = &main_ctx;

/* Out of memory is remembered and reported once the record is complete. */
static void put(const void *d, size_t n) { if (buf_put(T->cur, d, n) < 0) T->oom = 1; }
static void put8(uint8_t v) { put(&v, 1); }
static void put16(uint16_t v) { unsigned char b[2] = {v & 0xff, v >> 8}; put(b, 2); }
static void put32(uint32_t v) { if (buf_put32(T->cur, v) < 0) T->oom = 1; }
static void put64(uint64_t v) { put32((uint32_t)v); put32((uint32_t)(v >> 32)); }

/* Written out in large pieces: Node reads the stream as it comes. A names-only answer goes in
 * pieces of 64 KiB: Node decodes each while the walk goes on, instead of a megabyte at once
 * (half of 100k names), and after the walk only the last piece is left to decode. */
static size_t flush_at = 1 << 20;
/* The 'M' record being extended: where it starts in `out`, where `out` ended after it (any
 * other record written since ends the run), and its parent. */
static size_t run_at, run_end = SIZE_MAX;
static int32_t run_parent;
/* Where the answer goes, and whether a failure is said on stderr (scan_answer's caller). */
static int out_fd = 1, say_errors = 1;
/* --whole-max (0: none) and what was written so far; the exit status once the answer passed it. */
static size_t whole_max, written;
#define PAST_WHOLE_MAX 3
static int flush(int force) {
  if (!force && out.len < flush_at) return 0;
  if (whole_max && out.len > whole_max - written) _exit(PAST_WHOLE_MAX);
  if (write_all(out_fd, out.p, out.len) < 0) return -1;
  written += out.len;
  out.len = 0;
  run_end = SIZE_MAX;
  return 0;
}

/* `v` as `bytes` little-endian bytes at p; returns where they end. */
static unsigned char *le(unsigned char *p, uint64_t v, int bytes) {
  for (int k = 0; k < bytes; k++) p[k] = (unsigned char)(v >> (8 * k));
  return p + bytes;
}

/* A regular file's name for the names mode without line counts, added to the 'M' record just
 * written, or starting one: Node then takes a directory's new files a run at a time (one copy
 * of the names) instead of decoding a record per name. */
static void put_in_run(int32_t parent, const char *name) {
  size_t nl = strlen(name) + 1;
  if (run_end != out.len || run_parent != parent) {
    run_at = out.len;
    run_parent = parent;
    put8('M'); put32((uint32_t)parent); put32(0); put32(0);
  }
  put(name, nl);
  if (main_ctx.oom) return;
  unsigned char *h = (unsigned char *)out.p + run_at;
  uint32_t count = le32((const char *)h + 5) + 1, nbytes = le32((const char *)h + 9) + (uint32_t)nl;
  le(h + 5, count, 4);
  le(h + 9, nbytes, 4);
  run_end = out.len;
}

/* The STAT fields made in place and put at once: a put per field was a call (and a bounds
 * check) per field, 17 per entry. */
static void put_stat(const struct stat *st) {
  unsigned char b[92], *p = b;
  p = le(p, st->st_mode, 4); p = le(p, st->st_uid, 4); p = le(p, st->st_gid, 4); p = le(p, (uint32_t)st->st_nlink, 4);
  p = le(p, (uint64_t)st->st_size, 8); p = le(p, (uint64_t)st->st_blocks, 8); p = le(p, st->st_ino, 8); p = le(p, st->st_dev, 8); p = le(p, st->st_rdev, 8);
  p = le(p, (uint64_t)st->st_atim.tv_sec, 8); p = le(p, (uint32_t)st->st_atim.tv_nsec, 4);
  p = le(p, (uint64_t)st->st_mtim.tv_sec, 8); p = le(p, (uint32_t)st->st_mtim.tv_nsec, 4);
  p = le(p, (uint64_t)st->st_ctim.tv_sec, 8); p = le(p, (uint32_t)st->st_ctim.tv_nsec, 4);
  put(b, (size_t)(p - b));
}

/* The kernel allocates (and for a value zeroes) a buffer of the size passed before it looks:
 * 64 KiB per call is a page allocation per file. Most entries have no xattr or a short list,
 * so a small size is tried first and the whole buffer only when that is too small (ERANGE). */
#define XATTR_FIRST 512
static ssize_t list_of(const char *path, int fd, size_t size) {
  return fd >= 0 ? flistxattr(fd, T->names, size) : llistxattr(path, T->names, size);
}
static ssize_t value_of(const char *path, int fd, const char *name, size_t size) {
  return fd >= 0 ? fgetxattr(fd, name, T->value, size) : lgetxattr(path, name, T->value, size);
}

/* Every xattr of `path` (not following it), or of the open file `fd` when fd >= 0;
 * ENOTSUP/ENODATA are an empty list. A value that cannot be read (EACCES: a user xattr of an
 * entry the caller may not read, such as one of mode 000) makes the whole list that errno:
 * sent as empty, it was committed empty. */
static void put_xattrs_of(const char *path, int fd) {
  char *names = T->names, *value = T->value;
  ssize_t n = list_of(path, fd, XATTR_FIRST);
  if (n < 0 && errno == ERANGE) n = list_of(path, fd, sizeof T->names);
  if (n < 0) {
    if (errno == ENOTSUP || errno == ENODATA) { put32(0); put32(0); } else put32((uint32_t)errno);
    return;
  }
  uint32_t count = 0;
  for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
    /* Size 0 asks only the length, after the same permission check as a read. The VFS checks
     * none for security.* and system.* (SELinux labels, ACLs: on such hosts every entry has
     * one), so those are not asked twice. */
    const char *nm = names + i;
    if (strncmp(nm, "security.", 9) != 0 && strncmp(nm, "system.", 7) != 0 &&
        value_of(path, fd, nm, 0) < 0 && errno != ENODATA && errno != ERANGE) {
      put32((uint32_t)errno);
      return;
    }
    count++;
  }
  put32(0);
  put32(count);
  for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
    const char *name = names + i;
    ssize_t v = value_of(path, fd, name, XATTR_FIRST);
    if (v < 0 && errno == ERANGE) v = value_of(path, fd, name, sizeof T->value);
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

static int read_open(int fd, uint64_t size, size_t *len);

/* The new files read for a review are closed a batch at a time: one close_range per run of
 * consecutive fds instead of a close each (each syscall costs its entry and exit, which on
 * this kind of VM is most of a small file's cost). Only runs made wholly of the batch's own
 * fds are closed as ranges, so no fd of anyone else's is ever in one. */
static int by_fd(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static void close_fds(int *batch, size_t batched) {
  qsort(batch, batched, sizeof *batch, by_fd);
  for (size_t i = 0, j; i < batched; i = j) {
    for (j = i + 1; j < batched && batch[j] == batch[j - 1] + 1; j++) {}
    if (j - i == 1 || close_range((unsigned)batch[i], (unsigned)batch[j - 1], 0) < 0)
      for (size_t k = i; k < j; k++) close(batch[k]);
  }
}

static void close_batch(void) {
  close_fds(T->batch, T->batched);
  T->batched = 0;
}

/* A file read here is done with: closed with its batch. */
static void release(int fd) {
  if (T->batched == CLOSE_BATCH) close_batch();
  T->batch[T->batched++] = fd;
}

/* O_NOATIME: reading a file written since its last read moves its atime (relatime), so a
 * review would change the atime a commit keeps, and costs an inode update per file. Refused
 * (EPERM) for a file that is not ours without CAP_FOWNER: that one is read as before. */
static int open_read(int dir, const char *name) {
  int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  int fd = openat(dir, name, flags | O_NOATIME);
  return fd < 0 && errno == EPERM ? openat(dir, name, flags) : fd;
}

/* `name` in `dir` opened for reading if it is a regular file (its stat in *st), else -1: no
 * symlink followed, no blocking on a fifo, and the type checked on the open file, so a name
 * swapped meanwhile is never read as something else. */
static int open_regular(int dir, const char *name, struct stat *st) {
  int fd = open_read(dir, name);
  /* Out of fds with a batch held open: closed, and the file tried again. */
  if (fd < 0 && errno == EMFILE && T->batched) { close_batch(); fd = open_read(dir, name); }
  if (fd < 0) return -1;
  if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) { close(fd); return -1; }
  return fd;
}

/* open_regular for the entry compute() is making: its file as `prefetch` opened it, when it
 * did. An open the batch could not make as open_read would (O_NOATIME refused, out
 * of fds with a batch held open) is made here again. */
static int open_new(int dir, const char *name, struct stat *st) {
  struct pre *p = T->at;
  if (!p || p->fd == NOT_ASKED) return open_regular(dir, name, st);
  int fd = p->fd;
  p->fd = NOT_ASKED;
  if (fd == -EPERM || fd == -EMFILE || fd == -ENFILE || fd == -EAGAIN || fd == -EINTR) return open_regular(dir, name, st);
  if (fd < 0) { errno = -fd; return -1; }
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
  if (T->text_cap < size + 1) {
    unsigned char *t = realloc(T->text, size + 1);
    if (!t) { release(fd); return -3; }
    T->text = t;
    T->text_cap = size + 1;
  }
  unsigned char *text = T->text;
  size_t n = 0;
  int binary = 0;
  while (n < size + 1) {
    /* pread: no file-position lock, which a read takes while two threads share the fd table. */
    ssize_t r = pread(fd, text + n, size + 1 - n, (off_t)n);
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
  const unsigned char *text = T->text;
  int64_t lines = 0;
  for (const unsigned char *p = text, *end = text + len; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) lines++;
  if (len && text[len - 1] != '\n') lines++;
  return lines > INT32_MAX ? -2 : (int32_t)lines;
}

/* A new file's text as read_new reads it: through `fd` when the file is open already (a
 * regular file of `size` bytes, as fstat said; released here), else opened by name. */
static int text_of(int fd, int dir, const char *name, uint64_t size, uint64_t cap, size_t *len) {
  if (fd < 0) return read_new(dir, name, size, cap, len);
  *len = 0;
  if (size == 0 || size > cap) { release(fd); return size ? -2 : 0; }
  return read_open(fd, size, len);
}

/* The record's `lines` (flag 4): lines of a text file (a last line without a newline counts),
 * read as text_of reads it. */
static int32_t count_lines(int fd, int dir, const char *name, uint64_t size, uint64_t cap) {
  size_t len;
  int r = text_of(fd, dir, name, size, cap, &len);
  return r < 0 ? r : lines_of(len);
}

/* Bytes of file text put in this answer so far (flag 8): past the request's budget, files
 * are left for sbx to read (-3), so the answer stays bounded. Written by the thread that
 * writes the answer, read by the other (a bound that only grows). */
static uint64_t text_sent;

/* count_lines for an 'N' record (flags 4|16): the file is opened by name and its size taken
 * from the open file, so no fstatat is made; -3 when it cannot be opened as a regular file
 * (then a whole 'E' record is sent instead). */
static int32_t count_lines_named(int dir, const char *name, uint64_t cap, uint64_t *size) {
  struct stat st;
  int fd = open_new(dir, name, &st);
  if (fd < 0) return -3;
  *size = (uint64_t)st.st_size;
  return count_lines(fd, -1, NULL, *size, cap);
}

/* One entry's record, made by either thread for the window it belongs to (see `struct
 * pool`) and written to the answer in order by the walk. A new file's text (flag 8) is the
 * record's last field and depends on the budget spent before it, so it is decided when the
 * record is written: the text read ahead (files up to READ_AHEAD bytes), the file still open
 * (larger ones: read then, one at a time), or nothing to read. */
#define READ_AHEAD 65536
struct slot {
  struct buf rec;    /* the record up to its text field, then the text read ahead */
  size_t head;       /* where the text read ahead starts in rec */
  int oom;
  int has_text;      /* the record ends with a text field */
  uint64_t size;     /* the new file's size (has_text) */
  int read;          /* the text was read ahead: `result` and rec[head, rec.len) */
  int result;        /* 0 or -1/-2/-3 (read_open's) */
  int fd;            /* open, to read when written (-1: by name then, or nothing) */
  int descend;       /* a directory the walk enters after this record */
  int host_ok;       /* and its host side is a directory */
};

/* The text field of slot `s` (entry `name` in `dir`), as put_text wrote it when the walk read
 * each file itself: a budget spent (0 < size <= cap) means -3, and nothing read ahead is
 * sent then. */
static void put_text_of(struct slot *s, int dir, const char *name, uint64_t cap, uint64_t budget) {
  uint64_t size = s->size;
  if (size > 0 && size <= cap && text_sent + size > budget) {
    if (s->fd >= 0) release(s->fd);
    s->fd = -1;
    put32((uint32_t)-3);
    return;
  }
  int r;
  size_t len;
  const void *bytes;
  if (s->read) { r = s->result; len = s->rec.len - s->head; bytes = s->rec.p + s->head; }
  else {
    r = text_of(s->fd, dir, name, size, cap, &len);
    s->fd = -1;
    bytes = T->text;
  }
  if (r < 0) { put32((uint32_t)r); return; }
  __atomic_store_n(&text_sent, text_sent + len, __ATOMIC_RELAXED);
  put32((uint32_t)len);
  put(bytes, len);
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
  if (say_errors) fprintf(stderr, "sbx-helper scan: %s: %s\n", what, strerror(err));
  return 2;
}

/* Each name in a frame's pool is preceded by its d_type byte (the 'N' records' kind). */
static int by_bytes(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads every name of the directory below `ufd` into t (sorted); -1 with errno when it
 * cannot be opened (reported as a 'D' record), -2 with errno on a read or memory error. */
static int load_names(int ufd, struct frame *t) {
  /* O_NOATIME, as open_read: listing a directory changed since it was last listed moves its
   * atime (relatime), which a commit then keeps. */
  int dfd = openat(ufd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
  if (dfd < 0 && errno == EPERM) dfd = openat(ufd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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

/* What every entry of the directory being walked is read with. */
struct dirctx { int ufd, hdup, fuse, few, lines, texts, names_only; uint64_t cap, budget; int32_t parent; };

/* Whether entry `name`'s host side is looked up: there is a host dir, and a fuse layer's opaque
 * mark names nothing of the host's. */
static int host_asked(const struct dirctx *d, const char *name) {
  return d->hdup >= 0 && !(d->fuse && strcmp(name, ".wh..wh..opq") == 0);
}

/* The host side of entry `name` (a fuse layer's `.wh.X` whiteout stands for X): 1 with *hs, 0
 * where there is none, else the errno. */
static int host_state(const struct dirctx *d, const char *name, struct stat *hs) {
  const char *hname = d->fuse && strlen(name) > 4 && memcmp(name, ".wh.", 4) == 0 ? name + 4 : name;
  return fstatat(d->hdup, hname, hs, AT_SYMLINK_NOFOLLOW) == 0 ? 1 : errno == ENOENT ? 0 : errno;
}

/* The opens compute() would make for names[0, n) (n <= CHUNK), made in one io_uring_enter
 * instead of one openat each (ring.c). Only opens: io_uring makes a statx in its worker
 * threads always, and on tmpfs (where a throwaway run's layers are) its reads too, so batching
 * those cost more CPU than the syscalls they saved (a review of 200k new files: the helper's
 * CPU +20% with the stats and reads batched too, -15% with only the opens). compute() opens a
 * DT_REG name only where the host has no regular file: the host side is looked up here first
 * (fstatat, as compute() would), and its answer kept for compute(). */
static void prefetch(const struct dirctx *d, char **names, size_t n) {
  struct tctx *t = T;
  for (size_t k = 0; k < n; k++) t->pre[k].fd = t->pre[k].host = NOT_ASKED;
  if (d->lines == d->texts || t->ring_state < 0) return;
  if (t->ring_state == 0) {
    t->ring_state = ring_init(&t->ring, CHUNK) < 0 ? -1 : 1;
    if (t->ring_state < 0) return;
  }
  int64_t res[CHUNK];
  int asked = 0;
  for (size_t k = 0; k < n; k++) {
    res[k] = NOT_ASKED;
    if ((unsigned char)names[k][-1] != DT_REG) continue;
    struct pre *p = &t->pre[k];
    const char *name = names[k];
    if (host_asked(d, name)) {
      p->host = host_state(d, name, &p->hs);
      if (p->host == 1 && S_ISREG(p->hs.st_mode)) continue;
    }
    struct io_uring_sqe *q = ring_sqe(&t->ring);
    q->opcode = IORING_OP_OPENAT; q->fd = d->ufd; q->addr = (uintptr_t)names[k];
    q->open_flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOATIME;
    q->user_data = k;
    asked = 1;
  }
  if (!asked) return;
  /* A failed batch may have opened files that no answer names: left open, the scan ends soon. */
  if (ring_run(&t->ring, res, n) < 0) { t->ring_state = -1; return; }
  for (size_t k = 0; k < n; k++) if (res[k] != NOT_ASKED) t->pre[k].fd = (int)res[k];
}

/* Entry `name`'s record into slot `s`, up to its text field (see `struct slot`): the
 * syscalls an entry costs, made by whichever thread takes it. */
static void compute(const struct dirctx *d, const char *name, struct slot *s) {
  struct buf *saved = T->cur;
  int saved_oom = T->oom;
  T->cur = &s->rec;
  T->oom = 0;
  s->rec.len = 0;
  s->has_text = s->read = s->descend = s->host_ok = 0;
  s->fd = -1;
  int ufd = d->ufd, hdup = d->hdup, fuse = d->fuse, lines = d->lines, texts = d->texts;
  size_t nl = strlen(name);
  int wh = fuse && nl > 4 && memcmp(name, ".wh.", 4) == 0;
  const char *hname = wh ? name + 4 : name;
  unsigned char dtype = (unsigned char)name[-1];
  struct stat us, hs;
  int hstate = 0;
  struct pre *p = T->at;
  if (p && p->host != NOT_ASKED) {
    hstate = p->host;
    if (hstate == 1) hs = p->hs;
  } else if (host_asked(d, name)) {
    hstate = host_state(d, name, &hs);
  }
  int32_t nlines = 0;
  uint64_t nsize = 0;
  if (d->names_only && hstate == 0 && dtype == DT_REG && lines && !wh) nlines = count_lines_named(ufd, name, d->cap, &nsize);
  if (d->names_only && hstate == 0 && (dtype == DT_REG || dtype == DT_LNK) && nlines != -3) {
    put8('N'); put32((uint32_t)d->parent); put8(dtype); put16((uint16_t)nl); put(name, nl);
    if (lines && dtype == DT_REG && !wh) { put32((uint32_t)nlines); put64(nsize); }
    s->oom = T->oom;
    T->cur = saved;
    T->oom = saved_oom;
    return;
  }
  put8('E'); put32((uint32_t)d->parent); put16((uint16_t)nl); put(name, nl);
  /* A new regular file whose content is asked for (flag 4 or 8) is opened first, then
   * stat'ed, its xattrs listed and its content read through that fd: one lookup of the
   * name instead of three (fstatat, llistxattr, openat). */
  int nfd = -1;
  if (lines != texts && dtype == DT_REG && !(hstate == 1 && S_ISREG(hs.st_mode))) {
    nfd = open_new(ufd, name, &us);
  }
  int uerr = nfd >= 0 ? 0 : fstatat(ufd, name, &us, AT_SYMLINK_NOFOLLOW) < 0 ? errno : 0;
  if (uerr) put32((uint32_t)uerr); else { put32(0); put_stat(&us); }
  put32((uint32_t)hstate);
  if (hstate == 1) put_stat(&hs);
  char path[64 + 256];
  if (!uerr) {
    /* A name relative to the cwd (the directory itself, see fchdir in scan_job): a path
     * through /proc/self/fd costs the lookup of a magic link per call. */
    /* flag 2: only where the change list's kinds depend on them (opaque dirs, whiteout
     * files, entries the host also has); a listing needs no more. */
    int same_type = hstate == 1 && (hs.st_mode & S_IFMT) == (us.st_mode & S_IFMT);
    int new_file = S_ISREG(us.st_mode) && !(hstate == 1 && S_ISREG(hs.st_mode));
    if (!d->few || S_ISDIR(us.st_mode) || (S_ISREG(us.st_mode) && us.st_size == 0) || same_type)
      put_xattrs_of(name, nfd);
    else { put32(0); put32(0); }
    if (same_type && !S_ISLNK(hs.st_mode)) {
      snprintf(path, sizeof path, "/proc/self/fd/%d/%s", hdup, hname);
      put_xattrs(path);
    }
    if (lines && new_file) {
      put32((uint32_t)count_lines(nfd, ufd, name, (uint64_t)us.st_size, d->cap));
      nfd = -1; /* closed by either */
    }
    if (texts && new_file) {
      uint64_t size = (uint64_t)us.st_size;
      s->has_text = 1;
      s->size = size;
      s->head = s->rec.len;
      /* Read ahead unless the budget is spent already (it only grows) or the file is
       * large: the text waits in the slot until the record is written. */
      if (size <= READ_AHEAD && !(size > 0 && size <= d->cap && __atomic_load_n(&text_sent, __ATOMIC_RELAXED) + size > d->budget)) {
        size_t len = 0;
        int r = text_of(nfd, ufd, name, size, d->cap, &len);
        s->read = 1;
        s->result = r;
        if (r == 0) put(T->text, len);
      } else s->fd = nfd;
      nfd = -1;
    }
    if (S_ISDIR(us.st_mode) && !wh) {
      s->descend = 1;
      s->host_ok = hstate == 1 && S_ISDIR(hs.st_mode);
    }
  }
  if (nfd >= 0) close(nfd);
  s->oom = T->oom;
  T->cur = saved;
  T->oom = saved_oom;
}

/* The scan's second thread (flags 4 and 8: each new file opened and read, the syscalls most of
 * the scan's time): a directory's entries are taken a window at a time, the entries of a
 * window shared between the two threads as they come (an atomic counter), each record made
 * into its slot; the walk then writes the window's records in order, so the answer is the
 * one a single thread writes. A window holds no directory (d_type), so no record of it waits
 * while the walk is below it; one found to be a directory only when stat'ed ends the window
 * there and the slots after it are made again later. At most WINDOW files are held open and
 * READ_AHEAD bytes of text each. */
#define WINDOW 128
struct pool {
  pthread_t thread;
  int started;
  pthread_mutex_t mu;
  pthread_cond_t go, done;
  uint32_t gen;        /* the window handed out last */
  int quit;
  const struct dirctx *d;
  char **names;
  struct slot *slots;
  size_t n;
  /* gen << 32 | the next entry of that window to take (atomic): an entry is taken only in the
   * window it belongs to, however late the worker comes to it. */
  uint64_t ticket;
  size_t made;         /* entries of the window made (atomic) */
};
static struct pool pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .go = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};
static struct slot slots[WINDOW];

/* The next entries of window `gen` (n entries) to make, at most CHUNK (*count of them), or
 * SIZE_MAX when none is left. */
static size_t take(uint32_t gen, size_t n, size_t *count) {
  uint64_t t = __atomic_load_n(&pool.ticket, __ATOMIC_ACQUIRE);
  for (;;) {
    size_t i = (size_t)(t & 0xffffffffu);
    if ((uint32_t)(t >> 32) != gen || i >= n) return SIZE_MAX;
    size_t c = n - i < CHUNK ? n - i : CHUNK;
    if (__atomic_compare_exchange_n(&pool.ticket, &t, t + c, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) { *count = c; return i; }
  }
}

/* names[0, n) made into sl[0, n), their calls asked of the kernel in batches first. */
static void compute_chunk(const struct dirctx *d, char **names, struct slot *sl, size_t n) {
  prefetch(d, names, n);
  for (size_t k = 0; k < n; k++) {
    T->at = &T->pre[k];
    compute(d, names[k], &sl[k]);
    /* Opened for a call compute() did not make after all (a name it read differently). */
    if (T->pre[k].fd >= 0) close(T->pre[k].fd);
    T->pre[k].fd = NOT_ASKED;
  }
  T->at = NULL;
}

static void take_entries(uint32_t gen, const struct dirctx *d, char **names, struct slot *sl, size_t n, int worker) {
  for (size_t k, c; (k = take(gen, n, &c)) != SIZE_MAX;) {
    compute_chunk(d, names + k, sl + k, c);
    if (__atomic_add_fetch(&pool.made, c, __ATOMIC_ACQ_REL) == n && worker) {
      pthread_mutex_lock(&pool.mu);
      pthread_cond_signal(&pool.done);
      pthread_mutex_unlock(&pool.mu);
    }
  }
}

static void *worker(void *arg) {
  (void)arg;
  T = &worker_ctx;
  uint32_t seen = 0;
  pthread_mutex_lock(&pool.mu);
  for (;;) {
    while (pool.gen == seen && !pool.quit) pthread_cond_wait(&pool.go, &pool.mu);
    if (pool.quit) break;
    seen = pool.gen;
    const struct dirctx *d = pool.d;
    char **names = pool.names;
    struct slot *sl = pool.slots;
    size_t n = pool.n;
    pthread_mutex_unlock(&pool.mu);
    take_entries(seen, d, names, sl, n, 1);
    pthread_mutex_lock(&pool.mu);
  }
  pthread_mutex_unlock(&pool.mu);
  return NULL;
}

/* Both threads make the slots of names[0, n); returns when all are made. The walk waits only
 * for an entry the worker took and is still making: a worker not scheduled in time (a busy
 * machine) takes nothing, and the walk makes the whole window itself. */
static void run_window(const struct dirctx *d, char **names, size_t n) {
  pthread_mutex_lock(&pool.mu);
  pool.d = d;
  pool.names = names;
  pool.slots = slots;
  pool.n = n;
  uint32_t gen = ++pool.gen;
  __atomic_store_n(&pool.made, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&pool.ticket, (uint64_t)gen << 32, __ATOMIC_RELEASE);
  pthread_cond_signal(&pool.go);
  pthread_mutex_unlock(&pool.mu);
  take_entries(gen, d, names, slots, n, 0);
  if (__atomic_load_n(&pool.made, __ATOMIC_ACQUIRE) < n) {
    pthread_mutex_lock(&pool.mu);
    while (__atomic_load_n(&pool.made, __ATOMIC_ACQUIRE) < n) pthread_cond_wait(&pool.done, &pool.mu);
    pthread_mutex_unlock(&pool.mu);
  }
  /* The worker's files go with the walk's batch: together they are runs of fds again. (The
   * worker touches its batch only while making an entry, and every entry is made.) */
  for (size_t i = 0; i < worker_ctx.batched; i++) release(worker_ctx.batch[i]);
  worker_ctx.batched = 0;
}

static void pool_stop(void) {
  if (!pool.started) return;
  pthread_mutex_lock(&pool.mu);
  pool.quit = 1;
  pthread_cond_signal(&pool.go);
  pthread_mutex_unlock(&pool.mu);
  pthread_join(pool.thread, NULL);
  pool.started = 0;
}

/* The second thread, when the scan reads files and there are fds for a window's worth held
 * open by each thread; else the walk makes every record itself. */
static int pool_start(void) {
  struct rlimit rl;
  /* Open at once at most: the walk's batch, the worker's, the large files of a window, the
   * files each thread's prefetch holds, the directory chains (beneath.c, 256 each at most, fewer
   * near the limit) and a few. */
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < 2 * CLOSE_BATCH + WINDOW + 2 * CHUNK + 512) return 0;
  if (pthread_create(&pool.thread, NULL, worker, NULL) != 0) return 0;
  pool.started = 1;
  return 1;
}

/* A ROOT of an 'R' record: the directory `rel` below `b`'s root, its stat and xattrs (read
 * through the directory made the cwd: l*xattr on "." follow nothing). */
static void put_root(struct beneath *b, const char *rel) {
  int fd = beneath_dir(b, rel, strlen(rel));
  struct stat st;
  if (fd < 0 || fstatat(fd, "", &st, AT_EMPTY_PATH) < 0) { put32((uint32_t)(errno ? errno : EIO)); return; }
  put32(0);
  put_stat(&st);
  if (fchdir(fd) < 0) put32((uint32_t)errno);
  else put_xattrs(".");
}

static int scan_job(struct beneath *ub, struct beneath *hb, const char *upper_root, const char *host_root, int fuse, int few, int lines, int texts, int names_only, uint64_t cap, uint64_t budget) {
  struct stack st = {0};
  int32_t next = 0;
  char *u0 = strdup(upper_root), *h0 = strdup(host_root);
  if (!u0 || !h0 || push(&st, u0, h0, -1, 1) < 0) return fail("out of memory", ENOMEM);
  if ((lines || texts) && !pool.started) pool_start();
  int parallel = pool.started && (lines || texts);
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
    /* An empty directory (most of a run's layers' roots): its host side is not looked up. */
    if (t->n == 0) { pop(&st); continue; }
    /* The host side, when it is a directory: entries are looked up from its fd. */
    int hfd = t->host_ok ? beneath_dir(hb, t->host, strlen(t->host)) : -1;
    int hdup = hfd >= 0 ? fcntl(hfd, F_DUPFD_CLOEXEC, 0) : -1;
    /* The upper directory's xattr calls take names relative to it (l*xattr, which follow
     * no final symlink); the directory is ours, found without following any symlink. */
    if (fchdir(ufd) < 0) { int e = errno; if (hdup >= 0) close(hdup); return fail("fchdir", e); }
    struct dirctx d = {ufd, hdup, fuse, few, lines, texts, names_only, cap, budget, t->entry};
    int descend = 0;
    while (!descend && t->i < t->n) {
      /* A window: the entries up to the next directory (by d_type), WINDOW at most; an entry
       * of unknown type is a window of its own, made by the walk. */
      size_t w = 0;
      if (parallel) {
        while (w < WINDOW && t->i + w < t->n) {
          unsigned char dt = (unsigned char)t->names[t->i + w][-1];
          if (dt == DT_DIR || dt == DT_UNKNOWN) break;
          w++;
        }
      }
      if (w > 1) run_window(&d, t->names + t->i, w);
      else { w = 1; compute(&d, t->names[t->i], &slots[0]); }
      size_t k = 0;
      for (; k < w; k++) {
        struct slot *s = &slots[k];
        const char *name = t->names[t->i + k];
        int32_t me = next++;
        /* An 'N' record of a regular file (d_type at byte 5) goes into a run, unless lines are
         * counted (then it has more fields) or it is a fuse `.wh.` name. */
        if (!s->oom && names_only && !lines && s->rec.len > 5 && s->rec.p[0] == 'N' && (unsigned char)s->rec.p[5] == DT_REG
            && !(fuse && strncmp(name, ".wh.", 4) == 0 && name[4] != '\0'))
          put_in_run(t->entry, name);
        else if (s->oom || buf_put(&out, s->rec.p, s->has_text && s->read ? s->head : s->rec.len) < 0) main_ctx.oom = 1;
        if (s->has_text) put_text_of(s, ufd, name, cap, budget);
        if (s->descend) {
          size_t nl = strlen(name);
          const char *hname = fuse && nl > 4 && memcmp(name, ".wh.", 4) == 0 ? name + 4 : name;
          char *cu = join(t->upper, name, nl), *ch = join(t->host, hname, strlen(hname));
          /* push may move the stack: t is not used after it. */
          size_t resume = t->i + k + 1;
          t->i = resume;
          if (!cu || !ch || push(&st, cu, ch, me, s->host_ok) < 0) { if (hdup >= 0) close(hdup); return fail("out of memory", ENOMEM); }
          descend = 1;
          k++;
          break;
        }
      }
      /* Made but not written (after a directory found by stat): made again on return. */
      for (size_t j = k; j < w; j++) if (slots[j].has_text && !slots[j].read && slots[j].fd >= 0) release(slots[j].fd);
      if (!descend) t->i += w;
      if (main_ctx.oom) { if (hdup >= 0) close(hdup); return fail("out of memory", ENOMEM); }
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

/* `--whole-max=BYTES` (NULL: none): see the top of this file. */
static int whole_max_opt(const char *opt) {
  if (!opt) return 0;
  char *end;
  if (strncmp(opt, "--whole-max=", 12) != 0 || !opt[12]) return fail("unknown option", EINVAL);
  errno = 0;
  unsigned long long m = strtoull(opt + 12, &end, 10);
  if (*end || errno || m == 0 || m > SIZE_MAX / 2) return fail("bad --whole-max", EINVAL);
  whole_max = (size_t)m;
  /* Checked at each flush: one piece never holds more than the limit allows. */
  flush_at = whole_max + 1;
  return 0;
}

int scan_main(const char *opt) {
  if (whole_max_opt(opt)) return 2;
  struct buf in = {0};
  if (buf_read_fd(&in, 0) < 0) return fail("read", errno);
  int r = scan_answer(in.p, in.len, 3, 4, 1, 1);
  free(in.p);
  return r;
}

/* `sbx-helper scan-many`: several scans for one start of the helper (`sbx ls` scans every
 * small sandbox; from Node each start cost ~5 ms, most of what a small sandbox's scan costs).
 * stdin, per scan: u32 layers-root fd, u32 host-root fd (both inherited, each >= 3), u32
 * length, the request (as `scan` reads it). Each scan runs in a child of its own (scan_answer's
 * state is one walk's) that writes into a pipe; stdout, per scan in the order asked: u32
 * status (the child's exit status, 128+signal; 0: the answer is whole), u32 length, that many
 * bytes of answer (none unless the status is 0). Numbers little-endian. Each answer is held
 * whole, here and in Node; with --whole-max=BYTES each scan stops as `scan` does (status 3),
 * and Node scans that big sandbox alone, its answer decoded as it comes. */
int scan_many_main(const char *opt) {
  if (whole_max_opt(opt)) return 2;
  struct buf in = {0};
  if (buf_read_fd(&in, 0) < 0) return fail("read", errno);
  say_errors = 1;
  size_t off = 0;
  while (off < in.len) {
    uint32_t lfd, hfd, len;
    if (next_u32(&in, &off, &lfd) < 0 || next_u32(&in, &off, &hfd) < 0 || next_u32(&in, &off, &len) < 0
        || len > in.len - off || lfd < 3 || hfd < 3 || lfd > INT32_MAX || hfd > INT32_MAX) return fail("malformed request", EINVAL);
    const char *req = in.p + off;
    off += len;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return fail("pipe", errno);
    pid_t c = fork();
    if (c < 0) return fail("fork", errno);
    if (c == 0) {
      close(p[0]);
      _exit(scan_answer(req, len, (int)lfd, (int)hfd, p[1], 1));
    }
    close(p[1]);
    struct buf ans = {0};
    int rd = buf_read_fd(&ans, p[0]), rerr = errno;
    close(p[0]);
    int st;
    while (waitpid(c, &st, 0) < 0) if (errno != EINTR) return fail("waitpid", errno);
    if (rd < 0) return fail("read", rerr);
    uint32_t status = WIFEXITED(st) ? (uint32_t)WEXITSTATUS(st) : 128 + (uint32_t)WTERMSIG(st);
    if (status == 0 && ans.len > UINT32_MAX) status = 2;
    uint32_t n = status == 0 ? (uint32_t)ans.len : 0;
    struct buf head = {0};
    if (buf_put32(&head, status) < 0 || buf_put32(&head, n) < 0) return fail("out of memory", ENOMEM);
    if (write_all(1, head.p, head.len) < 0 || (n && write_all(1, ans.p, n) < 0)) return fail("write", errno);
    free(head.p);
    free(ans.p);
  }
  free(in.p);
  return 0;
}

/* The walk of one request (the bytes scan_main reads on stdin), below the layers root `lfd`
 * and the host root `hfd`, written to `ofd`; with `say` 0 a failure is only the return value.
 * Also called by the run's outer process once the sandbox ended (outer.c review_scan), once:
 * the walk's state is this file's. */
int scan_answer(const char *req, size_t len, int lfd, int hfd, int ofd, int say) {
  struct { const char *p; size_t len; } in = { req, len };
  out_fd = ofd;
  say_errors = say;
  /* A larger pipe: fewer wake-ups of Node and of this process for a stream of megabytes
   * (stdout may be no pipe; then this fails and changes nothing). */
  (void)fcntl(ofd, F_SETPIPE_SZ, 1 << 20);
  struct beneath ub, hb;
  beneath_init(&ub, lfd);
  beneath_init(&hb, hfd);
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
    const char *base = NULL;
    if (flags & 32) {
      base = in.p + off;
      const char *bn = off < in.len ? memchr(base, '\0', in.len - off) : NULL;
      if (!bn) return fail("malformed request", EINVAL);
      off = (size_t)(bn - in.p) + 1;
    }
    if ((flags & 16) && flush_at > 1 << 16) flush_at = 1 << 16;
    put8('J'); put32(job);
    if (base) { put8('R'); put_root(&ub, u); put_root(&hb, h); put_root(&ub, base); }
    int r = scan_job(&ub, &hb, u, h, flags & 1, flags & 2, flags & 4, flags & 8, flags & 16, cap, budget);
    if (r) return r;
  }
  close_batch();
  pool_stop();
  if (main_ctx.oom) return fail("out of memory", ENOMEM);
  if (flush(1) < 0) return fail("write", errno);
  beneath_close(&ub);
  beneath_close(&hb);
  free(main_ctx.text);
  free(worker_ctx.text);
  if (main_ctx.ring_state == 1) ring_close(&main_ctx.ring);
  if (worker_ctx.ring_state == 1) ring_close(&worker_ctx.ring);
  return 0;
}
