/* Attack probes for the security suite: each argument names one attempt, run in its own child
 * (a seccomp kill must not take the others with it). Prints "NAME RESULT" per attempt, RESULT
 * being "ok" (the kernel did it), an errno name, or "signal N". The tests decide what is a
 * failure; this file only tries. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <time.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/msg.h>
#include <mqueue.h>
#include <sys/fanotify.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef NFPROTO_INET
#define NFPROTO_INET 1
#endif
#define X32_BIT 0x40000000L

static long rc(long r) { return r < 0 ? -errno : r; }

static long try_ioctl(const char *name) {
  /* fd 0..2 or /dev/tty; "hi" sets bit 32 of the command, which the kernel drops. */
  int fd = 0;
  if (strstr(name, "devtty")) { fd = open("/dev/tty", O_RDWR); if (fd < 0) return -errno; }
  else if (strstr(name, "fd1")) fd = 1;
  else if (strstr(name, "fd2")) fd = 2;
  unsigned long cmd = strstr(name, "tioclinux") ? TIOCLINUX : TIOCSTI;
  if (strstr(name, "hi")) cmd |= 1UL << 32;
  if (cmd == TIOCLINUX || (cmd & 0xffffffff) == TIOCLINUX) { char sub = 6; return rc(syscall(SYS_ioctl, fd, cmd, &sub)); }
  /* The injected text ends with a newline: if it ever reached a shell, it would run. */
  const char *s = "echo SBX-INJECTED\n";
  for (const char *p = s; *p; p++) { long r = rc(syscall(SYS_ioctl, fd, cmd, p)); if (r < 0) return r; }
  return 0;
}

/* Terminal state that outlives the command: exclusive mode (further opens fail with EBUSY) and
 * the line discipline (27: N_NULL, which swallows everything); on fd 0..2. */
static long try_tty_state(const char *name) {
  int fd = strstr(name, "fd1") ? 1 : strstr(name, "fd2") ? 2 : 0;
  if (!strncmp(name, "tiocexcl", 8)) return rc(ioctl(fd, TIOCEXCL));
  int ldisc = 27;
  return rc(ioctl(fd, TIOCSETD, &ldisc));
}

/* ---- netlink requests: what nft, ip link and tc send, reduced to one message each ---- */
struct nlbuf { char b[2048] __attribute__((aligned(NLMSG_ALIGNTO))); size_t len; };

static struct nlmsghdr *nl_begin(struct nlbuf *m, int type, int flags, const void *hdr, size_t hdrlen) {
  struct nlmsghdr *h = (struct nlmsghdr *)(m->b + m->len);
  memset(h, 0, NLMSG_SPACE(hdrlen));
  h->nlmsg_type = (unsigned short)type;
  h->nlmsg_flags = (unsigned short)(NLM_F_REQUEST | flags);
  h->nlmsg_seq = (unsigned)(m->len + 1);
  h->nlmsg_len = (unsigned)NLMSG_LENGTH(hdrlen);
  memcpy(NLMSG_DATA(h), hdr, hdrlen);
  return h;
}
static void nl_end(struct nlbuf *m, struct nlmsghdr *h) { m->len += NLMSG_ALIGN(h->nlmsg_len); }
static struct nlattr *nl_attr(struct nlmsghdr *h, int type, const void *data, size_t len) {
  struct nlattr *a = (struct nlattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
  a->nla_type = (unsigned short)type;
  a->nla_len = (unsigned short)(NLA_HDRLEN + len);
  if (len) memcpy((char *)a + NLA_HDRLEN, data, len);
  h->nlmsg_len = (unsigned)(NLMSG_ALIGN(h->nlmsg_len) + NLA_ALIGN(a->nla_len));
  return a;
}
/* A nested attribute covers everything added after it. */
static void nl_nest_end(struct nlmsghdr *h, struct nlattr *a) { a->nla_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)a); }

