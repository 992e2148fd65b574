/* sbx-helper run, the outer process (in the host namespaces): reads the spec, applies cgroup
 * limits and device rules, makes a fresh run's layer dirs (entries.c), clones the sandbox's pid 1 into new namespaces, writes its uid/gid
 * maps and cgroup membership, releases it, forwards signals, restores the terminal, and exits
 * with the sandbox's status. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include "sandbox.h"

static pid_t child_pid = -1;

static void __attribute__((noreturn)) outer_fail(const char *step, const char *path, int err) {
  if (child_pid > 0) kill(child_pid, SIGKILL);
  die_step(step, path, err);
}

static void idmap_tool(const char *step, const char *tool, const char *args) {
  int err = run_idmap_tool(tool, child_pid, args);
  if (err) outer_fail(step, tool, err);
}

/* Writes one of /proc/PID/{uid_map,gid_map,setgroups}; on failure the child is killed. */
static void write_proc_file(const char *step, pid_t pid, const char *file, const char *content) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  autoclose int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, content, strlen(content)) < 0) outer_fail(step, path, errno);
}

/* An ordinary user's maps: two setuid execs (newuidmap, newgidmap) that write different files
 * of the child, started side by side. They take ~7 ms here (each loads five libraries as a
 * setuid program), so the outer makes the layer dirs meanwhile (prepare_layers): the sandbox's
 * pid 1 uses none of them before it is released. */
static int idmap_tools_side_by_side(void) {
  return cfg.newuidmap[0] && cfg.newgidmap[0] && !cfg.setgroups;
}

/* Each failure is still said as its own step, the uid map's first. prepare runs while the
 * tools do; a failure of its own ends us, and pid 1 with us (EOF on its release pipe). */
static void write_idmaps(void (*prepare)(void)) {
  if (idmap_tools_side_by_side()) {
    pid_t u, g;
    int uerr = start_idmap_tool(cfg.newuidmap[0], child_pid, cfg.newuidmap[1], &u);
    if (uerr) outer_fail("uid-map", cfg.newuidmap[0], uerr);
    int gerr = start_idmap_tool(cfg.newgidmap[0], child_pid, cfg.newgidmap[1], &g);
    if (prepare) prepare();
    uerr = wait_idmap_tool(u);
    if (!gerr) gerr = wait_idmap_tool(g);
    if (uerr) outer_fail("uid-map", cfg.newuidmap[0], uerr);
    if (gerr) outer_fail("gid-map", cfg.newgidmap[0], gerr);
    return;
  }
  if (cfg.newuidmap[0]) idmap_tool("uid-map", cfg.newuidmap[0], cfg.newuidmap[1]);
  else if (cfg.uid_map) write_proc_file("uid-map", child_pid, "uid_map", cfg.uid_map);
  if (cfg.setgroups) write_proc_file("setgroups", child_pid, "setgroups", cfg.setgroups);
  if (cfg.newgidmap[0]) idmap_tool("gid-map", cfg.newgidmap[0], cfg.newgidmap[1]);
  else if (cfg.gid_map) write_proc_file("gid-map", child_pid, "gid_map", cfg.gid_map);
}

/* A short-lived process in a new user namespace with the sandbox's mapping; its namespace
 * outlives it through the fd and serves every idmapped lower layer. */
static pid_t idmap_child = -1;

