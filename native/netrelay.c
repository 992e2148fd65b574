/* --allow-net: the sandbox's only way out. pid 1 listens on the loopback of the sandbox's own
 * network namespace, and a process of the relay's copies each connection, byte for byte, to
 * sbx's proxy on the host through a unix socket in a directory opened before the root was
 * replaced. It parses nothing: every decision is the proxy's. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "sandbox.h"

struct net_relay net_relay = { -1, -1, -1, NULL, 0 };

ssize_t send_byte_fd(int via, int fd, int flags) {
  char marker = 0;
  union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } c;
  memset(&c, 0, sizeof c);
  struct iovec iov = { &marker, 1 };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b };
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(h), &fd, sizeof fd);
  return sendmsg(via, &m, flags);
}

int take_fd(struct msghdr *m) {
  int taken = -1;
  for (struct cmsghdr *h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR(m, h)) {
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
    for (size_t i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(h) + i * sizeof fd, sizeof fd);
      if (taken < 0) taken = fd; else close(fd);
    }
  }
  return taken;
}

static int listen_on(int family, int port) {
  int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return -1;
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int ok;
  if (family == AF_INET) {
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = { htonl(INADDR_LOOPBACK) } };
    ok = bind(s, (struct sockaddr *)&a, sizeof a);
  } else {
    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    ok = bind(s, (struct sockaddr *)&a, sizeof a);
  }
  if (ok < 0 || listen(s, 128) < 0) { int e = errno; close(s); errno = e; return -1; }
  return s;
}

void net_relay_open_dir(struct net_relay *r, const char *dir, const char *name, size_t buffer) {
  r->name = name;
  r->buffer = buffer;
  r->fd4 = r->fd6 = -1;
  r->dirfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (r->dirfd < 0) die_step("net-relay", dir, errno);
}

void net_relay_listen(struct net_relay *r, int port) {
  r->fd4 = listen_on(AF_INET, port);
  if (r->fd4 < 0) die_step("net-relay-listen", "127.0.0.1", errno);
  r->fd6 = listen_on(AF_INET6, port); /* a kernel without IPv6 has only the v4 one */
}

/* Copies what is readable from one side to the other; 0 at EOF or error. */
static int pump(int from, int to) {
  char buf[65536];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  if (n <= 0) return 0;
  return write_all(to, buf, (size_t)n) == 0;
}

/* The proxy's side towards the client: bytes, and once at most a host socket it has decided
 * on and connected (its hand-off, see net/proxy.ts), attached to one marker byte that ends
 * the read. Returns 0 at EOF or error, else 1; *handed is the host socket or stays -1. */
static int pump_from_proxy(int from, int to, int *handed) {
  char buf[65536];
  union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } c;
  struct iovec iov = { buf, sizeof buf };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b };
  ssize_t n = recvmsg(from, &m, MSG_CMSG_CLOEXEC);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  if (n <= 0) return 0;
  int fd = take_fd(&m);
  if (fd >= 0 && *handed < 0) { *handed = fd; n--; } /* the kernel ends a read at the skb carrying fds: the marker is last */
  else if (fd >= 0) close(fd);
  return write_all(to, buf, (size_t)n) == 0;
}

/* One direction of a handed-off connection, blocking, until EOF (or a reset: nothing more
 * comes), which ends `to`'s sending. -1 when the receiving side failed. A plain copy through
 * a big buffer, not splice(2): spliced bytes reach the client's socket as skbs that cost the
 * client ~40% more CPU to read (curl: 164-179 ms per 100 MB against 119 direct and 120-128
 * copied), and on two cores shared by server, relay and client that is the bottleneck; the
 * copy costs the relay ~20 ms per 100 MB (bench/relay-floor.c, docs/security.md). `size` is
 * sbx's choice (net/session.ts: bigger is faster, fewer reads of a backlog that is always
 * there at full speed, but the pages a fast transfer fills count against the sandbox's
 * --memory, since the relay is in its cgroup). One process per direction sleeps in read()
 * until there is something to move. */
