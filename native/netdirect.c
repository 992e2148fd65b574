/* --allow-net's direct path: the command's connect(2) is a seccomp user notification (its
 * filter, compiled by sbx, says so for connect), and this supervisor answers it. It decides
 * nothing: for a TCP socket connecting to an IPv4/IPv6 address it asks sbx's proxy, which
 * answers "continue" (the connect is made inside the sandbox's own network namespace),
 * "refused" (ECONNREFUSED at once), or a socket it connected on the host; that socket is
 * installed in the command over the command's own descriptor (ADDFD with SETFD) and the
 * connect returns 0, so the bytes never pass a relay. Every other connect is made here as
 * the command asked, on the command's own socket: it cannot leave the sandbox's network
 * namespace. The kernel is never told to continue (see connect_here).
 *
 * It is a child of the sandbox's pid 1 forked before the command's pid namespace exists (the
 * command can neither see nor signal it), non-dumpable like pid 1, not under the filter, and
 * dies with pid 1. If it dies, the kernel fails every notified connect with ENOSYS. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <grp.h>
#include <sched.h>
#include "sandbox.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

struct net_direct net_direct = { -1, NULL };

int net_direct_send_listener(int via, int fd) {
  ssize_t n;
  do n = send_byte_fd(via, fd, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  return n == 1 ? 0 : -1;
}

/* One byte and at most one descriptor; *fd stays -1 without one. 0 at EOF or error. */
static ssize_t recv_byte_fd(int via, char *b, int *fd) {
  union { struct cmsghdr h; char c[CMSG_SPACE(sizeof(int) * 4)]; } u;
  struct iovec iov = { b, 1 };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.c, .msg_controllen = sizeof u.c };
  ssize_t n;
  do n = recvmsg(via, &m, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  *fd = -1;
  if (n != 1) return 0;
  *fd = take_fd(&m);
  return 1;
}

/* The proxy's answer for family/address/port: 'c' continue, 'r' refused, or a connected socket
 * (returned, on a marker byte of net-pass's). -1 with *verdict set for the first two. */
static int ask_proxy(int dirfd, const char *name, int family, const char *addr, int port, char *verdict) {
  *verdict = 'r';
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  if (s < 0 || strlen(name) >= sizeof a.sun_path) return -1;
  strcpy(a.sun_path, name);
  /* The socket's name is resolved from the directory opened before the root was replaced. */
  if (fchdir(dirfd) < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) { close(s); return -1; }
  char line[128];
  int n = snprintf(line, sizeof line, "%d %s %d\n", family == AF_INET ? 4 : 6, addr, port);
  if (write_all(s, line, (size_t)n) < 0) { close(s); return -1; }
  char b;
  int fd;
  if (!recv_byte_fd(s, &b, &fd)) { close(s); return -1; }
  close(s);
  if (fd >= 0) return fd;
  if (b == 'c') *verdict = 'c';
  return -1;
}

static void answer(int listener, struct seccomp_notif_resp *resp) {
  /* ENOENT: the connect is gone (the client was killed, or a signal interrupted it). */
  while (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno == EINTR) {}
}

/* For a unix socket's path: the command's mount namespace (whose root is the command's), and
 * the command's initial ids and capabilities, so the path resolves and is checked as it would
 * be for the command. This child is single-threaded and ends after this one connect. */
static int take_command_view(int pidfd) {
  if (setns(pidfd, CLONE_NEWNS) < 0) return -1;
  if (cfg.have_caps) {
    const char *step = "";
    if (caps_apply(&cfg.caps, &step) < 0) return -1;
  }
  if (cfg.cmd_user) {
    if (setgroups(0, NULL) < 0 && errno != EPERM) return -1;
    if (setresgid(cfg.cmd_gid, cfg.cmd_gid, cfg.cmd_gid) < 0 || setresuid(cfg.cmd_uid, cfg.cmd_uid, cfg.cmd_uid) < 0) return -1;
  }
  return 0;
}

