/* sbx-helper run, the outer process (in the host namespaces): reads the spec, applies cgroup
 * limits and device rules, clones the sandbox's pid 1 into new namespaces, writes its uid/gid
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
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

static void write_idmaps(void) {
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
  /* ready: the child says it has unshared (no polling of /proc/PID/ns/user); hold: it waits
   * for EOF on it until its namespace is mapped and held open by our fd. */
  int ready[2], hold[2];
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0) die_step("idmap-userns", NULL, errno);
  pid_t h = fork();
  if (h < 0) die_step("idmap-userns", NULL, errno);
  if (h == 0) {
    char c;
    close(ready[0]);
    close(hold[1]);
    int err = unshare(CLONE_NEWUSER) == 0 ? 0 : errno;
    if (write(ready[1], &err, sizeof err) != (ssize_t)sizeof err || err) _exit(1);
    while (read(hold[0], &c, 1) < 0 && errno == EINTR) {}
    _exit(0);
  }
  close(ready[1]);
  close(hold[0]);
  int err = EPIPE;
  ssize_t n;
  while ((n = read(ready[0], &err, sizeof err)) < 0 && errno == EINTR) {}
  close(ready[0]);
  if (n != (ssize_t)sizeof err) err = EPIPE;
  if (err) { waitpid(h, NULL, 0); die_step("idmap-userns", "unshare", err); }
  char nspath[64];
  snprintf(nspath, sizeof nspath, "/proc/%d/ns/user", (int)h);
  write_proc_file("idmap-userns", h, "uid_map", cfg.uid_map);
  write_proc_file("idmap-userns", h, "gid_map", cfg.gid_map);
  idmap_userns_fd = open(nspath, O_RDONLY | O_CLOEXEC);
  if (idmap_userns_fd < 0) die_step("idmap-userns", nspath, errno);
  close(hold[1]);
  /* Reaped once the sandbox has ended (idmap_reap): waiting here for it to be scheduled and
   * exit put that on the path to the command's start (5-18 ms at load 4-11). */
  idmap_child = h;
}

static void idmap_reap(void) {
  if (idmap_child > 0) while (waitpid(idmap_child, NULL, 0) < 0 && errno == EINTR) {}
}

/* Device programs, loaded (and their cgroups opened: a view built outside hides the host's
 * /sys from us) before the view is built, attached once pid 1 has moved (attach_devbpf). */
static int devbpf_prog[8], devbpf_cg[8];