static void make_idmap_userns(void) {
  if (!cfg.uid_map || !cfg.gid_map) die_msg("idmap-userns", "idmapped layers need uid_map and gid_map");
  /* hold: the child waits for EOF on it until its namespace is mapped and held open by our fd. */
  int hold[2];
  if (pipe2(hold, O_CLOEXEC) < 0) die_step("idmap-userns", NULL, errno);
  /* Cloned into the new namespace, which exists once clone returns: the maps are written and
   * the namespace opened without waiting for the child to run. A child that unshared it
   * itself had to be scheduled first and say so: up to 4.5 ms blocked here at load ~5, median
   * 1.98 ms against 0.29 cloned so (SBX_DEBUG_TIMES, 20 runs of one spec each). */
  pid_t h = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
  if (h < 0) die_step("idmap-userns", "unshare", errno);
  if (h == 0) {
    char c;
    close(hold[1]);
    while (read(hold[0], &c, 1) < 0 && errno == EINTR) {}
    _exit(0);
  }
  close(hold[0]);
  /* Reaped once the sandbox has ended (idmap_reap): waiting here for it to exit put that on
   * the path to the command's start (5-18 ms at load 4-11). Set before anything can fail, so
   * the child is known. */
  idmap_child = h;
  char nspath[64];
  snprintf(nspath, sizeof nspath, "/proc/%d/ns/user", (int)h);
  write_proc_file("idmap-userns", h, "uid_map", cfg.uid_map);
  write_proc_file("idmap-userns", h, "gid_map", cfg.gid_map);
  idmap_userns_fd = open(nspath, O_RDONLY | O_CLOEXEC);
  if (idmap_userns_fd < 0) die_step("idmap-userns", nspath, errno);
  close(hold[1]);
}

static void idmap_reap(void) {
  if (idmap_child > 0) while (waitpid(idmap_child, NULL, 0) < 0 && errno == EINTR) {}
}

/* Limits and device rules are in place before the child exists. */
static void apply_cgroup_rules(void) {
  for (size_t i = 0; i < cfg.n_cgroup_writes; i++) {
    const char *path = cfg.cgroup_writes[i]->args[0], *val = cfg.cgroup_writes[i]->args[1];
    autoclose int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, val, strlen(val)) < 0) die_step("cgroup-write", path, errno);
  }
  for (size_t i = 0; i < cfg.n_devbpf; i++) {
    const char *step = NULL;
    const struct spec_op *op = cfg.devbpf[i];
    if (devbpf_attach(op->args[0], (const unsigned char *)op->args[1], op->lens[1], &step) < 0) die_step(step, op->args[0], errno);
  }
  times_mark("cgroup-rules");
}

/* A throwaway run's overlay work dirs: nothing reads them once the sandbox ended, and here
 * they go in a few syscalls each (sbx removes the rest after its review). BASE is sbx's
 * trusted layers dir, opened before the view is built (root's is built here, and then this
 * process's root is the sandbox's); REL is resolved beneath it without following a symlink.
 * A failure is no error: sbx's own removal takes whatever is left. */
static int scrap_fd[MAX_SCRAP], scrap_opened;

/* Root's quiet throwaway run: the layer dirs the entries make go on a tmpfs mounted, in the
 * mount namespace root's view is built in, on a dir made beneath the layers dir (sbx's,
 * resolved without following a symlink). Nothing reads those layers after the command, and
 * the namespace's end frees them (after a kill too): the dir left on the host is empty, one
 * scrap removes it. */
