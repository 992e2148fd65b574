/* The relay hop done by the kernel instead, for bench/allow-net.mjs (issue 17's question whether
 * sbx as root should use it): listens on 127.0.0.1 (port printed), connects each client to
 * 127.0.0.1:PORT, puts both sockets in a 2-entry sockmap whose sk_skb verdict program (9
 * instructions, loaded with the raw bpf(2) syscall) redirects each skb to the other socket's
 * egress, and only waits for an end. Root only: unprivileged BPF is disabled here. With
 * VERDICT=1 in the environment it attaches as BPF_SK_SKB_VERDICT instead of
 * BPF_SK_SKB_STREAM_VERDICT. A prototype: an end is not forwarded in order behind the data.
 *   sockmap-floor PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int bpf(int cmd, union bpf_attr *a) { return (int)syscall(SYS_bpf, cmd, a, sizeof *a); }

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

static int setup(int c, int s, int lport) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = BPF_MAP_TYPE_SOCKMAP; a.key_size = 4; a.value_size = 4; a.max_entries = 2;
  int map = bpf(BPF_MAP_CREATE, &a);
  if (map < 0) { perror("map"); return -1; }
  struct bpf_insn prog[] = {
    INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, offsetof(struct __sk_buff, local_port), 0),
    INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 0),          /* key 0: the client */
    INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 1, lport),        /* from the client? */
    INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 1),          /* then to key 1: the host */
    INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_2, BPF_PSEUDO_MAP_FD, 0, map),
    INSN(0, 0, 0, 0, 0),
    INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, 0),          /* egress */
    INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_sk_redirect_map),
    INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  char log[4096] = "";
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_SK_SKB;
  a.insns = (unsigned long)prog; a.insn_cnt = sizeof prog / sizeof prog[0];
  a.license = (unsigned long)"GPL";
  a.log_buf = (unsigned long)log; a.log_size = sizeof log; a.log_level = 1;
  int p = bpf(BPF_PROG_LOAD, &a);
  if (p < 0) { perror("prog"); fprintf(stderr, "%s\n", log); return -1; }
  memset(&a, 0, sizeof a);
  a.target_fd = map; a.attach_bpf_fd = p; a.attach_type = getenv("VERDICT") ? BPF_SK_SKB_VERDICT : BPF_SK_SKB_STREAM_VERDICT;
  if (bpf(BPF_PROG_ATTACH, &a) < 0) { perror("attach"); return -1; }
  int fds[2] = { c, s };
  for (unsigned k = 0; k < 2; k++) {
    memset(&a, 0, sizeof a);
    a.map_fd = map; a.key = (unsigned long)&k; a.value = (unsigned long)&fds[k]; a.flags = BPF_ANY;
    if (bpf(BPF_MAP_UPDATE_ELEM, &a) < 0) { perror("update"); return -1; }
  }
  close(p);
  return map;
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr = { htonl(INADDR_LOOPBACK) } };
  socklen_t len = sizeof a;
  if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 16) < 0 || getsockname(l, (struct sockaddr *)&a, &len) < 0) return 1;
  int lport = ntohs(a.sin_port);
  union bpf_attr probe = { .map_type = BPF_MAP_TYPE_SOCKMAP, .key_size = 4, .value_size = 4, .max_entries = 2 };
  int m = bpf(BPF_MAP_CREATE, &probe);
  if (m < 0) { perror("sockmap-floor: BPF_MAP_CREATE"); printf("0\n"); return 0; } /* the bench leaves the row out */
  close(m);
  printf("%d\n", lport);
  fflush(stdout);
  for (;;) {
    int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) continue;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])), .sin_addr = { htonl(INADDR_LOOPBACK) } };
    if (s < 0 || connect(s, (struct sockaddr *)&b, sizeof b) < 0) { close(c); if (s >= 0) close(s); continue; }
    int map = setup(c, s, lport);
    if (map < 0) return 1;
    /* Bytes flow in the kernel; we only wait for an end (a read of 0 or an error). */
    struct pollfd p[2] = { { c, POLLIN | POLLRDHUP, 0 }, { s, POLLIN | POLLRDHUP, 0 } };
    for (int done = 0; !done;) {
      if (poll(p, 2, -1) < 0) continue;
      for (int i = 0; i < 2; i++) if (p[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) done = 1;
      for (int i = 0; i < 2; i++) if (p[i].revents & POLLIN) { char buf[4096]; ssize_t n = recv(p[i].fd, buf, sizeof buf, MSG_DONTWAIT); if (n == 0) done = 1; else if (n > 0) fprintf(stderr, "read %zd bytes on %d (not redirected)\n", n, i); }
    }
    close(map);
    close(c);
    close(s);
  }
}
