/* Preloaded into the fuse-overlayfs daemons (LD_PRELOAD, the spec's fuse_overlay and
 * fuse_shared ops name it): starts their FUSE session without a readdirplus handler, so the
 * kernel lists their directories with plain READDIR, opens no file with O_NOATIME, and has
 * the kernel keep symlink targets.
 *
 * Why no readdirplus: fuse-overlayfs (1.10 at least) keeps every lower entry it once listed
 * in its node tree, and its READDIRPLUS stats each one; an entry the host has removed since
 * (any busy /tmp, /var or /run) fails the whole listing with ENOENT, and glibc's readdir takes
 * ENOENT from getdents for the end of the directory: `ls`, a shell glob or make saw an empty
 * directory, for the rest of the run, holding files the command had just written. Plain
 * READDIR stats nothing. Lookups and attributes are unchanged (LOOKUP and GETATTR).
 *
 * Why no O_NOATIME: a kernel overlay stacked on the daemon's mount (the fuse_lower op) opens
 * a file it copies up with O_NOATIME, since the file looks the mounter's own (squash_to_root),
 * and FUSE passes the flag on; fuse-overlayfs opens the host's file with it, which the kernel
 * refuses (EPERM) for a file the user does not own: every copy-up of a host file failed.
 *
 * Why a host dir's opaque marks read as absent when they cannot be read: fuse-overlayfs asks
 * every lower dir it looks up whether it is opaque (its opaque xattrs, then a `.wh..wh..opq`
 * entry in it); for a dir the user may not read (apt's `partial`, 0700 _apt) both fail with
 * EACCES, and 1.10 then answers the LOOKUP as "no such entry" (with static_nlink, which sbx
 * passes; without it the name was found through a listing of its parent). The dir showed in
 * its parent's listing but could not be looked up, so the kernel overlay above never saw a
 * lower entry there: an `rmdir` of sbx's stand-in for it left no whiteout, the name came
 * back unreachable, and the parent could not be removed (`rm -rf /var/cache/apt`: ENOTEMPTY,
 * found 2026-12-05). A host dir is no overlay's layer: it is not opaque.
 *
 * Why symlinks cached: fuse-overlayfs (1.10) does not ask for FUSE_CAP_CACHE_SYMLINKS, so the
 * kernel asked the daemon for a link's target at every path walk through it: each exec reads
 * the loader through /lib64 and ld-linux-x86-64.so.2 (two links), `cc` goes through
 * /etc/alternatives, and the kernel overlay above keeps no target of its own (READLINK was 644
 * of 3,783 requests over five compiles of a small C file, 2026-12-07). Asked for when the
 * kernel offers it, after the daemon's own choices; the target is then kept with the link's
 * inode, as its attributes already are (the daemon's timeout: 10^9 s).
 *
 * Why a dir the user may not list is opened O_PATH: fuse-overlayfs 1.10 lists a lower dir once
 * (load_dir) and then marks it loaded, after which a name not in the list is ENOENT; a dir
 * whose opendir fails (EACCES: 0711, searchable, not listable) it skips and marks all the same,
 * so `ls /srv/www/site; cat /srv/www/site/index.html` gave an empty list and ENOENT where the
 * host gives EACCES and the file. Its opens go through safe_openat, which is
 * syscall(SYS_openat2): such an open of a dir (read-only, O_DIRECTORY) that fails with EACCES is
 * made again O_PATH, which needs no read permission on the dir, and readdir on that fd (EBADF)
 * fails with EACCES: load_dir then fails before its mark, the listing fails as on the host, and
 * each name is looked up on its own (`cat` by name works). Nothing else of the daemon opens a
 * lower dir O_DIRECTORY but to list it (its other such opens are of the upper, yours).
 *
 * Built as a shared object beside the helper (scripts/build-native.mjs), never into it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* libfuse 3's struct fuse_lowlevel_ops is a list of handler pointers that only grows at its
 * end (its ABI): open is the 15th since 3.0 (init, destroy, lookup, forget, getattr, setattr,
 * readlink, mknod, mkdir, unlink, rmdir, symlink, rename, link, open), readdirplus the 42nd. */
#define INIT_SLOT 0
#define OPEN_SLOT 14
#define READDIRPLUS_SLOT 41
/* struct fuse_conn_info begins proto_major, proto_minor, max_write, max_read, max_readahead,
 * capable, want (unsigned each, since 3.0; 3.17 reads a changed `want` too); the flag is 3.x's. */
#define CONN_CAPABLE 5
#define CONN_WANT 6
#define CAP_CACHE_SYMLINKS (1u << 23)

typedef void *(*session_new_fn)(void *args, const void *op, size_t op_size, void *userdata);
/* libfuse 3.17 added this entry, and its header makes a fuse_session_new call go through it:
 * a daemon built against 3.17 calls this symbol, one built before calls the other. */
typedef void *(*session_new_versioned_fn)(void *args, const void *op, size_t op_size, void *version, void *userdata);
/* open(req, ino, struct fuse_file_info *fi): the struct's first member is `int flags`. */
typedef void (*open_fn)(void *req, uint64_t ino, int *fi);

static open_fn real_open;
/* init(userdata, struct fuse_conn_info *conn) */
typedef void (*init_fn)(void *userdata, unsigned *conn);
static init_fn real_init;

static void init_caching_symlinks(void *userdata, unsigned *conn) {
  real_init(userdata, conn);
  if (conn[CONN_CAPABLE] & CAP_CACHE_SYMLINKS) conn[CONN_WANT] |= CAP_CACHE_SYMLINKS;
}

