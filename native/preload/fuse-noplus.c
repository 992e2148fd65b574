/* Preloaded into the fuse-overlayfs daemons (LD_PRELOAD, the spec's fuse_overlay op names it):
 * starts their FUSE session without a readdirplus handler, so the kernel lists their
 * directories with plain READDIR.
 *
 * Why: fuse-overlayfs (1.10 at least) keeps every lower entry it once listed in its node
 * tree, and its READDIRPLUS stats each one; an entry the host has removed since (any busy
 * /tmp, /var or /run) fails the whole listing with ENOENT, and glibc's readdir takes ENOENT
 * from getdents for the end of the directory: `ls`, a shell glob or make saw an empty
 * directory, for the rest of the run, holding files the command had just written. Plain
 * READDIR stats nothing. Lookups and attributes are unchanged (LOOKUP and GETATTR).
 *
 * Built as a shared object beside the helper (scripts/build-native.mjs), never into it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* libfuse 3's struct fuse_lowlevel_ops is a list of handler pointers that only grows at its
 * end (its ABI): readdirplus is the 42nd since 3.0 (init, destroy, lookup, ... fallocate,
 * readdirplus). */
#define READDIRPLUS_SLOT 41

typedef void *(*session_new_fn)(void *args, const void *op, size_t op_size, void *userdata);

void *fuse_session_new(void *args, const void *op, size_t op_size, void *userdata);

void *fuse_session_new(void *args, const void *op, size_t op_size, void *userdata) {
  session_new_fn real = (session_new_fn)dlsym(RTLD_NEXT, "fuse_session_new");
  if (!real) abort();
  /* libfuse keeps the pointer for the session's life: the copy is never freed. */
  if (op && op_size >= (READDIRPLUS_SLOT + 1) * sizeof(void *)) {
    void **copy = malloc(op_size);
    if (copy) {
      memcpy(copy, op, op_size);
      copy[READDIRPLUS_SLOT] = NULL;
      op = copy;
    }
  }
  return real(args, op, op_size, userdata);
}
