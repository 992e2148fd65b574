/* sbx-helper place: commit's last step for the new files it wrote beside their targets (the
 * stage op in xattr.c): for each, a last check that the host entry is still what the review
 * saw, a journal line, then the rename over the target. The per-file loop of a 50k-file
 * commit; every decision (which entries, in which order, what state each target must be in)
 * was made by sandbox-core/commit, which reads the results.
 *
 *   fd 3: the host root ("/", O_PATH); every path below it is resolved one component at a
 *         time without following a symlink (beneath.c), at any depth, each directory on
 *         the way checked against the --fence arguments (the layers' trees and their mounts)
 *   fd 4: the commit journal (O_APPEND), when the header's flag says so
 *   in:  header: u32 flags (1 = journal on fd 4), u32 pause_at (a step number, or ~0: a test
 *        hook, see below), u32 sync_every (fdatasync the journal after this many renames),
 *        f64 created_ms (the sandbox's start, as Node's msFromTimeSpec counts)
 *        then per entry: u32 step, path\0 (relative to the root), tmp\0 (a name in the same
 *        directory), u32 expect: 0 any state | 1 absent | 2 this entry:
 *          u32 st_mode (type and permission bits), u32 uid, u32 gid, u64 ino, u64 dev,
 *          u64 size, f64 mtime_ms, f64 ctime_ms
 *   out: per entry, in order: u32 result (0 placed, 1 conflict, 2 failed), u32 what
 *        (conflict: 1 exists, 2 gone, 3 differs, 4 its ctime is after created_ms;
 *         failed: 1 parent, 2 rename, 3 journal), u32 errno
 * In the journal, `b STEP` is written before each rename and `d STEP` after it (riding on the
 * next write), as sandbox-core/commit/journal.ts reads them; a refused entry's staged file is
 * removed. Exit 0 when the protocol completed, 2 on a malformed request. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper.h"
#include "beneath.h"

enum { R_PLACED, R_CONFLICT, R_FAILED };
enum { C_EXISTS = 1, C_GONE, C_DIFFERS, C_CHANGED_AFTER_START };
enum { F_PARENT = 1, F_RENAME, F_JOURNAL };
enum { E_ANY, E_ABSENT, E_SAME };

struct expect {
  uint32_t kind, mode, uid, gid;
  uint64_t ino, dev, size;
  double mtime_ms, ctime_ms;
};

static int next_f64(const struct buf *in, size_t *off, double *v) {
  uint64_t bits;
  if (next_u64(in, off, &bits) < 0) return -1;
  memcpy(v, &bits, sizeof *v);
  return 0;
}

/* The same double Node computes for a Stats *Ms field, so equal times compare equal. */
static double ms_of(const struct timespec *t) {
  return (double)t->tv_sec * 1000 + (double)t->tv_nsec / 1000000;
}

/* 0 when the entry at parent/name is in the expected state, else the C_* conflict. */
static int check(int parent, const char *name, const struct expect *e, double created_ms, int *err) {
  if (e->kind == E_ANY) return 0;
  struct stat st;
  int found = fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (!found && errno != ENOENT) { *err = errno; return C_DIFFERS; }
  if (e->kind == E_ABSENT) return found ? C_EXISTS : 0;
  if (!found) return C_GONE;
  if ((uint32_t)(st.st_mode & (S_IFMT | 07777)) != e->mode || st.st_uid != e->uid || st.st_gid != e->gid ||
      (uint64_t)st.st_ino != e->ino || (uint64_t)st.st_dev != e->dev || (uint64_t)st.st_size != e->size ||
      ms_of(&st.st_mtim) != e->mtime_ms || ms_of(&st.st_ctim) != e->ctime_ms)
    return C_DIFFERS;
  return ms_of(&st.st_ctim) > created_ms ? C_CHANGED_AFTER_START : 0;
}

static int fail(const char *what, int err) {
  fprintf(stderr, "sbx-helper place: %s: %s\n", what, strerror(err));
  return 2;
}

