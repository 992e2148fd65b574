/* Relays the command's stdin/stdout/stderr through pipes made inside the sandbox, for the fds
 * the spec names (the TypeScript side picks those whose owner is not mapped inside, so the
 * command could not reopen them as /dev/stdin or /dev/stdout). The command's init copies the
 * bytes across: EOF on the real stdin closes the command's; a reader of the real stdout that
 * went away closes the pipe the command writes to, so its next write gets EPIPE and SIGPIPE,
 * as it would have without the relay. The real fds are never made non-blocking (the
 * description is shared with the caller's shell); writes to them are at most PIPE_BUF after
 * POLLOUT, so they do not stall signal forwarding. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <unistd.h>
#include "sandbox.h"

struct relay {
  int fd;          /* 0, 1 or 2: where the command sees it */
  int src, dst;    /* where bytes come from and go to; -1 once closed */
  int theirs;      /* the pipe end the command gets */
  int src_ours;    /* src is our pipe end (outputs), else dst is (stdin) */
  char buf[65536];
  size_t off, len;
};

static struct relay relays[3];
static size_t nrelays;

static int above_stdio(int fd) {
  if (fd > 2) return fd;
  int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return n;
}

int relay_prepare(const int *fds, size_t n) {
  for (size_t i = 0; i < n && i < 3; i++) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return -1;
    p[0] = above_stdio(p[0]);
    p[1] = above_stdio(p[1]);
    if (p[0] < 0 || p[1] < 0) return -1;
    struct relay *r = &relays[nrelays++];
    r->fd = fds[i];
    r->off = r->len = 0;
    if (fds[i] == 0) { r->src = 0; r->dst = p[1]; r->theirs = p[0]; r->src_ours = 0; }
    else { r->src = p[0]; r->dst = fds[i]; r->theirs = p[1]; r->src_ours = 1; }
  }
  return 0;
}

/* In the command, before exec: its ends become its stdio. */
int relay_child(void) {
  for (size_t i = 0; i < nrelays; i++) if (dup2(relays[i].theirs, relays[i].fd) < 0) return -1;
  return 0;
}

/* In init after the fork: only the command holds its ends (so EOF and EPIPE reach it). */
void relay_parent(void) {
  for (size_t i = 0; i < nrelays; i++) {
    struct relay *r = &relays[i];
    close(r->theirs);
    r->theirs = -1;
    int ours = r->src_ours ? r->src : r->dst;
    fcntl(ours, F_SETFL, fcntl(ours, F_GETFL) | O_NONBLOCK);
  }
}

static void close_fd(int *fd) { if (*fd >= 0 && *fd > 2) close(*fd); *fd = -1; }

/* The destination is gone: stop, and let the command find out the way it would have. */
static void dst_dead(struct relay *r) {
  r->len = r->off = 0;
  if (r->src_ours) close_fd(&r->src); else { close_fd(&r->dst); r->src = -1; }
  r->dst = -1;
}

size_t relay_pollfds(struct pollfd *p) {
  size_t n = 0;
  for (size_t i = 0; i < nrelays; i++) {
    struct relay *r = &relays[i];
    p[n].fd = r->len == 0 && r->src >= 0 ? r->src : -1;
    p[n].events = POLLIN;
    p[n].revents = 0;
    n++;
    p[n].fd = r->len > 0 && r->dst >= 0 ? r->dst : -1;
    p[n].events = POLLOUT;
    p[n].revents = 0;
    n++;
  }
  return n;
}

/* Writes what is buffered. `all`: until done, waiting for room if need be (the command has
 * ended). Otherwise a real, blocking destination gets one write of at most PIPE_BUF, which a
 * pipe that polled writable takes without blocking; our own non-blocking pipe takes what fits.
 * A real destination may be non-blocking after all: its description is shared with whoever
 * gave it to sbx (Node makes a pipe on its stderr non-blocking), so EAGAIN is waited out
 * here and never taken for an empty buffer. */
static void pump_write(struct relay *r, int all) {
  int limited = r->src_ours && !all;
  while (r->off < r->len && r->dst >= 0) {
    size_t chunk = r->len - r->off;
    if (limited && chunk > PIPE_BUF) chunk = PIPE_BUF;
    ssize_t w = write(r->dst, r->buf + r->off, chunk);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN && all) {
        struct pollfd room = { r->dst, POLLOUT, 0 };
        if (poll(&room, 1, -1) < 0 && errno != EINTR) { dst_dead(r); return; }
        continue;
      }
      if (errno == EAGAIN) return;
      dst_dead(r);
      return;
    }
    r->off += (size_t)w;
    if (limited) break;
  }
  if (r->off == r->len) r->off = r->len = 0;
}

static void finish_src(struct relay *r) {
  if (r->src_ours) close_fd(&r->src);
  else { r->src = -1; if (r->len == 0) close_fd(&r->dst); }
}

void relay_events(const struct pollfd *p) {
  for (size_t i = 0; i < nrelays; i++) {
    struct relay *r = &relays[i];
    const struct pollfd *in = &p[2 * i], *out = &p[2 * i + 1];
    if (in->fd >= 0 && (in->revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(r->src, r->buf, sizeof r->buf);
      if (n > 0) { r->off = 0; r->len = (size_t)n; if (r->src_ours) errlines_feed(r->fd, r->buf, (size_t)n); }
      else if (n == 0 || (errno != EAGAIN && errno != EINTR)) finish_src(r);
    }
    if (out->fd >= 0 && (out->revents & (POLLOUT | POLLERR | POLLHUP))) pump_write(r, 0);
    /* The real stdin ended and everything was passed on: the command sees EOF. */
    if (!r->src_ours && r->src < 0 && r->len == 0) close_fd(&r->dst);
  }
}

/* The command ended: pass on what it wrote (its pipes hold it still), then stop. */
void relay_finish(void) {
  for (size_t i = 0; i < nrelays; i++) {
    struct relay *r = &relays[i];
    if (!r->src_ours) { r->len = 0; close_fd(&r->dst); r->src = -1; continue; }
    for (;;) {
      pump_write(r, 1);
      /* Nothing buffered may be overwritten by the next read. */
      if (r->src < 0 || r->dst < 0 || r->len) break;
      ssize_t n = read(r->src, r->buf, sizeof r->buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      r->off = 0;
      r->len = (size_t)n;
      errlines_feed(r->fd, r->buf, (size_t)n);
    }
    close_fd(&r->src);
  }
}
