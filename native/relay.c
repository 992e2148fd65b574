/* Relays the command's stdin/stdout/stderr through pipes made inside the sandbox, for the fds
 * the spec names (the TypeScript side picks those whose owner is not mapped inside, so the
 * command could not reopen them as /dev/stdin or /dev/stdout). The command's init copies the
 * bytes across: EOF on the real stdin closes the command's; a reader of the real stdout that
 * went away closes the pipe the command writes to, so its next write gets EPIPE and SIGPIPE,
 * as it would have without the relay. The real fds are never made non-blocking (the
 * description is shared with the caller's shell); writes to them are at most PIPE_BUF after
 * POLLOUT, so they do not stall signal forwarding.
 *
 * A real stdin that is a pipe or a regular file loses only what the command read: the bytes
 * it left unread stay for the next reader, as without the relay (a shell's `while read` loop
 * around sbx, `read x` then `cat`). A pipe is copied with tee(2), which leaves the bytes in
 * it, into the command's pipe, sized so that the copy fills it (a power of two pages, up to
 * 16, no more than the real pipe holds): it is writable (POLLOUT) again only once the command
 * has read from it. Then what it left unread is taken back out of its pipe, the bytes it read
 * are taken from the real pipe, and the next ones copied, so the real pipe's front is always
 * the next byte the command reads. A stream socket is passed on as a pipe is, its bytes
 * peeked (recv(2) with MSG_PEEK) and taken with MSG_DONTWAIT. A file is read with pread(2)
 * past what was passed on, its offset moved past what the command read before more is passed
 * on. When the command ends, what it read is the bytes passed on less what its pipe still
 * holds (FIONREAD): that much is taken from the pipe or the socket, or added to the file's
 * offset. Anything else (a datagram socket, a device) is read ahead as before. Nothing here
 * blocks on the real stdin, whose description the caller shares: what is dropped from a pipe
 * goes through splice(2) with SPLICE_F_NONBLOCK into a pipe of our own. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "sandbox.h"

struct relay {
  int fd;          /* 0, 1 or 2: where the command sees it */
  int src, dst;    /* where bytes come from and go to; -1 once closed */
  int theirs;      /* the pipe end the command gets */
  int src_ours;    /* src is our pipe end (outputs), else dst is (stdin) */
  int exact;       /* stdin only: EXACT_PIPE, EXACT_SOCKET or EXACT_FILE, else read ahead */
  size_t passed;   /* exact: bytes passed on to the command and not yet taken from src */
  int peek;        /* exact: a read end of the command's pipe, kept to ask what it left in it
                    * after dst is closed (EOF); a reader only, so the command still sees EOF */
  /* The rest for a stdin passed on a full pipe at a time (windowed: a pipe or a socket). */
  size_t slots;    /* the command's pipe's size in pages */
  int blocked;     /* its pipe was full of bytes it wrote there itself */
  long long since; /* when what was passed on began to wait (ms, monotonic) */
  int patience;    /* how long it may wait before it is passed again (ms) */
  int sink[2];     /* where bytes dropped from a pipe go (ours, non-blocking) */
  char buf[65536];
  size_t off, len;
};

enum { EXACT_NONE, EXACT_PIPE, EXACT_SOCKET, EXACT_FILE };

/* A pipe or a stream socket: passed on a full pipe of the command's at a time. */
static int windowed(const struct relay *r) { return r->exact == EXACT_PIPE || r->exact == EXACT_SOCKET; }

/* A command may write into its own stdin pipe (it can reopen /proc/self/fd/0 for writing):
 * held full by the relay, that pipe would block such a write for ever, where the caller's
 * pipe had room. So bytes passed on and left unread this long are taken back, which makes
 * room, and passed again; the wait doubles each time up to the last value, so a command that
 * just does not read costs a wake-up every few seconds. (Such a command then reads its own bytes
 * before the rest of its stdin, where in the caller's pipe they came after it.) */
#define PATIENCE_FIRST_MS 100
#define PATIENCE_LAST_MS 6400

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static struct relay relays[3];
static size_t nrelays;