/* Sends the messages and returns the kernel's answer to the one with sequence `seq`: 0, -errno. */
static long nl_talk(int proto, struct nlbuf *m, unsigned seq) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
  if (fd < 0) return -errno;
  struct sockaddr_nl k = { .nl_family = AF_NETLINK };
  if (sendto(fd, m->b, m->len, 0, (struct sockaddr *)&k, sizeof k) < 0) return -errno;
  char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
  for (int round = 0; round < 16; round++) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) return -errno;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(h);
        if (h->nlmsg_seq == seq || e->error) return e->error;
      } else if (seq == 0) return 0; /* a dump answered */
    }
  }
  return -ETIMEDOUT;
}

static long nl_probe(const char *n) {
  struct nlbuf m = { .len = 0 };
  struct nlmsghdr *h;
  if (!strcmp(n, "nft-newtable")) {
    /* nf_tables takes changes in a batch: begin, NEWTABLE, end. */
    struct nfgenmsg g = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0, .res_id = htons(NFNL_SUBSYS_NFTABLES) };
    nl_end(&m, nl_begin(&m, NFNL_MSG_BATCH_BEGIN, 0, &g, sizeof g));
    struct nfgenmsg t = { .nfgen_family = NFPROTO_INET, .version = NFNETLINK_V0 };
    h = nl_begin(&m, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK, &t, sizeof t);
    unsigned seq = h->nlmsg_seq;
    nl_attr(h, NFTA_TABLE_NAME, "sbxprobe", 9);
    nl_end(&m, h);
    nl_end(&m, nl_begin(&m, NFNL_MSG_BATCH_END, 0, &g, sizeof g));
    return nl_talk(NETLINK_NETFILTER, &m, seq);
  }
  if (!strncmp(n, "link-add-", 9)) {
    struct ifinfomsg i = { .ifi_family = AF_UNSPEC };
    h = nl_begin(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &i, sizeof i);
    char name[IFNAMSIZ];
    snprintf(name, sizeof name, "sbx%s", n + 9);
    nl_attr(h, IFLA_IFNAME, name, strlen(name) + 1);
    struct nlattr *info = nl_attr(h, IFLA_LINKINFO, NULL, 0);
    nl_attr(h, IFLA_INFO_KIND, n + 9, strlen(n + 9) + 1);
    nl_nest_end(h, info);
    nl_end(&m, h);
    return nl_talk(NETLINK_ROUTE, &m, h->nlmsg_seq);
  }
  if (!strcmp(n, "tc-qdisc-htb")) {
    /* tc qdisc add dev lo root handle 1: htb */
    struct tcmsg t = { .tcm_family = AF_UNSPEC, .tcm_ifindex = 1, .tcm_handle = 0x10000, .tcm_parent = TC_H_ROOT };
    h = nl_begin(&m, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &t, sizeof t);
    nl_attr(h, TCA_KIND, "htb", 4);
    struct nlattr *opts = nl_attr(h, TCA_OPTIONS, NULL, 0);
    struct tc_htb_glob glob = { .version = 3, .rate2quantum = 10 };
    nl_attr(h, TCA_HTB_INIT, &glob, sizeof glob);
    nl_nest_end(h, opts);
    nl_end(&m, h);
    return nl_talk(NETLINK_ROUTE, &m, h->nlmsg_seq);
  }
  if (!strcmp(n, "route-dump")) {
    /* ip link show: a read, which must keep working. */
    struct ifinfomsg i = { .ifi_family = AF_UNSPEC };
    nl_end(&m, nl_begin(&m, RTM_GETLINK, NLM_F_DUMP, &i, sizeof i));
    return nl_talk(NETLINK_ROUTE, &m, 0);
  }
  return -ENOSYS - 10000;
}

