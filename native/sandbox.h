/* sbx-helper run: what the files of the run subcommand share. The spec, once parsed, becomes
 * one read-only config; each file does one job with it:
 *   config.c   spec ops -> struct config, with the checks that need the whole spec
 *   mounts.c   the filesystem ops and building the new root (pivot_root)
 *   disk.c     --disk: layers copied onto a sized tmpfs and back
 *   entries.c  a fresh run's layer dirs and stand-in tree, as the spec lists them
 *   outer.c    the process in the host namespaces: cgroups, clone, id maps, waiting
 *   init.c     pid 1 of the sandbox and of the command's pid namespace
 *   command.c  the command process: session, fds, rlimits, no_new_privs, seccomp, exec
 *   netrelay.c --allow-net: the sandbox loopback listener copied to sbx's proxy
 *   netdirect.c --allow-net: the supervisor answering the command's connect(2)
 * Every decision (what to mount where, which ids to map, which filter) was made by the
 * TypeScript side; these files only apply it and report the failing step, path and errno. */
#ifndef SBX_SANDBOX_H
#define SBX_SANDBOX_H

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>
#include "helper.h"

#define MAX_LIST 256
#define MAX_SCRAP 4096 /* one per layer; sandbox-core/sandbox.ts SCRAP_MAX */
#define SBX_PATH_MAX 8192

struct rlimit_op { int resource; rlim_t soft, hard; };

struct config {
  int share_net, loopback_up, new_cgroupns, pty;
  int jobctl_fd;                /* with pty: "stopped SIG" lines for sbx (launch.ts) */
  int pty_fds;                  /* with pty: which of fds 0-2 (bits 1, 2, 4) are the pty, the host's terminals */
  const char *uid_map, *gid_map, *setgroups;
  const char *newuidmap[2], *newgidmap[2]; /* path, "inside outside count ..." */
  const char *cgroup_procs[MAX_LIST]; size_t n_cgroup_procs;
  const struct spec_op *cgroup_writes[MAX_LIST]; size_t n_cgroup_writes;
  const struct spec_op *devbpf[8]; size_t n_devbpf;
  const char *hostname, *stage, *cwd;
  mode_t umask;                 /* the caller's, which the command gets (pid 1 sets its own) */
  const char *layers_tmpfs;     /* root: a tmpfs of our own mount namespace on this dir beneath layers_dir */
  int build_outside;            /* root: build the view before entering the user namespace */
  const char *disk_mount;       /* --disk: layers live on a tmpfs of disk_size bytes meanwhile */
  unsigned long long disk_size;
  const char *disk_layers[MAX_LIST]; size_t n_disk_layers;
  const struct spec_op *scrap[MAX_SCRAP]; size_t n_scrap; /* removed once the sandbox ended */
  const struct spec_op *review_scan; /* the review's scan, made once the sandbox ended (outer.c) */
  const char *syncfs_dir;       /* a saved run's layers: their filesystem synced once the sandbox ended */
  int setid; uid_t inside_uid; gid_t inside_gid;
  int cmd_user; uid_t cmd_uid; gid_t cmd_gid;
  char **argv; size_t argc;   /* as many as the spec has: execve's own limit is the only one */
  char **envp; size_t envc;
  struct rlimit_op rlimits[32]; size_t n_rlimits;
  int have_caps; struct cap_sets caps;
  int relay_fds[3]; size_t n_relay; int relay_outputs_shared; /* 1+2: stdout and stderr one pipe */
  const char *net_relay_dir, *net_relay_name; int net_relay_port; size_t net_relay_buffer; /* --allow-net */
  const char *net_direct_name; /* --allow-net's direct path: the proxy's socket for decisions, beside net_relay's */
  unsigned long osc_drop[8]; size_t n_osc_drop; /* with pty: OSC strings of these numbers never reach the user's terminal (termfilter.c) */
  const char *dcs_drop[8]; size_t n_dcs_drop; /* with pty: nor DCS strings that start with these texts */
  const char *scan[16]; size_t n_scan; /* texts whose lines in the relayed output sbx hears of */
  const unsigned char *seccomp; size_t seccomp_len;
  const struct spec_op *fs_ops[65536]; size_t n_fs_ops;
  const char *layers_dir;       /* entries are made beneath it */
  const struct spec_op *entries[65536]; size_t n_entries;
};