static void close_fd(int *fd) { if (*fd >= 0 && *fd > 2) close(*fd); *fd = -1; }

static int above_stdio(int fd) {
  if (fd > 2) return fd;
  int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return n;
}

/* stdout and stderr were one object (2>&1): the command gets one pipe for both, so what it
 * writes to either keeps its order (two relays copy each in its own time). */
static int shared_outputs;

int relay_prepare(const int *fds, size_t n, int shared) {
  shared_outputs = shared;
  for (size_t i = 0; i < n && i < 3; i++) {
    if (shared && fds[i] == 2) continue;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return -1;
    p[0] = above_stdio(p[0]);
    p[1] = above_stdio(p[1]);
    if (p[0] < 0 || p[1] < 0) return -1;
    struct relay *r = &relays[nrelays++];
    r->fd = fds[i];
    r->off = r->len = 0;
    r->exact = EXACT_NONE;
    r->passed = 0;
    r->peek = -1;
    r->slots = 0;
    r->blocked = 0;
    r->patience = PATIENCE_FIRST_MS;
    r->sink[0] = r->sink[1] = -1;
    if (fds[i] == 0) {
      r->src = 0; r->dst = p[1]; r->theirs = p[0]; r->src_ours = 0;
      struct stat st;
      int type = 0;
      socklen_t len = sizeof type;
      int known = fstat(0, &st) == 0;
      int stream = known && S_ISSOCK(st.st_mode) && getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
      if ((stream || (known && S_ISFIFO(st.st_mode))) && pipe2(r->sink, O_CLOEXEC | O_NONBLOCK) == 0) {
        r->sink[0] = above_stdio(r->sink[0]);
        r->sink[1] = above_stdio(r->sink[1]);
        if (r->sink[0] < 0 || r->sink[1] < 0) return -1;
        r->exact = stream ? EXACT_SOCKET : EXACT_PIPE;
      }
      else if (known && S_ISREG(st.st_mode) && lseek(0, 0, SEEK_CUR) >= 0) r->exact = EXACT_FILE;
    }
    else { r->src = p[0]; r->dst = fds[i]; r->theirs = p[1]; r->src_ours = 1; }
  }
  return 0;
}

/* Bytes in a pipe, unread. */
static size_t unread(int fd) {
  int n = 0;
  return fd >= 0 && ioctl(fd, FIONREAD, &n) == 0 && n > 0 ? (size_t)n : 0;
}

/* Drops up to n bytes from the front of the pipe `from`, without waiting for any: returns how
 * many. */
static size_t drop(struct relay *r, int from, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t m = splice(from, NULL, r->sink[1], NULL, n - done, SPLICE_F_NONBLOCK);
    if (m < 0 && errno == EINTR) continue;
    if (m <= 0) break;
    done += (size_t)m;
    while (read(r->sink[0], r->buf, sizeof r->buf) > 0) {}
  }
  return done;
}

/* Takes from the real stdin (fd 0, also once r->src is -1) the bytes the command read of
 * those passed on: dropped from a pipe, received from a socket, past the file's offset. */
static void take_read(struct relay *r) {
  size_t left = unread(r->peek), n = r->passed > left ? r->passed - left : 0;
  r->passed -= n;
  if (r->exact == EXACT_FILE) { if (n) (void)lseek(r->fd, (off_t)n, SEEK_CUR); return; }
  if (r->exact == EXACT_PIPE) { drop(r, r->fd, n); return; }
  while (n > 0) {
    ssize_t got = recv(r->fd, r->buf, n < sizeof r->buf ? n : sizeof r->buf, MSG_DONTWAIT);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    n -= (size_t)got;
  }
}

static size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

static int set_slots(struct relay *r, size_t slots) {
  if (slots == r->slots) return 0;
  if (fcntl(r->dst, F_SETPIPE_SZ, (int)(slots * page_size())) < 0) return -1;
  r->slots = slots;
  return 0;
}

/* The fds an exact stdin keeps besides its own: the peek end and the sink. */
static void close_exact(struct relay *r) {
  close_fd(&r->peek);
  close_fd(&r->sink[0]);
  close_fd(&r->sink[1]);
}