/* The connect the command asked for, done here on the command's own socket (the same open
 * file, from pidfd_getfd) with the address as read once: never SECCOMP_USER_NOTIF_FLAG_CONTINUE,
 * which would let the kernel read the descriptor and the address again after the decision
 * (another thread could by then have put a host socket there, and AF_UNSPEC, which would
 * disconnect it: a host socket the command could then connect or listen with). A non-blocking
 * socket gives EINPROGRESS as it would have. Returns 0 or -errno. */
static int connect_here(int sock, const struct sockaddr_storage *sa, socklen_t len) {
  int r;
  do r = connect(sock, (const struct sockaddr *)sa, len); while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : 0;
}

/* One notified connect(2), in a child of its own so a slow host never holds up the others. */
static void handle(int listener, const struct seccomp_notif *req, struct seccomp_notif_resp *resp, int dirfd, const char *name) {
  resp->id = req->id;
  resp->flags = 0;
  resp->val = 0;
  int target = (int)req->data.args[0];
  size_t len = (size_t)req->data.args[2];
  struct sockaddr_storage sa;
  memset(&sa, 0, sizeof sa);
  /* A pidfd first, then the memory, then the notification's validity: the pid read below is
   * the connecting thread's and no recycled one's. */
  /* The notification names the thread; a pidfd for a thread that does not lead its group
   * needs PIDFD_THREAD (Linux 6.9, which sbx requires for this path, net/session.ts). */
  int pfd = (int)syscall(SYS_pidfd_open, req->pid, PIDFD_THREAD);
  int theirs = -1;
  if (pfd < 0) { resp->error = -ESRCH; goto done; }
  if ((int)req->data.args[2] < 0 || len > sizeof sa) { resp->error = -EINVAL; goto done; }
  struct iovec local = { &sa, len }, remote = { (void *)(uintptr_t)req->data.args[1], len };
  if (len && process_vm_readv(req->pid, &local, 1, &remote, 1, 0) != (ssize_t)len) { resp->error = -EFAULT; goto done; }
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) { close(pfd); return; }
  theirs = (int)syscall(SYS_pidfd_getfd, pfd, target, 0);
  if (theirs < 0) { resp->error = -EBADF; goto done; }
  int domain = -1, type = 0, proto = 0;
  socklen_t ol = sizeof domain;
  if (getsockopt(theirs, SOL_SOCKET, SO_DOMAIN, &domain, &ol) < 0) { resp->error = connect_here(theirs, &sa, (socklen_t)len); goto done; }
  ol = sizeof type;
  getsockopt(theirs, SOL_SOCKET, SO_TYPE, &type, &ol);
  ol = sizeof proto;
  getsockopt(theirs, SOL_SOCKET, SO_PROTOCOL, &proto, &ol);
  int inet = domain == AF_INET || domain == AF_INET6;
  /* The one connect that changes a connected TCP socket: a disconnect, after which a socket
   * connected on the host could be connected again or listen. Refused on every IP socket. */
  if (inet && len >= sizeof(sa_family_t) && sa.ss_family == AF_UNSPEC) { resp->error = -EOPNOTSUPP; goto done; }
  int decide = inet && type == SOCK_STREAM && proto == IPPROTO_TCP && sa.ss_family == domain
    && len >= (domain == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
  if (!decide) {
    /* Everything else connects as the kernel would have inside the sandbox's own network
     * namespace, where the socket was made; a unix path from the command's view. */
    if (domain == AF_UNIX && len > sizeof(sa_family_t) && sa.ss_family == AF_UNIX && ((struct sockaddr_un *)&sa)->sun_path[0]) {
      /* A relative path would need the connecting thread's working directory. */
      if (((struct sockaddr_un *)&sa)->sun_path[0] != '/') { resp->error = -EOPNOTSUPP; goto done; }
      if (take_command_view(pfd) < 0) { resp->error = -EACCES; goto done; }
    }
    resp->error = connect_here(theirs, &sa, (socklen_t)len);
    goto done;
  }
  char addr[INET6_ADDRSTRLEN];
  int port;
  if (sa.ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)&sa;
    inet_ntop(AF_INET, &in->sin_addr, addr, sizeof addr);
    port = ntohs(in->sin_port);
  } else {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof addr);
    port = ntohs(in6->sin6_port);
  }
  char verdict;
  int host = ask_proxy(dirfd, name, sa.ss_family, addr, port, &verdict);
  if (host < 0) {
    resp->error = verdict == 'c' ? connect_here(theirs, &sa, (socklen_t)len) : -ECONNREFUSED;
    goto done;
  }
  /* The client's blocking mode, on the socket that takes its place; the proxy's is non-blocking. */
  int fl = fcntl(host, F_GETFL), their_flags = fcntl(theirs, F_GETFL);
  struct seccomp_notif_addfd add = { .id = req->id, .flags = SECCOMP_ADDFD_FLAG_SETFD, .srcfd = (__u32)host, .newfd = (__u32)target, .newfd_flags = 0 };
  if (fl < 0 || their_flags < 0 || fcntl(host, F_SETFL, (fl & ~O_NONBLOCK) | (their_flags & O_NONBLOCK)) < 0 || ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add) < 0)
    resp->error = -ECONNREFUSED;
  close(host);