extern struct config cfg;

/* config.c */
void load_config(const struct spec *s);

/* mounts.c */
extern int idmap_userns_fd;     /* a user namespace with the sandbox's mapping (root only) */
void build_root(void);
/* trees.c: detached mount trees closed by a child that exits, off the path to the command. */
void tree_release(int fd);
void trees_release_all(void);
void trees_reap(void);
void apply_fs_op(const struct spec_op *op);
void replace_proc(const char *dest);
int is_proc_op(const struct spec_op *op);

/* entries.c: the entry ops, in order, beneath cfg.layers_dir (dies at the first failure) */
void make_entries(void);

/* disk.c */
void disk_setup(void);
void disk_copy_out(void);

/* termfilter.c: the pty's output less the OSC and DCS strings of cfg.osc_drop and dcs_drop; out holds n + 40 bytes */
size_t termfilter(const char *in, size_t n, char *out);

/* errlines.c: lines of the relayed output that contain a text of `scan_output` */
void errlines_feed(int stream, const char *buf, size_t n);
void errlines_report(void);

/* netrelay.c (--allow-net) */
struct net_relay { int dirfd, fd4, fd6; const char *name; size_t buffer; };
extern struct net_relay net_relay;
/* In the host's mount namespace, before the root is replaced: the proxy socket's directory. */
void net_relay_open_dir(struct net_relay *r, const char *dir, const char *name, size_t buffer);
/* In the sandbox's network namespace, loopback up: listen on 127.0.0.1 and ::1. */
void net_relay_listen(struct net_relay *r, int port);
/* After the root is built, before the command's pid namespace: a process of its own accepts,
 * and each connection is copied to the proxy by a child of its own. Closes r's fds. */
void net_relay_start(struct net_relay *r, int drop);
/* How net-pass, the relay and the direct path's supervisor hand each other descriptors: one
 * marker byte carrying one descriptor (SCM_RIGHTS), sent with sendmsg's `flags`. */
ssize_t send_byte_fd(int via, int fd, int flags);
/* The first descriptor a received message carried, or -1; any others are closed. */
struct msghdr;
int take_fd(struct msghdr *m);

/* netdirect.c (--allow-net's direct path: connect(2) answered by a supervisor) */
struct net_direct { int cmd_end; const char *name; };
extern struct net_direct net_direct;
/* In pid 1, before the command's pid namespace: forks the supervisor; cmd_end is the socket
 * the command sends its filter's listener over. */
void net_direct_start(const struct net_relay *r, const char *name);
int net_direct_send_listener(int via, int fd);

/* init.c */
extern const int forwarded_signals[];
extern const size_t n_forwarded_signals;
int make_signalfd(sigset_t *set);
/* A v1 cgroup pid 1 moves itself into, first thing once released (native/outer.c): its
 * "tasks" file, opened by the outer, and its entry in cfg.cgroup_procs (for an error). */
struct self_move { int fd; size_t idx; };
void init_main(int sync_fd, const struct self_move *self, size_t n_self) __attribute__((noreturn));

/* command.c */
void exec_command(int errpipe, int slave) __attribute__((noreturn));
/* What a failed exec's name led to (command.c exec_facts): facts for sbx's wording. */
enum exec_fact { EXEC_FACT_NONE, EXEC_FACT_MISSING, EXEC_FACT_DIR, EXEC_FACT_NOT_EXEC, EXEC_FACT_INTERP };
struct command_report { int step, err, fact; char interp[256]; };
/* Reads the command's setup report; returns 0 when exec succeeded (the pipe closed). */
int command_setup_failed(int errpipe, struct command_report *r);
const char *exec_fact_name(int fact);
const char *command_step_name(int step);
int command_step_is_exec(int step);
int command_step_is_cwd(int step);

#endif