static int copy_flow(int from, int to, size_t size) {
  static char small[64 << 10]; /* without memory for the big one, slower but whole */
  char *buf = malloc(size);
  if (!buf) { buf = small; size = sizeof small; }
  int rc = 0;
  for (;;) {
    ssize_t n = read(from, buf, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (write_all(to, buf, (size_t)n) < 0) { rc = -1; break; }
  }
  if (buf != small) free(buf);
  if (rc == 0) shutdown(to, SHUT_WR);
  return rc;
}

static int set_blocking(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* The client and the host socket, joined by copy_flow until both directions ended: a child
 * process for client -> host, this one for host -> client. A failed direction ends both. `sent_eof`: the client had already
 * finished sending before the hand-off. */
static void __attribute__((noreturn)) join_both(int client, int host, int sent_eof, size_t size) {
  if (set_blocking(client) < 0 || set_blocking(host) < 0) _exit(1);
  pid_t up = -1;
  if (sent_eof) shutdown(host, SHUT_WR);
  else {
    up = fork();
    if (up < 0) _exit(1);
    if (up == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (copy_flow(client, host, size) == 0) _exit(0);
      /* Ends the other direction too: its read() returns at once on a shut socket. */
      shutdown(client, SHUT_RDWR);
      shutdown(host, SHUT_RDWR);
      _exit(1);
    }
  }
  if (copy_flow(host, client, size) < 0) {
    if (up > 0) kill(up, SIGKILL);
    _exit(1);
  }
  int status = 0;
  while (up > 0 && waitpid(up, &status, 0) < 0 && errno == EINTR) {}
  _exit(0);
}

static void __attribute__((noreturn)) serve(int client, const struct net_relay *r, pid_t acceptor) {
  exit_with_parent(acceptor, 1);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_DFL); /* join_both waits for its other direction */
  int up = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  if (strlen(r->name) >= sizeof a.sun_path) _exit(1);
  strcpy(a.sun_path, r->name);
  /* The socket's name is resolved from the directory opened before the root was replaced. */
  if (up < 0 || fchdir(r->dirfd) < 0 || connect(up, (struct sockaddr *)&a, sizeof a) < 0) _exit(1);
  int fl = fcntl(client, F_GETFL);
  if (fl < 0 || fcntl(client, F_SETFL, fl & ~O_NONBLOCK) < 0) _exit(1);
  int in_open = 1, out_open = 1, host = -1;
  while (out_open && host < 0) {
    struct pollfd p[2] = { { in_open ? client : -1, POLLIN, 0 }, { up, POLLIN, 0 } };
    if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue; _exit(1); }
    if (p[0].revents && !pump(client, up)) { in_open = 0; shutdown(up, SHUT_WR); }
    if (p[1].revents && !pump_from_proxy(up, client, &host)) { out_open = 0; shutdown(client, SHUT_WR); }
  }
  if (host < 0) {
    while (in_open) { /* the proxy is done sending; the client may still be */
      struct pollfd p = { client, POLLIN, 0 };
      if (poll(&p, 1, -1) < 0) { if (errno == EINTR) continue; _exit(1); }
      if (!pump(client, up)) in_open = 0;
    }
    _exit(0);
  }
  /* Handed off: the proxy stopped reading the host socket. It reads what we sent it until our
   * EOF, forwards that, sends what it still held for the client and closes: only then is the
   * host socket ours alone, in both directions. */
  shutdown(up, SHUT_WR);
  for (;;) {
    int h = -1;
    if (!pump_from_proxy(up, client, &h)) break;
    if (h >= 0) close(h);
  }
  close(up);
  join_both(client, host, !in_open, r->buffer);
}

static void accept_all(const struct net_relay *r, int listen_fd) {
  pid_t self = getpid();
  for (;;) {
    int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) return; /* EAGAIN: all taken */
    pid_t pid = fork();
    if (pid == 0) {
      close(r->fd4);
      if (r->fd6 >= 0) close(r->fd6);
      serve(c, r, self);
    }
    close(c); /* a failed fork drops the connection: the client sees it closed, nothing hangs */
  }
}

/* The listeners get a process of their own, forked by pid 1 before it makes the command's pid
 * namespace: every process forked after that unshare(CLONE_NEWPID) lands in the new namespace,
 * where the command would see the relay's children and could signal them (same uid inside).
 * Forked here, they stay in the outer namespace with the direct path's supervisor. Each dies
 * with its parent: pid 1, then the acceptor, then the connection's process. `drop`: a
 * descriptor of pid 1's the acceptor must not keep open (the command's end of the direct
 * path's socket, whose EOF tells the supervisor the command never sent its listener). */