static long attempt(const char *n) {
  if (!strncmp(n, "nft-", 4) || !strncmp(n, "link-add-", 9) || !strncmp(n, "tc-", 3) || !strcmp(n, "route-dump")) return nl_probe(n);
  if (!strcmp(n, "sock-raw")) return rc(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
  if (!strcmp(n, "sock-raw6")) return rc(socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6));
  if (!strcmp(n, "netlink-generic")) return rc(socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC));
  if (!strcmp(n, "netlink-xfrm")) return rc(socket(AF_NETLINK, SOCK_RAW, NETLINK_XFRM));
  if (!strncmp(n, "tiocsti", 7) || !strncmp(n, "tioclinux", 9)) return try_ioctl(n);
  if (!strncmp(n, "tiocexcl", 8) || !strncmp(n, "tiocsetd", 8)) return try_tty_state(n);
  if (!strcmp(n, "unshare-user")) return rc(unshare(CLONE_NEWUSER));
  if (!strcmp(n, "unshare-mnt")) return rc(unshare(CLONE_NEWNS));
  if (!strcmp(n, "clone-newuser") || !strcmp(n, "clone-newuser-hi")) {
    unsigned long f = CLONE_NEWUSER | SIGCHLD;
    if (n[13]) f |= 1UL << 40; /* high bits the kernel ignores must not hide the flag */
    long r = syscall(SYS_clone, f, NULL, NULL, NULL, NULL);
    if (r == 0) _exit(0);
    if (r > 0) { waitpid((pid_t)r, NULL, 0); return 0; }
    return -errno;
  }
  if (!strcmp(n, "clone3-newuser")) {
    struct clone_args a; memset(&a, 0, sizeof a);
    a.flags = CLONE_NEWUSER; a.exit_signal = SIGCHLD;
    long r = syscall(SYS_clone3, &a, sizeof a);
    if (r == 0) _exit(0);
    if (r > 0) { waitpid((pid_t)r, NULL, 0); return 0; }
    return -errno;
  }
  if (!strcmp(n, "mount-tmpfs")) return rc(mount("x", "/tmp", "tmpfs", 0, NULL));
  if (!strcmp(n, "umount-root")) return rc(umount2("/", MNT_DETACH));
  if (!strcmp(n, "umount-usr")) return rc(umount2("/usr", MNT_DETACH));
  if (!strcmp(n, "umount-proc-mask")) return rc(umount2("/proc/kcore", MNT_DETACH));
  if (!strcmp(n, "pivot-root")) return rc(syscall(SYS_pivot_root, "/tmp", "/tmp"));
  if (!strcmp(n, "fsopen")) return rc(syscall(SYS_fsopen, "tmpfs", 0));
  if (!strcmp(n, "open-tree")) return rc(syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */));
  if (!strcmp(n, "move-mount")) return rc(syscall(SYS_move_mount, AT_FDCWD, "/proc", AT_FDCWD, "/tmp", 0));
  if (!strcmp(n, "keyctl-user-keyring")) return rc(syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -4 /* USER */, 0));
  if (!strcmp(n, "add-key")) return rc(syscall(SYS_add_key, "user", "sbx-probe", "x", 1, -4));
  if (!strcmp(n, "io-uring-setup")) { char p[120]; memset(p, 0, sizeof p); return rc(syscall(SYS_io_uring_setup, 4, p)); }
  if (!strcmp(n, "bpf")) { union bpf_attr a; memset(&a, 0, sizeof a); a.map_type = BPF_MAP_TYPE_ARRAY; a.key_size = 4; a.value_size = 4; a.max_entries = 1; return rc(syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a)); }
  if (!strcmp(n, "perf-event-open")) {
    struct perf_event_attr a; memset(&a, 0, sizeof a);
    a.type = PERF_TYPE_SOFTWARE; a.size = sizeof a; a.config = PERF_COUNT_SW_CPU_CLOCK; a.exclude_kernel = 1;
    return rc(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
  }
  if (!strcmp(n, "userfaultfd")) return rc(syscall(SYS_userfaultfd, 0));
  if (!strcmp(n, "af-alg")) return rc(socket(AF_ALG, SOCK_SEQPACKET, 0));
  if (!strcmp(n, "af-vsock")) return rc(socket(AF_VSOCK, SOCK_STREAM, 0));
  if (!strcmp(n, "af-packet")) return rc(socket(AF_PACKET, SOCK_RAW, 0));
  /* The kernel still turns (AF_INET, SOCK_PACKET) into a packet socket. */
  if (!strcmp(n, "inet-sock-packet")) return rc(socket(AF_INET, 10 /* SOCK_PACKET */, htons(0x0003 /* ETH_P_ALL */)));
  if (!strcmp(n, "dev-node-open")) return rc(open(getenv("PROBE_DEV"), O_RDWR));
  if (!strcmp(n, "af-packet-hi")) return rc(syscall(SYS_socket, AF_PACKET | (1L << 32), SOCK_RAW, 0));
  if (!strcmp(n, "personality-no-aslr")) {
    long r = rc(personality(ADDR_NO_RANDOMIZE));
    return r < 0 ? r : (personality(0xffffffff) & ADDR_NO_RANDOMIZE) ? 0 : -EINVAL;
  }
  if (!strcmp(n, "personality-read-implies-exec")) {
    long r = rc(personality(READ_IMPLIES_EXEC));
    return r < 0 ? r : (personality(0xffffffff) & READ_IMPLIES_EXEC) ? 0 : -EINVAL;
  }
#ifdef __x86_64__
  /* x32 ABI: same numbers with bit 30 set; the filter must not treat them as x86_64 calls. */
  if (!strcmp(n, "x32-unshare")) return rc(syscall(X32_BIT | SYS_unshare, CLONE_NEWUSER));
  if (!strcmp(n, "x32-getpid")) return rc(syscall(X32_BIT | SYS_getpid));
  if (!strcmp(n, "int80-getpid") || !strcmp(n, "int80-unshare")) {
    long nr = n[6] == 'g' ? 20 : 310, arg = CLONE_NEWUSER, ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(arg) : "memory");
    return ret < 0 && ret > -4096 ? ret : 0;
  }
