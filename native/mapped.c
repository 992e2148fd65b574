/* User-namespace id maps written by newuidmap/newgidmap (setuid tools that must run in the
 * host's namespace), and `sbx-helper as-mapped-root ... count-entries` (or `rmtree`, in
 * copytree.c): counting what a sandbox's directory holds (or removing it), as root of a new
 * user namespace with the sandbox's mapping. Why: a sandbox's programs may give files to other inside
 * users (apt's 0700 `_apt` dirs); those files belong to the user's subordinate uids, which the
 * user cannot read as itself, but root of a namespace mapping exactly the ids the user was
 * granted can. No access beyond those ids is gained. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include "helper.h"

extern char **environ;

int start_idmap_tool(const char *tool, pid_t pid, const char *args, pid_t *started) {
  char *argv[256];
  char pidbuf[32], buf[4096];
  size_t argc = 0;
  snprintf(pidbuf, sizeof pidbuf, "%d", (int)pid);
  if (strlen(args) >= sizeof buf) return E2BIG;
  strcpy(buf, args);
  argv[argc++] = (char *)tool;
  argv[argc++] = pidbuf;
  for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && argc < 255; t = strtok_r(NULL, " ", &save)) argv[argc++] = t;
  argv[argc] = NULL;
  /* The tool's own messages go to stderr; its status is what we act on. posix_spawn (a vfork)
   * rather than fork: the outer's page tables are not copied on the path to the command's
   * start, and an exec that fails comes back as its errno. */
  return posix_spawn(started, tool, NULL, NULL, argv, environ);
}

int wait_idmap_tool(pid_t p) {
  int st;
  while (waitpid(p, &st, 0) < 0) if (errno != EINTR) return errno;
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return WIFEXITED(st) && WEXITSTATUS(st) == 127 ? ENOENT : EPERM;
  return 0;
}

int run_idmap_tool(const char *tool, pid_t pid, const char *args) {
  pid_t p;
  int err = start_idmap_tool(tool, pid, args, &p);
  return err ? err : wait_idmap_tool(p);
}

static int write_self(const char *file, const char *text) {
  char path[32];
  snprintf(path, sizeof path, "/proc/self/%s", file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = write(fd, text, strlen(text)) < 0 ? errno : 0;
  close(fd);
  return err;
}

static int fail(const char *step, int err) {
  fprintf(stderr, "sbx-helper as-mapped-root: %s: %s\n", step, strerror(err));
  return -1;
}

/* a: UIDTOOL UIDMAP GIDTOOL GIDMAP. A tool of "-" means its map is written directly (one line:
 * the caller's own id, which an unprivileged process may map for itself; setgroups is denied
 * first, as the kernel requires). Otherwise the tools run, from a child left in the host's
 * namespace, with this process's pid: a setuid tool run from inside would not be setuid. */
int enter_mapped_root(char **a) {
  int direct = strcmp(a[0], "-") == 0;
  if (direct != (strcmp(a[2], "-") == 0)) return fail("maps", EINVAL);
  if (direct) {
    int err;
    if (unshare(CLONE_NEWUSER) < 0) return fail("unshare", errno);
    if ((err = write_self("uid_map", a[1]))) return fail("uid_map", err);
    if ((err = write_self("setgroups", "deny"))) return fail("setgroups", err);
    if ((err = write_self("gid_map", a[3]))) return fail("gid_map", err);
    return 0;
  }
  int go[2];
  if (pipe2(go, O_CLOEXEC) < 0) return fail("pipe", errno);
  pid_t me = getpid();
  pid_t c = fork();
  if (c < 0) return fail("fork", errno);
  if (c == 0) {
    char b;
    close(go[1]);
    ssize_t n;
    while ((n = read(go[0], &b, 1)) < 0 && errno == EINTR) {}
    if (n != 1) _exit(1); /* the parent could not unshare: it reports why */
    int err = run_idmap_tool(a[0], me, a[1]);
    if (!err) err = run_idmap_tool(a[2], me, a[3]);
    _exit(err ? 2 : 0);
  }
  close(go[0]);
  int err = unshare(CLONE_NEWUSER) < 0 ? errno : 0;
  if (!err && write(go[1], "1", 1) != 1) err = errno;
  close(go[1]);
  int st = 0;
  while (waitpid(c, &st, 0) < 0) if (errno != EINTR) return fail("wait", errno);
  if (err) return fail("unshare", err);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return fail("newuidmap/newgidmap", EPERM);
  return 0;
}

/* Reads NUL-terminated paths relative to fd 3 (the sandbox's layers dir), each resolved
 * beneath it with no symlink followed, and answers per path four little-endian u32s: errno,
 * its entries (. and .. not counted), how many of them bear fuse-overlayfs's opaque-marker
 * names, and whether it has an overlay opaque xattr. What they mean is sbx's to decide. */
int count_entries_main(void) {
  struct buf in = {0}, out = {0};
  if (buf_read_fd(&in, 0) < 0) return fail("read", errno);
  for (size_t off = 0; off < in.len;) {
    const char *rel = next_str(&in, &off);
    if (!rel) return fail("malformed request", EINVAL);
    uint32_t err = 0, n = 0, markers = 0, opaque = 0;
    /* O_NOATIME (we are root of a namespace that maps the dir's owner: CAP_FOWNER over it):
     * getdents moves the atime of a dir changed since it was last listed (relatime), and a
     * review that only looks would change what a commit copies. */
    int fd = open_beneath(3, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NOATIME);
    if (fd < 0 && errno == EPERM) fd = open_beneath(3, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
      err = (uint32_t)errno;
      if (fd >= 0) close(fd);
    } else {
      struct dirent *e;
      while ((errno = 0, e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
        if (strcmp(e->d_name, ".wh..wh..opq") == 0 || strcmp(e->d_name, ".wh..opq") == 0) markers++;
      }
      err = (uint32_t)errno;
      char v[8];
      opaque = fgetxattr(dirfd(d), "user.overlay.opaque", v, sizeof v) >= 0 || fgetxattr(dirfd(d), "trusted.overlay.opaque", v, sizeof v) >= 0;
      closedir(d);
    }
    if (err) n = markers = opaque = 0;
    if (buf_put32(&out, err) < 0 || buf_put32(&out, n) < 0 || buf_put32(&out, markers) < 0 || buf_put32(&out, opaque) < 0) return fail("out of memory", ENOMEM);
  }
  if (write_all(1, out.p, out.len) < 0) return fail("write", errno);
  return 0;
}