/* The command's pipe could not be sized (never seen): its stdin is read ahead from here on. */
static void read_ahead(struct relay *r) {
  r->exact = EXACT_NONE;
  close_exact(r);
}

/* Sizes the command's (empty) pipe so that `bytes` passed on at once fill it: a power of two
 * pages, 16 at most, no more than the bytes make (a pipe's buffers hold a page at most). Its
 * size in bytes, or 0 when it could not be sized: its stdin is read ahead from here on. */
static size_t size_window(struct relay *r, size_t bytes) {
  size_t pages = (bytes + page_size() - 1) / page_size(), slots = 1;
  while (slots * 2 <= pages && slots < 16) slots *= 2;
  if (set_slots(r, slots) < 0 && (slots = 1, set_slots(r, 1) < 0)) { read_ahead(r); return 0; }
  return slots * page_size();
}

/* What the command left unread of what was passed on is taken back out of its pipe, and what
 * it read is taken from the real stdin. */
static void take_back(struct relay *r) {
  r->passed -= drop(r, r->peek, r->passed);
  take_read(r);
}

static int is_full(int fd) {
  struct pollfd room = { fd, POLLOUT, 0 };
  return poll(&room, 1, 0) == 0;
}

/* Passes on the next bytes of an exact stdin, leaving them in the real one: tee(2) of a pipe
 * or recv(2) with MSG_PEEK of a socket into the command's empty pipe, pread(2) of a file past
 * what was passed on. */
static void pass_exact(struct relay *r) {
  ssize_t n;
  if (r->exact == EXACT_PIPE) {
    size_t room = size_window(r, unread(r->src));
    if (!room) return;
    n = tee(r->src, r->dst, room, SPLICE_F_NONBLOCK);
    /* Buffers larger than a page (a large folio spliced in) filled fewer slots than that: what
     * the command did not read yet is taken back, what it read from the real pipe, and one
     * buffer passed in a pipe of one page, which it fills. */
    if (n > 0 && room > page_size() && unread(r->peek) > 0 && !is_full(r->dst)) {
      r->passed = (size_t)n;
      take_back(r);
      if (set_slots(r, 1) < 0) { read_ahead(r); return; }
      n = tee(r->src, r->dst, page_size(), SPLICE_F_NONBLOCK);
    }
    /* Full, with the real pipe not empty: what the command wrote into its pipe fills it. */
    if (n < 0 && errno == EAGAIN) { r->blocked = unread(r->src) > 0; return; }
    if (n < 0 && errno == EINTR) return;
    if (n > 0) { r->passed = (size_t)n; r->since = now_ms(); return; }
  } else if (r->exact == EXACT_SOCKET) {
    /* MSG_PEEK leaves the bytes in the socket; written whole into the command's empty pipe
     * sized for them, they fill it. */
    n = recv(r->src, r->buf, sizeof r->buf, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n > 0) {
      size_t room = size_window(r, (size_t)n);
      if (!room) return;
      if ((size_t)n > room) n = (ssize_t)room;
      ssize_t w = write(r->dst, r->buf, (size_t)n);
      if (w < 0 && errno == EAGAIN) { r->blocked = 1; return; }
      if (w > 0) { r->passed = (size_t)w; r->since = now_ms(); return; }
      n = -1;
    }
  } else {
    /* The offset follows what the command read so far (a command killed later leaves it
     * there, not where it started). */
    take_read(r);
    off_t at = lseek(r->src, 0, SEEK_CUR);
    n = at < 0 ? -1 : pread(r->src, r->buf, sizeof r->buf, at + (off_t)r->passed);
    if (n < 0 && errno == EINTR) return;
    if (n > 0) { r->off = 0; r->len = (size_t)n; r->passed += (size_t)n; return; }
  }
  /* The end of the real stdin, or it cannot be read: the command sees EOF once it has read
   * what it was given. */
  r->src = -1;
}