static void layers_tmpfs(void) {
  if (!cfg.layers_dir || !cfg.build_outside || strchr(cfg.layers_tmpfs, '/') || cfg.layers_tmpfs[0] == '.' || !cfg.layers_tmpfs[0])
    die_msg("spec", "layers_tmpfs takes one name beneath a layers_dir, with build_outside");
  if (unshare(CLONE_NEWNS) < 0) die_step("mount-namespace", NULL, errno);
  /* Private before the mount, so that it never propagates to the host's namespace. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die_step("make-private", "/", errno);
  autoclose int base = open(cfg.layers_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (base < 0) die_step("layers-tmpfs", cfg.layers_dir, errno);
  if (mkdirat(base, cfg.layers_tmpfs, 0700) < 0) die_step("layers-tmpfs", cfg.layers_tmpfs, errno);
  autoclose int at = open_beneath(base, cfg.layers_tmpfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", at);
  if (at < 0 || mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0) die_step("layers-tmpfs", cfg.layers_tmpfs, errno);
}

static void scrap_open(void) {
  scrap_opened = 1;
  for (size_t i = 0; i < cfg.n_scrap; i++) {
    const char *base = cfg.scrap[i]->args[0];
    scrap_fd[i] = i > 0 && strcmp(base, cfg.scrap[i - 1]->args[0]) == 0 ? scrap_fd[i - 1]
      : open(base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
}

/* Each distinct BASE fd once (consecutive ops share it). */
static void scrap_close(void) {
  if (!scrap_opened) return;
  scrap_opened = 0;
  for (size_t i = 0; i < cfg.n_scrap; i++) if (scrap_fd[i] >= 0 && (i + 1 == cfg.n_scrap || scrap_fd[i + 1] != scrap_fd[i])) close(scrap_fd[i]);
}

static void scrap_after(void) {
  for (size_t i = 0; i < cfg.n_scrap; i++) {
    char parent[PATH_MAX];
    const char *name;
    if (scrap_fd[i] < 0 || split_last(cfg.scrap[i]->args[1], parent, sizeof parent, &name) < 0) continue;
    autoclose int p = open_beneath(scrap_fd[i], parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (p >= 0) remove_tree_at(p, name);
  }
  scrap_close();
}

/* The review's scan (`review_scan`): sbx gave us its layers root, the host root and an unnamed
 * file, each opened as it opens them for `sbx-helper scan`; once the sandbox ended we walk the
 * layers as that subcommand would and write the answer into the file (sbx's fork and exec of
 * the helper for it cost ~8 ms a review). Called here, not exec'd: root's outer has the
 * sandbox's view as its root by then, whose files the command may have changed, so nothing is
 * loaded from a path. The fds are close-on-exec here and closed in pid 1 at once: no process
 * of the sandbox holds one. A scan that fails is no error of the run (the command's end is
 * already in the status file): sbx is told, and scans itself. */
static void review_scan_fds(int close_them, int status_fd) {
  if (!cfg.review_scan) return;
  for (int i = 0; i < 3; i++) {
    int fd = (int)cfg.review_scan->num[i];
    if (close_them) close(fd);
    else if (fd == status_fd || (cfg.pty && fd == cfg.jobctl_fd)) die_msg("review-scan-fd", "a review_scan fd is the status or job-control fd");
    else if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) die_step("review-scan-fd", NULL, errno);
  }
}

static void review_scan(void) {
  if (!cfg.review_scan) return;
  const struct spec_op *op = cfg.review_scan;
  int r = scan_answer(op->args[3], op->lens[3], (int)op->num[0], (int)op->num[1], (int)op->num[2], 0);
  review_scan_fds(1, -1);
  if (r == 0) status_send("review-scanned", "%d", 0);
  else status_send("review-scan-failed", "%d", r);
  times_mark("review-scan");
}

/* A saved run's layers are mounted volatile (no fsync reaches the disk while the command
 * runs): once the sandbox ended, one syncfs of their filesystem puts them on disk before sbx
 * says the sandbox is saved (sbx started `sync -f` for it: a fork of its Node, ~25 ms besides
 * the sync itself). The dir is opened before the view is built (root's outer then has the
 * sandbox's root); a path that led elsewhere would only sync another filesystem. */
static int syncfs_fd = -1, syncfs_err;

static void syncfs_open(void) {
  if (!cfg.syncfs_dir) return;
  syncfs_fd = open(cfg.syncfs_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (syncfs_fd < 0) syncfs_err = errno;
}

static void syncfs_after(void) {
  if (!cfg.syncfs_dir) return;
  /* syncfs_err is already set when the dir could not be opened. */
  if (syncfs_fd >= 0) {
    if (syncfs(syncfs_fd) < 0) syncfs_err = errno;
    close(syncfs_fd);
  }
  if (!syncfs_err) status_send("synced", "%d", 0);
  else status_send("sync-failed", "%d", syncfs_err);
  times_mark("synced");
}

/* Moving a process into a cgroup through cgroup.procs waits for an RCU grace period (the
 * kernel's cgroup_threadgroup_rwsem, taken for writing): 12-16 ms each time here, 6-27 ms
 * under load, on the path to the command's start. Neither of these two ways takes it:
 * pid 1 is cloned straight into the one v2 cgroup (clone3's CLONE_INTO_CGROUP, 0.2-0.3 ms),
 * and moves itself into each v1 cgroup by writing "0" to its "tasks" file (a single thread,
 * the writer itself: 0.03 ms, on a kernel with that short path, which 6.18 has; an older
 * one waits there instead). The tasks files are opened here by the outer, and the kernel
 * checks a v1 move against the credentials the file was opened with. Any cgroup.procs this
 * does not recognise is written by the outer, as before. */
static int into_fd = -1, into_by_clone = -1;
static struct self_move self_moves[MAX_LIST];
static size_t n_self;

static void into_cgroups(int *procs_fds) {
  for (size_t i = 0; i < cfg.n_cgroup_procs; i++) {
    const char *path = cfg.cgroup_procs[i], *slash = strrchr(path, '/');
    struct statfs sf;
    if (!slash || strcmp(slash + 1, "cgroup.procs") != 0 || fstatfs(procs_fds[i], &sf) < 0) continue;
    char dir[PATH_MAX];
    if ((size_t)(slash - path) + sizeof "/tasks" > sizeof dir) continue;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = 0;
    if (sf.f_type == CGROUP2_SUPER_MAGIC && into_fd < 0) {
      if ((into_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) into_by_clone = (int)i;
    } else if (sf.f_type == CGROUP_SUPER_MAGIC) {
      strcat(dir, "/tasks");
      int t = open(dir, O_WRONLY | O_CLOEXEC);
      if (t < 0) continue;
      self_moves[n_self++] = (struct self_move){ t, i };
      close(procs_fds[i]);
      procs_fds[i] = -1;
    }
  }
}

/* The layer dirs and the stand-in tree (entries.c), and the dirs opened for what the outer
 * does once the sandbox ended. */
static void prepare_layers(void) {
  make_entries();
  scrap_open();
  syncfs_open();
  times_mark("entries");
}

int sandbox_main(int spec_fd, int status_fd) {
  status_init(status_fd);
  /* Only our own processes write status lines: newuidmap, fuse-overlayfs and the command
   * must not inherit the channel (unless it is stderr, which they share anyway). */
  if (status_fd > 2 && fcntl(status_fd, F_SETFD, FD_CLOEXEC) < 0) die_step("status-fd", NULL, errno);
  /* If sbx dies, so do we, and with us (pid 1's parent-death signal) the whole sandbox. */
  pid_t parent = getppid();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die_step("parent-death-signal", NULL, errno);
  if (getppid() != parent) _exit(SBX_EXIT_FAILED);

  struct spec spec;
  char err[512];
  if (spec_read(spec_fd, &spec, err, sizeof err) < 0) die_msg("spec", err);
  close(spec_fd);
  load_config(&spec);
  times_mark("spec");
  review_scan_fds(0, status_fd);
  /* Like the status fd: the command's init writes to it, nothing that execs may inherit it. */
  if (cfg.pty && fcntl(cfg.jobctl_fd, F_SETFD, FD_CLOEXEC) < 0) die_step("jobctl-fd", NULL, errno);
  /* The umask sbx was started with, as the command would have had it outside. */
  cfg.umask = umask(0);
  umask(cfg.umask);

  sigset_t set;
  int sfd = make_signalfd(&set);
  if (sfd < 0) die_step("signalfd", NULL, errno);
  signal(SIGTTOU, SIG_IGN); /* restoring the terminal from a background group must not stop us */
  struct termios saved;
  int have_termios = cfg.pty && (cfg.pty_fds & 1) && tcgetattr(0, &saved) == 0; /* init makes it raw */

  /* Opened now: a view built outside hides the host's /sys from us. */
  int procs_fds[MAX_LIST];
  for (size_t i = 0; i < cfg.n_cgroup_procs; i++) {
    procs_fds[i] = open(cfg.cgroup_procs[i], O_WRONLY | O_CLOEXEC);
    if (procs_fds[i] < 0) die_step("cgroup", cfg.cgroup_procs[i], errno);
  }
  into_cgroups(procs_fds);
  times_mark("cgroup-open");
  apply_cgroup_rules();
  /* Opened now: a view built outside replaces the root before the sandbox's pid 1 exists. */
  if (cfg.net_relay_dir) net_relay_open_dir(&net_relay, cfg.net_relay_dir, cfg.net_relay_name, cfg.net_relay_buffer);
  /* Before anything uses them: root's view is built next, an ordinary user's by pid 1. */
  int unshared = 0;
  if (cfg.layers_tmpfs) {
    layers_tmpfs();
    unshared = 1;
    times_mark("layers-tmpfs");
  }
  /* Root's view is built here from the layer dirs; an ordinary user's maps are written by
   * programs slow to start, and the dirs made while they run (write_idmaps). */
  int dirs_later = !cfg.build_outside && idmap_tools_side_by_side();
  if (!dirs_later) prepare_layers();
  if (cfg.build_outside) {
    if (!unshared && unshare(CLONE_NEWNS) < 0) die_step("mount-namespace", NULL, errno);
    make_idmap_userns();
    times_mark("idmap-userns");
    build_root();
  }

  int sync[2];
  if (pipe2(sync, O_CLOEXEC) < 0) die_step("pipe", NULL, errno);
  int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | (cfg.share_net ? 0 : CLONE_NEWNET);
  child_pid = -1;
  if (into_fd >= 0) {
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = (uint64_t)flags | CLONE_INTO_CGROUP;
    ca.exit_signal = SIGCHLD;
    ca.cgroup = (uint64_t)into_fd;
    child_pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
    /* Refused (a kernel without clone3's cgroup, or a cgroup it will not start a process in):
     * a plain clone, and that cgroup's move written below like any other. */
    if (child_pid < 0) into_by_clone = -1;
  }
  if (child_pid < 0) child_pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (child_pid < 0) die_step("clone", NULL, errno);
  times_mark(child_pid == 0 ? "pid 1: cloned" : "clone");
  if (child_pid == 0) {
    close(sync[1]);
    close(sfd);
    for (size_t i = 0; i < cfg.n_cgroup_procs; i++) if (procs_fds[i] >= 0) close(procs_fds[i]);
    if (into_fd >= 0) close(into_fd);
    /* The host's layers dir and root are no business of the sandbox's. */
    scrap_close();
    review_scan_fds(1, -1);
    if (syncfs_fd >= 0) close(syncfs_fd);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die_step("parent-death-signal", NULL, errno);
    init_main(sync[0], self_moves, n_self);
  }
  close(sync[0]);
  if (into_fd >= 0) close(into_fd);
  for (size_t i = 0; i < n_self; i++) close(self_moves[i].fd);
  write_idmaps(dirs_later ? prepare_layers : NULL);
  times_mark("id-maps");
  for (size_t i = 0; i < cfg.n_cgroup_procs; i++) {
    if (procs_fds[i] < 0 || (int)i == into_by_clone) {
      if (procs_fds[i] >= 0) close(procs_fds[i]);
      continue;
    }
    char pidbuf[32];
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)child_pid);
    if (write(procs_fds[i], pidbuf, strlen(pidbuf)) < 0) outer_fail("cgroup", cfg.cgroup_procs[i], errno);
    close(procs_fds[i]);
  }
  if (write(sync[1], "1", 1) != 1) outer_fail("release-child", NULL, errno);
  times_mark("released");
  /* sync[1] stays open while we live: the child checks it after changing its ids. */

  int st = 0;
  for (;;) {
    struct pollfd p = { sfd, POLLIN, 0 };
    if (poll(&p, 1, -1) < 0 && errno != EINTR) outer_fail("poll", NULL, errno);
    struct signalfd_siginfo si;
    int done = 0;
    while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
      if (si.ssi_signo != SIGCHLD) kill(child_pid, (int)si.ssi_signo);
    }
    pid_t w;
    while ((w = waitpid(child_pid, &st, WNOHANG)) > 0 || (w < 0 && errno == EINTR)) if (w == child_pid) done = 1;
    if (done) break;
  }
  times_mark("sandbox-ended");
  if (have_termios) tcsetattr(0, TCSADRAIN, &saved);
  idmap_reap();
  trees_reap();
  if (cfg.disk_mount && cfg.build_outside) disk_copy_out();
  scrap_after();
  times_mark("scrapped");
  syncfs_after();
  review_scan();
  if (WIFSIGNALED(st)) {
    status_send("init-killed", "%d", WTERMSIG(st));
    return 128 + WTERMSIG(st);
  }
  return WEXITSTATUS(st);
}