static void open_without_noatime(void *req, uint64_t ino, int *fi) {
  fi[0] &= ~O_NOATIME;
  real_open(req, ino, fi);
}

/* The daemon's handlers without readdirplus, its open wrapped. libfuse keeps the pointer for
 * the session's life: the copy is never freed. Called twice when one entry calls the other
 * through its own exported name: the second call finds the ops already changed. */
static const void *changed_ops(const void *op, size_t op_size) {
  if (!op || op_size < (READDIRPLUS_SLOT + 1) * sizeof(void *)) return op;
  void **copy = malloc(op_size);
  if (!copy) return op;
  memcpy(copy, op, op_size);
  copy[READDIRPLUS_SLOT] = NULL;
  if (copy[INIT_SLOT] && copy[INIT_SLOT] != (void *)init_caching_symlinks) {
    real_init = (init_fn)copy[INIT_SLOT];
    copy[INIT_SLOT] = (void *)init_caching_symlinks;
  }
  if (copy[OPEN_SLOT] && copy[OPEN_SLOT] != (void *)open_without_noatime) {
    real_open = (open_fn)copy[OPEN_SLOT];
    copy[OPEN_SLOT] = (void *)open_without_noatime;
  }
  return copy;
}

void *fuse_session_new(void *args, const void *op, size_t op_size, void *userdata);
void *fuse_session_new_versioned(void *args, const void *op, size_t op_size, void *version, void *userdata);

void *fuse_session_new(void *args, const void *op, size_t op_size, void *userdata) {
  session_new_fn real = (session_new_fn)dlsym(RTLD_NEXT, "fuse_session_new");
  if (!real) abort();
  return real(args, changed_ops(op, op_size), op_size, userdata);
}

void *fuse_session_new_versioned(void *args, const void *op, size_t op_size, void *version, void *userdata) {
  session_new_versioned_fn real = (session_new_versioned_fn)dlsym(RTLD_NEXT, "fuse_session_new_versioned");
  if (!real) abort();
  return real(args, changed_ops(op, op_size), op_size, version, userdata);
}

/* The opaque marks fuse-overlayfs reads (its own, and overlayfs's two): fuse-overlayfs.h. */
static int opaque_xattr(const char *name) {
  return name && (!strcmp(name, "trusted.overlay.opaque") || !strcmp(name, "user.overlay.opaque") || !strcmp(name, "user.fuseoverlayfs.opaque"));
}

typedef ssize_t (*lgetxattr_fn)(const char *, const char *, void *, size_t);
typedef int (*faccessat_fn)(int, const char *, int, int);

ssize_t lgetxattr(const char *path, const char *name, void *value, size_t size) {
  static lgetxattr_fn real;
  if (!real) real = (lgetxattr_fn)dlsym(RTLD_NEXT, "lgetxattr");
  if (!real) { errno = ENOSYS; return -1; }
  ssize_t r = real(path, name, value, size);
  if (r < 0 && errno == EACCES && opaque_xattr(name)) errno = ENODATA;
  return r;
}

int faccessat(int dirfd, const char *path, int mode, int flags) {
  static faccessat_fn real;
  if (!real) real = (faccessat_fn)dlsym(RTLD_NEXT, "faccessat");
  if (!real) { errno = ENOSYS; return -1; }
  int r = real(dirfd, path, mode, flags);
  static const char mark[] = "/.wh..wh..opq";
  size_t n = path ? strlen(path) : 0;
  if (r < 0 && errno == EACCES && n >= sizeof mark - 1 && !strcmp(path + n - (sizeof mark - 1), mark)) errno = ENOENT;
  return r;
}

typedef long (*syscall_fn)(long, ...);

/* A read-only O_DIRECTORY openat2 that failed with EACCES (`a`: its arguments), made again
 * O_PATH: the fd of a dir the user may search but not list. -1 with EACCES otherwise. */
static long search_only_dir(syscall_fn real, const long *a) {
  const struct open_how *how = (const struct open_how *)a[2];
  if (how && (size_t)a[3] >= sizeof *how && (how->flags & O_DIRECTORY)
      && !(how->flags & (O_PATH | O_ACCMODE | O_CREAT | (O_TMPFILE & ~O_DIRECTORY)))) {
    struct open_how path = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC | (how->flags & O_NOFOLLOW), .resolve = how->resolve };
    long fd = real(SYS_openat2, a[0], a[1], &path, sizeof path);
    if (fd >= 0) return fd;
  }
  errno = EACCES;
  return -1;
}

long syscall(long number, ...) {
  static syscall_fn real;
  if (!real) real = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
  if (!real) { errno = ENOSYS; return -1; }
  /* As glibc's own: six register-sized arguments, whichever the call uses. */
  long a[6];
  va_list ap;
  va_start(ap, number);
  for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
  va_end(ap);
  long r = real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  if (number == SYS_openat2 && r < 0 && errno == EACCES) return search_only_dir(real, a);
  return r;
}

typedef struct dirent64 *(*readdir64_fn)(DIR *);

struct dirent64 *readdir64(DIR *dp) {
  static readdir64_fn real;
  if (!real) real = (readdir64_fn)dlsym(RTLD_NEXT, "readdir64");
  if (!real) { errno = ENOSYS; return NULL; }
  struct dirent64 *d = real(dp);
  if (!d && errno == EBADF) {
    int flags = fcntl(dirfd(dp), F_GETFL);
    if (flags >= 0 && (flags & O_PATH)) errno = EACCES;
  }
  return d;
}
