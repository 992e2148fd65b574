/* --disk: the layers are copied onto a tmpfs of the given size, so a runaway writer gets
 * ENOSPC inside while the host disk is untouched, and copied back after the command. The fds
 * are opened before pivot_root hides both places. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include "sandbox.h"

static int disk_fd = -1, disk_parent_fd = -1;

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

void disk_setup(void) {
  char data[128];
  snprintf(data, sizeof data, "size=%llu,mode=0700", cfg.disk_size);
  if (mount("tmpfs", cfg.disk_mount, "tmpfs", MS_NOSUID | MS_NODEV, data) < 0) die_step("disk-tmpfs", cfg.disk_mount, errno);
  disk_fd = open(cfg.disk_mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (disk_fd < 0) die_step("disk-tmpfs", cfg.disk_mount, errno);
  for (size_t i = 0; i < cfg.n_disk_layers; i++) {
    const char *layer = cfg.disk_layers[i], *name = base_name(layer);
    if (disk_parent_fd < 0) {
      char parent[SBX_PATH_MAX];
      if ((size_t)snprintf(parent, sizeof parent, "%.*s", (int)(name - layer), layer) >= sizeof parent) die_msg("spec", "path too long");
      disk_parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (disk_parent_fd < 0) die_step("disk-copy-in", parent, errno);
    }
    autoclose int src = open(layer, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0) die_step("disk-copy-in", layer, errno);
    if (mkdirat(disk_fd, name, 0700) < 0) die_step("disk-copy-in", name, errno);
    autoclose int dst = openat(disk_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char failed[4096];
    if (dst < 0 || copy_tree(src, dst, failed, sizeof failed) < 0) die_step("disk-copy-in", dst < 0 ? name : failed, errno);
  }
}

/* After the command: each layer's new state goes to LAYER.out beside it (sbx swaps them). */
void disk_copy_out(void) {
  for (size_t i = 0; i < cfg.n_disk_layers; i++) {
    const char *name = base_name(cfg.disk_layers[i]);
    char out[512], failed[4096] = "";
    snprintf(out, sizeof out, "%s.out", name);
    autoclose int src = openat(disk_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ok = src >= 0 && mkdirat(disk_parent_fd, out, 0700) == 0;
    autoclose int dst = ok ? openat(disk_parent_fd, out, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (!ok || dst < 0 || copy_tree(src, dst, failed, sizeof failed) < 0)
      status_send("disk-copy-failed", "%d %s/%s", errno, name, failed);
  }
}
