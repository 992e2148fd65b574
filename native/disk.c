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
#include <sys/statfs.h>
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
    if (dst < 0) die_step("disk-copy-in", name, errno);
    if (copy_tree(src, dst, failed, sizeof failed) < 0) {
      int err = errno;
      char where[4700];
      snprintf(where, sizeof where, "%s/%s", name, failed);
      die_step("disk-copy-in", where, err);
    }
  }
}

/* After the command: each layer's new state is copied to LAYER.out beside it. Only when every
 * copy completed are they exchanged with the layers (each exchange atomic) and the old states
 * removed; otherwise every layer stays as it was and the partial copies go. Either way sbx
 * reads one status line: "disk-copied", or "disk-copy-failed ERRNO LAYER/PATH". Before that,
 * "disk-usage FREE TOTAL" (bytes) tells sbx whether the command ran into the limit. */
void disk_copy_out(void) {
  char out[MAX_LIST][512];
  size_t done = 0;
  int err = 0;
  char failed[4096] = "", where[4700] = "";
  struct statfs sf;
  if (fstatfs(disk_fd, &sf) == 0)
    status_send("disk-usage", "%llu %llu", (unsigned long long)sf.f_bavail * (unsigned long long)sf.f_bsize,
                (unsigned long long)sf.f_blocks * (unsigned long long)sf.f_bsize);
  for (size_t i = 0; i < cfg.n_disk_layers; i++) {
    const char *name = base_name(cfg.disk_layers[i]);
    snprintf(out[i], sizeof out[i], "%s.out", name);
    /* A copy left by an sbx that was killed half way is stale. */
    if (remove_tree_at(disk_parent_fd, out[i]) < 0 || mkdirat(disk_parent_fd, out[i], 0700) < 0) {
      err = errno; snprintf(where, sizeof where, "%s", out[i]); break;
    }
    done = i + 1;
    autoclose int src = openat(disk_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    autoclose int dst = openat(disk_parent_fd, out[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0 || dst < 0) { err = errno; snprintf(where, sizeof where, "%s", name); break; }
    if (copy_tree(src, dst, failed, sizeof failed) < 0) { err = errno; snprintf(where, sizeof where, "%s/%s", name, failed); break; }
  }
  size_t swapped = 0;
  if (!err) {
    for (; swapped < cfg.n_disk_layers; swapped++) {
      const char *name = base_name(cfg.disk_layers[swapped]);
      if (renameat2(disk_parent_fd, out[swapped], disk_parent_fd, name, RENAME_EXCHANGE) < 0) {
        err = errno; snprintf(where, sizeof where, "%s", name);
        break;
      }
    }
    /* All or none: a layer already exchanged goes back to its old state. */
    if (err)
      while (swapped > 0) { swapped--; renameat2(disk_parent_fd, out[swapped], disk_parent_fd, base_name(cfg.disk_layers[swapped]), RENAME_EXCHANGE); }
  }
  /* What is in LAYER.out now is either a partial copy or the layer's old state. */
  for (size_t i = 0; i < done; i++) remove_tree_at(disk_parent_fd, out[i]);
  if (err) status_send("disk-copy-failed", "%d %s", err, where);
  else status_send("disk-copied", "%zu", cfg.n_disk_layers);
}