/* The cgroup writes now, the device programs loaded: nothing of the sandbox exists yet. */
static void apply_cgroup_rules(void) {
  for (size_t i = 0; i < cfg.n_cgroup_writes; i++) {
    const char *path = cfg.cgroup_writes[i]->args[0], *val = cfg.cgroup_writes[i]->args[1];
    autoclose int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, val, strlen(val)) < 0) die_step("cgroup-write", path, errno);
  }
  for (size_t i = 0; i < cfg.n_devbpf; i++) {
    const char *step = NULL;
    const struct spec_op *op = cfg.devbpf[i];
    if ((devbpf_prog[i] = devbpf_load((const unsigned char *)op->args[1], op->lens[1], &step)) < 0) die_step(step, op->args[0], errno);
    if ((devbpf_cg[i] = open(op->args[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) die_step("devbpf-cgroup", op->args[0], errno);
  }
}

static void close_devbpf(void) {
  for (size_t i = 0; i < cfg.n_devbpf; i++) {
    close(devbpf_prog[i]);
    close(devbpf_cg[i]);
  }
}

/* Attaching takes the kernel's cgroup_mutex, which the head-start child's first move holds
 * while it waits for its grace period: here, after pid 1's own move, that wait is one we
 * would make anyway. Pid 1 has run nothing yet (it waits for the release). */
static void attach_devbpf(void) {
  for (size_t i = 0; i < cfg.n_devbpf; i++) {
    if (devbpf_attach(devbpf_prog[i], devbpf_cg[i]) < 0) outer_fail("devbpf-attach", cfg.devbpf[i]->args[0], errno);
  }
  close_devbpf();
}

/* A throwaway run's overlay work dirs: nothing reads them once the sandbox ended, and here
 * they go in a few syscalls each (sbx removes the rest after its review). BASE is sbx's
 * trusted layers dir, opened before the view is built (root's is built here, and then this
 * process's root is the sandbox's); REL is resolved beneath it without following a symlink.
 * A failure is no error: sbx's own removal takes whatever is left. */
static int scrap_fd[MAX_SCRAP];

static void scrap_open(void) {
  for (size_t i = 0; i < cfg.n_scrap; i++) {
    const char *base = cfg.scrap[i]->args[0];
    scrap_fd[i] = i > 0 && strcmp(base, cfg.scrap[i - 1]->args[0]) == 0 ? scrap_fd[i - 1]
      : open(base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
}

/* Each distinct BASE fd once (consecutive ops share it). */
static void scrap_close(void) {
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

  sigset_t set;
  int sfd = make_signalfd(&set);
  if (sfd < 0) die_step("signalfd", NULL, errno);
  signal(SIGTTOU, SIG_IGN); /* restoring the terminal from a background group must not stop us */
  struct termios saved;
  int have_termios = cfg.pty && tcgetattr(0, &saved) == 0;

  /* Opened now: a view built outside hides the host's /sys from us. */
  int procs_fds[MAX_LIST];
  for (size_t i = 0; i < cfg.n_cgroup_procs; i++) {
    procs_fds[i] = open(cfg.cgroup_procs[i], O_WRONLY | O_CLOEXEC);
    if (procs_fds[i] < 0) die_step("cgroup", cfg.cgroup_procs[i], errno);
  }
  /* Moving a process into a cgroup waits for an RCU grace period (the kernel's
   * cgroup_threadgroup_rwsem), 6-24 ms measured here on each run, unless another move came
   * less than a grace period before it. A child makes that first, slow move (itself: "0")
   * while the rules are written and the view is built, and keeps moving (a move into its own
   * cgroup) every millisecond until pid 1 has moved, so pid 1's moves below are quick. It is
   * forked before anything else so the wait starts first; it runs nothing but these writes
   * (the device programs are attached, and it is gone, before pid 1 runs anything). Only a
   * head start: whatever fails here fails again below, and is reported there. */
  pid_t outer = getpid();
  pid_t warm = cfg.n_cgroup_procs ? fork() : -1;
  if (warm == 0) {
    exit_with_parent(outer, 0);
    for (int i = 0; i < 5000 && write(procs_fds[0], "0", 1) == 1; i++) usleep(1000);
    _exit(0);
  }
  apply_cgroup_rules();
  /* Opened now: a view built outside replaces the root before the sandbox's pid 1 exists. */
  if (cfg.net_relay_dir) net_relay_open_dir(&net_relay, cfg.net_relay_dir, cfg.net_relay_name, cfg.net_relay_buffer);
  scrap_open();
  if (cfg.build_outside) {
    if (unshare(CLONE_NEWNS) < 0) die_step("mount-namespace", NULL, errno);
    make_idmap_userns();
    build_root();
  }

  int sync[2];
  if (pipe2(sync, O_CLOEXEC) < 0) die_step("pipe", NULL, errno);
  int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | (cfg.share_net ? 0 : CLONE_NEWNET);
  child_pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (child_pid < 0) die_step("clone", NULL, errno);
  if (child_pid == 0) {
    close(sync[1]);
    close(sfd);
    for (size_t i = 0; i < cfg.n_cgroup_procs; i++) close(procs_fds[i]);
    close_devbpf();
    /* The host's layers dir is no business of the sandbox's. */
    scrap_close();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die_step("parent-death-signal", NULL, errno);
    init_main(sync[0]);
  }
  close(sync[0]);
  write_idmaps();
  for (size_t i = 0; i < cfg.n_cgroup_procs; i++) {
    char pidbuf[32];
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)child_pid);
    if (write(procs_fds[i], pidbuf, strlen(pidbuf)) < 0) outer_fail("cgroup", cfg.cgroup_procs[i], errno);
    close(procs_fds[i]);
  }
  attach_devbpf();
  /* Gone before pid 1 runs anything: the cgroups hold only the sandbox's processes. */
  if (warm > 0) {
    kill(warm, SIGKILL);
    while (waitpid(warm, NULL, 0) < 0 && errno == EINTR) {}
  }
  if (write(sync[1], "1", 1) != 1) outer_fail("release-child", NULL, errno);
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
  if (have_termios) tcsetattr(0, TCSADRAIN, &saved);
  idmap_reap();
  trees_reap();
  if (cfg.disk_mount && cfg.build_outside) disk_copy_out();
  scrap_after();
  if (WIFSIGNALED(st)) {
    status_send("init-killed", "%d", WTERMSIG(st));
    return 128 + WTERMSIG(st);
  }
  return WEXITSTATUS(st);
}