/* The command read from its full pipe (or left it unread too long): what it left there is
 * taken back, what it read is taken from the real pipe, and the next bytes passed on. */
static void refill(struct relay *r) {
  take_back(r);
  if (r->src >= 0) pass_exact(r);
}

/* In the command, before exec: its ends become its stdio. */
int relay_child(void) {
  for (size_t i = 0; i < nrelays; i++) {
    if (dup2(relays[i].theirs, relays[i].fd) < 0) return -1;
    if (shared_outputs && relays[i].fd == 1 && dup2(relays[i].theirs, 2) < 0) return -1;
  }
  return 0;
}

/* In init after the fork: only the command holds its ends (so EOF and EPIPE reach it). */
void relay_parent(void) {
  for (size_t i = 0; i < nrelays; i++) {
    struct relay *r = &relays[i];
    if (r->exact) r->peek = r->theirs; else close(r->theirs);
    r->theirs = -1;
    int ours = r->src_ours ? r->src : r->dst;
    fcntl(ours, F_SETFL, fcntl(ours, F_GETFL) | O_NONBLOCK);
  }
}

/* The destination is gone: stop, and let the command find out the way it would have. */
static void dst_dead(struct relay *r) {
  if (r->exact) take_read(r);
  r->len = r->off = 0;
  if (r->src_ours) close_fd(&r->src); else { close_fd(&r->dst); r->src = -1; }
  r->dst = -1;
}

size_t relay_pollfds(struct pollfd *p, int *timeout_ms) {
  size_t n = 0;
  for (size_t i = 0; i < nrelays; i++) {
    struct relay *r = &relays[i];
    /* An exact pipe's next bytes wait until the command has read from it: its full pipe is
     * writable again then. */
    int wait_room = windowed(r) && (r->passed || r->blocked);
    if (windowed(r) && r->passed && r->dst >= 0) {
      long long left = r->since + r->patience - now_ms();
      int ms = left < 0 ? 0 : (int)left;
      if (*timeout_ms < 0 || ms < *timeout_ms) *timeout_ms = ms;
    }
    p[n].fd = r->len == 0 && r->src >= 0 && !wait_room ? r->src : -1;
    p[n].events = POLLIN;
    p[n].revents = 0;
    n++;
    p[n].fd = (r->len > 0 || wait_room) && r->dst >= 0 ? r->dst : -1;
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
    if (windowed(r)) {
      if (out->fd >= 0 && (out->revents & POLLOUT)) { r->blocked = 0; r->patience = PATIENCE_FIRST_MS; refill(r); }
      else if (in->fd >= 0 && (in->revents & (POLLIN | POLLHUP | POLLERR))) pass_exact(r);
      else if (r->passed && r->dst >= 0 && now_ms() - r->since >= r->patience) {
        r->patience = r->patience * 2 > PATIENCE_LAST_MS ? PATIENCE_LAST_MS : r->patience * 2;
        take_back(r);
        /* A command blocked writing into its pipe runs now: a moment for its write, before the
         * pipe is filled again (filled at once, the write lost that race on a busy machine). */
        struct pollfd written = { r->peek, POLLIN, 0 };
        (void)poll(&written, 1, 5);
        if (r->src >= 0) pass_exact(r);
      }
      if (r->src < 0) close_fd(&r->dst);
      continue;
    }
    if (in->fd >= 0 && (in->revents & (POLLIN | POLLHUP | POLLERR))) {
      if (r->exact == EXACT_FILE) pass_exact(r);
      else {
        ssize_t n = read(r->src, r->buf, sizeof r->buf);
        if (n > 0) { r->off = 0; r->len = (size_t)n; if (r->src_ours) errlines_feed(r->fd, r->buf, (size_t)n); }
        else if (n == 0 || (errno != EAGAIN && errno != EINTR)) finish_src(r);
      }
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
    if (!r->src_ours) {
      /* What it left in its pipe, or never got from our buffer, stays the real stdin's. */
      if (r->exact) { r->passed -= r->len - r->off; take_read(r); close_exact(r); }
      r->len = 0; close_fd(&r->dst); r->src = -1; continue;
    }
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