int place_main(int argc, char **argv) {
  /* A commit killed half way is resumed by the next sbx; nothing of this one may still be
   * renaming by then. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  struct beneath_fence *fences;
  size_t nfences;
  if (beneath_fence_args(&argc, &argv, &fences, &nfences) < 0 || argc != 1) return fail("usage: sbx-helper place [--fence=MNT:HEXPATH ...]", EINVAL);
  struct buf in = {0}, out = {0};
  if (buf_read_fd(&in, 0) < 0) return fail("reading stdin", errno);
  size_t off = 0;
  uint32_t flags, pause_at, sync_every;
  double created_ms;
  if (next_u32(&in, &off, &flags) < 0 || next_u32(&in, &off, &pause_at) < 0 || next_u32(&in, &off, &sync_every) < 0 ||
      next_f64(&in, &off, &created_ms) < 0)
    return fail("malformed request", EINVAL);
  int journal = flags & 1 ? 4 : -1;
  struct beneath root;
  beneath_init(&root, 3);
  beneath_fence(&root, fences, nfences);
  char line[48];
  size_t pending = 0; /* bytes of `d N\n` not yet written */
  char pend[24];
  uint32_t since_sync = 0;
  while (off < in.len) {
    uint32_t step, kind;
    const char *path = NULL, *tmp = NULL;
    struct expect e = {0};
    if (next_u32(&in, &off, &step) < 0 || !(path = next_str(&in, &off)) || !(tmp = next_str(&in, &off)) ||
        next_u32(&in, &off, &kind) < 0 || kind > E_SAME)
      return fail("malformed request", EINVAL);
    e.kind = kind;
    if (kind == E_SAME &&
        (next_u32(&in, &off, &e.mode) < 0 || next_u32(&in, &off, &e.uid) < 0 || next_u32(&in, &off, &e.gid) < 0 ||
         next_u64(&in, &off, &e.ino) < 0 || next_u64(&in, &off, &e.dev) < 0 || next_u64(&in, &off, &e.size) < 0 ||
         next_f64(&in, &off, &e.mtime_ms) < 0 || next_f64(&in, &off, &e.ctime_ms) < 0))
      return fail("malformed request", EINVAL);
    uint32_t result = R_PLACED, what = 0, err = 0;
    const char *name;
    int parent = beneath_parent(&root, path, &name);
    if (parent < 0 || strchr(tmp, '/') || !*tmp) { result = R_FAILED; what = F_PARENT; err = parent < 0 ? (uint32_t)errno : EINVAL; goto done; }
    int cerr = 0;
    int c = check(parent, name, &e, created_ms, &cerr);
    if (c) {
      result = R_CONFLICT; what = (uint32_t)c; err = (uint32_t)cerr;
      unlinkat(parent, tmp, 0);
      goto done;
    }
    if (journal >= 0) {
      int n = snprintf(line, sizeof line, "b %u\n", step);
      char both[72];
      memcpy(both, pend, pending);
      memcpy(both + pending, line, (size_t)n);
      if (write_all(journal, both, pending + (size_t)n) < 0) { result = R_FAILED; what = F_JOURNAL; err = (uint32_t)errno; goto done; }
      pending = 0;
    }
    if (step == pause_at) {
      /* Lets a test SIGKILL the commit at a known point inside this op (PDEATHSIG ends us). */
      fprintf(stderr, "sbx-test: paused at step %u in the helper\n", step);
      for (;;) pause();
    }
    if (renameat(parent, tmp, parent, name) < 0) { result = R_FAILED; what = F_RENAME; err = (uint32_t)errno; goto done; }
    if (journal >= 0) {
      pending = (size_t)snprintf(pend, sizeof pend, "d %u\n", step);
      if (sync_every && ++since_sync >= sync_every) {
        if (write_all(journal, pend, pending) == 0) pending = 0;
        fdatasync(journal);
        since_sync = 0;
      }
    }
  done:
    if (buf_put32(&out, result) < 0 || buf_put32(&out, what) < 0 || buf_put32(&out, err) < 0) return fail("out of memory", ENOMEM);
  }
  if (pending && write_all(journal, pend, pending) < 0) return fail("writing the journal", errno);
  beneath_close(&root);
  if (write_all(1, out.p ? out.p : "", out.len) < 0) return fail("writing stdout", errno);
  free(in.p);
  free(out.p);
  return 0;
}