done:
  if (theirs >= 0) close(theirs);
  if (pfd >= 0) close(pfd);
  answer(listener, resp);
}

static void __attribute__((noreturn)) supervise(int from_command, int dirfd, const char *name) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_IGN;
  sa.sa_flags = SA_NOCLDWAIT; /* the per-connect children reap themselves */
  sigaction(SIGCHLD, &sa, NULL);
  char b;
  int listener;
  /* EOF without a listener: the command failed before its filter; nothing to supervise. */
  if (!recv_byte_fd(from_command, &b, &listener) || listener < 0) _exit(0);
  close(from_command);
  struct seccomp_notif_sizes sz;
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0) _exit(1);
  struct seccomp_notif *req = calloc(1, sz.seccomp_notif < sizeof *req ? sizeof *req : sz.seccomp_notif);
  struct seccomp_notif_resp *resp = calloc(1, sz.seccomp_notif_resp < sizeof *resp ? sizeof *resp : sz.seccomp_notif_resp);
  if (!req || !resp) _exit(1);
  for (;;) {
    struct pollfd p = { listener, POLLIN, 0 };
    if (poll(&p, 1, -1) < 0) { if (errno == EINTR) continue; _exit(1); }
    if (!(p.revents & POLLIN)) _exit(0); /* POLLHUP: every filtered process is gone */
    memset(req, 0, sz.seccomp_notif);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
      if (errno == EINTR || errno == ENOENT) continue;
      _exit(1);
    }
    memset(resp, 0, sz.seccomp_notif_resp);
    pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      handle(listener, req, resp, dirfd, name);
      _exit(0);
    }
    if (pid < 0) { /* no process for it: fail rather than leave the client waiting */
      resp->id = req->id;
      resp->error = -EAGAIN;
      answer(listener, resp);
    }
  }
}

void net_direct_start(const struct net_relay *r, const char *name) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) die_step("net-direct", NULL, errno);
  pid_t pid = fork();
  if (pid < 0) die_step("net-direct", NULL, errno);
  if (pid == 0) {
    prctl(PR_SET_NAME, "sbx-net-direct"); /* for ps, and the tests that find it */
    close(sv[1]);
    if (r->fd4 >= 0) close(r->fd4);
    if (r->fd6 >= 0) close(r->fd6);
    supervise(sv[0], r->dirfd, name);
  }
  close(sv[0]);
  net_direct.cmd_end = sv[1];
}
