/* The floor of --allow-net's direct path: the command's connect(2) is answered by a supervisor
 * (seccomp user notification) that connects on its own side and installs that socket in the
 * command over the command's (SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SETFD), so no
 * byte passes a relay. Usage: direct-floor CMD ARGS...: runs CMD with connect(2) supervised
 * so; every AF_INET/AF_INET6 stream connect is made by the supervisor to the same address. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int send_fd(int via, int fd) {
  char b = 0;
  union { struct cmsghdr h; char c[CMSG_SPACE(sizeof(int))]; } u;
  memset(&u, 0, sizeof u);
  struct iovec iov = { &b, 1 };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.c, .msg_controllen = sizeof u.c };
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  h->cmsg_level = SOL_SOCKET; h->cmsg_type = SCM_RIGHTS; h->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(h), &fd, sizeof fd);
  return sendmsg(via, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int via) {
  char b;
  union { struct cmsghdr h; char c[CMSG_SPACE(sizeof(int))]; } u;
  struct iovec iov = { &b, 1 };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.c, .msg_controllen = sizeof u.c };
  if (recvmsg(via, &m, MSG_CMSG_CLOEXEC) != 1) return -1;
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  if (!h || h->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(h), sizeof fd);
  return fd;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) return 1;
  pid_t child = fork();
  if (child == 0) {
    struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_connect, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { sizeof f / sizeof f[0], f };
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    int l = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (l < 0 || send_fd(sv[1], l) < 0) { perror("seccomp"); _exit(1); }
    close(l);
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  int l = recv_fd(sv[0]);
  if (l < 0) { perror("recv"); return 1; }
  struct seccomp_notif_sizes sz;
  syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz);
  struct seccomp_notif *req = calloc(1, sz.seccomp_notif);
  struct seccomp_notif_resp *resp = calloc(1, sz.seccomp_notif_resp);
  for (;;) {
    memset(req, 0, sz.seccomp_notif);
    if (ioctl(l, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) { if (errno == EINTR) continue; break; }
    memset(resp, 0, sz.seccomp_notif_resp);
    resp->id = req->id;
    struct sockaddr_storage a;
    size_t len = req->data.args[2] < sizeof a ? req->data.args[2] : sizeof a;
    struct iovec lo = { &a, len }, re = { (void *)req->data.args[1], len };
    int cont = 1;
    if (process_vm_readv(req->pid, &lo, 1, &re, 1, 0) == (ssize_t)len && ioctl(l, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0 &&
        (a.ss_family == AF_INET || a.ss_family == AF_INET6)) {
      int pfd = (int)syscall(SYS_pidfd_open, req->pid, 0);
      int theirs = pfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pfd, (int)req->data.args[0], 0);
      int type = 0; socklen_t tl = sizeof type;
      if (theirs >= 0 && getsockopt(theirs, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM) {
        cont = 0;
        int s = socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(s, (struct sockaddr *)&a, (socklen_t)len) < 0) resp->error = -errno;
        else {
          fcntl(s, F_SETFL, fcntl(theirs, F_GETFL) & O_NONBLOCK);
          struct seccomp_notif_addfd add = { .id = req->id, .flags = SECCOMP_ADDFD_FLAG_SETFD, .srcfd = (unsigned)s, .newfd = (unsigned)req->data.args[0] };
          if (ioctl(l, SECCOMP_IOCTL_NOTIF_ADDFD, &add) < 0) resp->error = -errno;
        }
        close(s);
      }
      if (theirs >= 0) close(theirs);
      if (pfd >= 0) close(pfd);
    }
    if (cont) resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    ioctl(l, SECCOMP_IOCTL_NOTIF_SEND, resp);
  }
  int st;
  waitpid(child, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