#endif
  if (!strcmp(n, "mknod-char")) { unlink("/tmp/sbx-probe-null"); return rc(mknod("/tmp/sbx-probe-null", S_IFCHR | 0666, makedev(1, 3))); }
  if (!strcmp(n, "mknod-block")) { unlink("/tmp/sbx-probe-blk"); return rc(mknod("/tmp/sbx-probe-blk", S_IFBLK | 0666, makedev(7, 0))); }
  if (!strcmp(n, "mknodat-char")) { unlink("/tmp/sbx-probe-null2"); return rc(mknodat(AT_FDCWD, "/tmp/sbx-probe-null2", S_IFCHR | 0666, makedev(1, 3))); }
  if (!strcmp(n, "ptrace-pid1")) return rc(ptrace(PTRACE_ATTACH, 1, 0, 0));
  if (!strcmp(n, "ptrace-seize-pid1")) return rc(ptrace(PTRACE_SEIZE, 1, 0, 0));
  if (!strcmp(n, "vm-writev-pid1") || !strcmp(n, "vm-readv-pid1")) {
    /* Any address in pid 1: the permission check comes before the address is looked at. */
    char buf[8] = {0};
    struct iovec l = { buf, sizeof buf }, r = { (void *)0x400000, sizeof buf };
    return rc(n[3] == 'w' ? process_vm_writev(1, &l, 1, &r, 1, 0) : process_vm_readv(1, &l, 1, &r, 1, 0));
  }
  if (!strcmp(n, "proc-mem-pid1")) return rc(open("/proc/1/mem", O_RDWR));
  if (!strcmp(n, "pidfd-getfd-pid1")) {
    int pfd = (int)syscall(SYS_pidfd_open, 1, 0);
    if (pfd < 0) return -errno;
    return rc(syscall(SYS_pidfd_getfd, pfd, 0, 0));
  }
  if (!strcmp(n, "setns-pid1-mnt")) {
    int fd = open("/proc/1/ns/mnt", O_RDONLY);
    if (fd < 0) return -errno;
    return rc(setns(fd, CLONE_NEWNS));
  }
  if (!strcmp(n, "chroot-escape")) {
    /* The classic: chroot into a subdir while keeping cwd outside it, then climb. The climb
     * ends at the sandbox's own root, which has no host paths above it. */
    mkdir("/tmp/sbx-chroot", 0700);
    if (chroot("/tmp/sbx-chroot") < 0) return -errno;
    for (int i = 0; i < 64; i++) if (chdir("..") < 0) return -errno;
    if (chroot(".") < 0) return -errno;
    struct stat st;
    /* Found the store's layers (hidden inside) or a path only the host has: escaped. */
    return stat(getenv("PROBE_HOST_ONLY") ? getenv("PROBE_HOST_ONLY") : "/nonexistent", &st) == 0 ? 0 : -ENOENT;
  }
  if (!strcmp(n, "fds")) {
    /* Every open fd of the command (this child inherits exactly the parent's). */
    printf("fds-list");
    for (int fd = 0; fd < 65536; fd++) if (fcntl(fd, F_GETFD) >= 0) printf(" %d", fd);
    printf("\n");
    return 0;
  }
  /* Host administration, each called so that it changes nothing even where it is allowed: the
   * capability check comes first in the kernel, and the arguments are then invalid or absent,
   * so "EPERM" means refused and EINVAL/ENOENT/EBADF/ok mean the kernel would have gone on. */
  if (!strcmp(n, "init-module")) return rc(syscall(SYS_init_module, NULL, 0, ""));
  if (!strcmp(n, "finit-module")) return rc(syscall(SYS_finit_module, -1, "", 0));
  if (!strcmp(n, "delete-module")) return rc(syscall(SYS_delete_module, "sbx_probe_no_such_module", O_NONBLOCK));
  if (!strcmp(n, "kexec-load")) return rc(syscall(SYS_kexec_load, 0, 0, NULL, 0xdead0000UL));
  if (!strcmp(n, "kexec-file-load")) return rc(syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0xdead0000UL));
  if (!strcmp(n, "reboot-bad-magic")) return rc(syscall(SYS_reboot, 0, 0, 0, NULL));
  if (!strcmp(n, "settimeofday-null")) return rc(syscall(SYS_settimeofday, NULL, NULL));
  if (!strcmp(n, "clock-settime-invalid")) { struct timespec t = { 0, -1 }; return rc(syscall(SYS_clock_settime, CLOCK_REALTIME, &t)); }
  if (!strcmp(n, "adjtimex-bad-tick") || !strcmp(n, "clock-adjtime-bad-tick")) {
    struct timex t; memset(&t, 0, sizeof t); t.modes = ADJ_TICK; t.tick = 1;
    return rc(n[0] == 'a' ? syscall(SYS_adjtimex, &t) : syscall(SYS_clock_adjtime, CLOCK_REALTIME, &t));
  }
  if (!strcmp(n, "adjtimex-read")) { struct timex t; memset(&t, 0, sizeof t); return rc(syscall(SYS_adjtimex, &t)); }
  if (!strcmp(n, "swapon")) return rc(syscall(SYS_swapon, "/nonexistent-sbx-probe", 0));
  if (!strcmp(n, "swapoff")) return rc(syscall(SYS_swapoff, "/nonexistent-sbx-probe"));
  if (!strcmp(n, "acct")) return rc(syscall(SYS_acct, "/nonexistent-sbx-probe"));
  if (!strcmp(n, "syslog-console-level")) return rc(syscall(SYS_syslog, 8 /* CONSOLE_LEVEL */, NULL, 99));
  if (!strcmp(n, "syslog-read-all")) { char b[64]; return rc(syscall(SYS_syslog, 3 /* READ_ALL */, b, sizeof b)); }
  if (!strcmp(n, "iopl")) return rc(syscall(SYS_iopl, 3));
  if (!strcmp(n, "ioperm")) return rc(syscall(SYS_ioperm, 0x80, 1, 1));
  if (!strcmp(n, "sethostname")) return rc(sethostname("sbx-probe-host", 14));
  if (!strcmp(n, "open-by-handle")) {
    struct { struct file_handle h; unsigned char b[128]; } fh;
    fh.h.handle_bytes = 128;
    int mnt = -1;
    if (name_to_handle_at(AT_FDCWD, "/etc/hostname", &fh.h, &mnt, 0) < 0) return -errno;
    int root = open("/", O_RDONLY | O_DIRECTORY);
    return rc(open_by_handle_at(root, &fh.h, O_RDONLY));
  }
  if (!strcmp(n, "fanotify-content")) return rc(fanotify_init(FAN_CLASS_CONTENT, O_RDONLY));
  if (!strcmp(n, "fanotify-notif")) return rc(fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_FID, O_RDONLY));
  /* IPC objects by a key or name from the test: "-make" creates them (open to all), the plain
   * form only looks them up. The sandbox's IPC namespace must see none of the host's. */
  if (!strncmp(n, "sysv-", 5) || !strncmp(n, "posix-mq", 8)) {
    if (!strcmp(n, "posix-mq-unlink")) return rc(mq_unlink(getenv("PROBE_MQ")));
    int make = strstr(n, "-make") != NULL;
    key_t key = (key_t)atol(getenv("PROBE_IPC_KEY") ? getenv("PROBE_IPC_KEY") : "0");
    int fl = make ? IPC_CREAT | IPC_EXCL | 0666 : 0;
    if (!strncmp(n, "sysv-shm", 8)) return rc(shmget(key, make ? 4096 : 0, fl));
    if (!strncmp(n, "sysv-sem", 8)) return rc(semget(key, make ? 1 : 0, fl));
    if (!strncmp(n, "sysv-msg", 8)) return rc(msgget(key, fl));
    return rc(make ? mq_open(getenv("PROBE_MQ"), O_RDWR | O_CREAT | O_EXCL, 0666, NULL) : mq_open(getenv("PROBE_MQ"), O_RDWR));
  }
  /* fd 0 or 2 as a directory: a file made through it. */
  if (!strcmp(n, "stdin-dir-openat") || !strcmp(n, "stderr-dir-openat")) {
    int fd = openat(n[3] == 'i' ? 0 : 2, n[3] == 'i' ? "escaped-openat-0" : "escaped-openat-2", O_WRONLY | O_CREAT | O_EXCL, 0644);
    return fd < 0 ? -errno : (write(fd, "escaped\n", 8) == 8 ? 0 : -errno);
  }
  /* fd 0 as a socket sbx was given: connected to a host listener, in the socket's namespace. */
  if (!strcmp(n, "stdin-connect-tcp")) {
    struct sockaddr_in a; memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(getenv("PROBE_PORT") ? getenv("PROBE_PORT") : "0"));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(0, (struct sockaddr *)&a, sizeof a) < 0) return -errno;
    return write(0, "escaped", 7) == 7 ? 0 : -errno;
  }
  if (!strcmp(n, "kill-all")) return rc(kill(-1, SIGKILL));
  if (!strcmp(n, "kill-parent")) { kill(getppid(), SIGTERM); return rc(kill(getppid(), SIGKILL)); }
  if (!strcmp(n, "kill-host-pid")) return rc(kill(atoi(getenv("PROBE_PID")), SIGKILL));
  if (!strcmp(n, "connect-unix") || !strcmp(n, "connect-abstract")) {
    struct sockaddr_un a; memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    const char *path = getenv("PROBE_SOCK");
    if (!path || strlen(path) + 2 > sizeof a.sun_path) return -EINVAL;
    int abstract = n[8] == 'a';
    memcpy(a.sun_path + abstract, path, strlen(path));
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return -errno;
    /* Node binds abstract names padded with NULs to the whole sun_path: so must we. */
    socklen_t len = abstract ? sizeof a : (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
    return rc(connect(fd, (struct sockaddr *)&a, len));
  }
  return -ENOSYS - 10000;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 1; i < argc; i++) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
      long r = attempt(argv[i]);
      if (r == -ENOSYS - 10000) { printf("%s unknown-probe\n", argv[i]); _exit(2); }
      if (r >= 0) printf("%s ok\n", argv[i]);
      else printf("%s %s\n", argv[i], strerrorname_np((int)-r) ? strerrorname_np((int)-r) : "E?");
      _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    if (WIFSIGNALED(st)) printf("%s signal %d\n", argv[i], WTERMSIG(st));
  }
  return 0;
}