void net_relay_start(struct net_relay *r, int drop) {
  pid_t init = getpid();
  pid_t pid = fork();
  if (pid < 0) die_step("net-relay", NULL, errno);
  if (pid == 0) {
    exit_with_parent(init, 0);
    if (drop >= 0) close(drop);
    prctl(PR_SET_NAME, "sbx-net-relay"); /* for ps, and the tests that find it */
    signal(SIGCHLD, SIG_IGN); /* the kernel reaps each connection's process */
    for (;;) {
      struct pollfd p[2] = { { r->fd4, POLLIN, 0 }, { r->fd6, POLLIN, 0 } };
      if (poll(p, 2, -1) < 0 && errno != EINTR) _exit(1);
      if (p[0].revents & POLLIN) accept_all(r, r->fd4);
      if (p[1].revents & POLLIN) accept_all(r, r->fd6);
    }
  }
  close(r->fd4);
  if (r->fd6 >= 0) close(r->fd6);
  close(r->dirfd);
  r->fd4 = r->fd6 = r->dirfd = -1;
}

/* `sbx-helper net-pass`: one per proxy, started at its first allowed connection, because Node
 * cannot attach a descriptor to a socket write and starting a process per hand-off blocks the
 * proxy for 10-200 ms. It receives descriptors over Node's IPC channel (fd 3; `child.send(msg,
 * socket)`: one JSON line per message, the descriptor attached to it, each acknowledged with
 * NODE_HANDLE_ACK before Node sends the next) and, for each pair "relay" (the proxy's
 * connection to a relay) then "host" (the connected host socket), sends the host socket to the
 * relay attached to one marker byte, then answers one line {"passed":ERRNO} (0: done). A full
 * relay socket is waited on for PASS_WAIT_MS at most (the proxy has stopped feeding it, so it
 * drains as fast as the client reads), then EAGAIN: the proxy keeps the bytes itself and
 * retries later. It decides nothing; it ends when the channel closes (the proxy's exit). */
#define PASS_WAIT_MS 250
static int pass_fd(int via, int fd) {
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    if (send_byte_fd(via, fd, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) return 0;
    int e = errno ? errno : EIO;
    if (e == EINTR) continue;
    if (e != EAGAIN) return e;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long left = PASS_WAIT_MS - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
    if (left <= 0) return EAGAIN;
    struct pollfd p = { via, POLLOUT, 0 };
    if (poll(&p, 1, (int)left) < 0 && errno != EINTR) return errno;
  }
}

int net_pass_main(void) {
  const int ch = 3;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGPIPE, SIG_IGN);
  int fl = fcntl(ch, F_GETFL);
  if (fl < 0 || fcntl(ch, F_SETFL, fl & ~O_NONBLOCK) < 0) return 1;
  char line[4096];
  size_t len = 0;
  int line_fd = -1, relay = -1;
  for (;;) {
    union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int) * 4)]; } c;
    struct iovec iov = { line + len, sizeof line - len };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b };
    ssize_t n = recvmsg(ch, &m, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0; /* the proxy is gone */
    int fd = take_fd(&m);
    if (fd >= 0 && line_fd < 0) line_fd = fd; /* Node attaches one per message */
    else if (fd >= 0) close(fd);
    len += (size_t)n;
    char *nl;
    while ((nl = memchr(line, '\n', len))) {
      *nl = 0;
      char reply[64] = "";
      if (line_fd >= 0 && write_all(ch, "{\"cmd\":\"NODE_HANDLE_ACK\"}\n", 26) < 0) return 1;
      /* Node sends the bare message, without a descriptor, for a socket already closed. */
      if (strstr(line, "\"msg\":\"relay\"") || strcmp(line, "\"relay\"") == 0) {
        if (relay >= 0) close(relay);
        relay = line_fd;
      } else if (strstr(line, "\"msg\":\"host\"") || strcmp(line, "\"host\"") == 0) {
        int err = relay < 0 || line_fd < 0 ? EBADF : pass_fd(relay, line_fd);
        snprintf(reply, sizeof reply, "{\"passed\":%d}\n", err);
        if (line_fd >= 0) close(line_fd);
        if (relay >= 0) close(relay);
        relay = -1;
      } else if (line_fd >= 0) {
        close(line_fd);
      }
      line_fd = -1;
      if (*reply && write_all(ch, reply, strlen(reply)) < 0) return 1;
      len -= (size_t)(nl + 1 - line);
      memmove(line, nl + 1, len);
    }
    if (len == sizeof line) return 1; /* not a message of ours */
  }
}
