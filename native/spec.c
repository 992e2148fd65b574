/* The spec: a sequence of netstrings ("<len>:<bytes>,"). Each record is an op name followed by
 * the fixed number of arguments that op takes (table below). Netstrings carry binary data
 * (seccomp programs) and any path byte safely, and need no escaping rules. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "helper.h"

#define SPEC_MAX (64u << 20)

static const struct { const char *name; int nargs; } op_table[] = {
  /* header */
  {"version", 1},
  /* namespaces and identity (applied by the outer process) */
  {"share_net", 0}, {"uid_map", 1}, {"gid_map", 1}, {"setgroups", 1},
  {"newuidmap", 2}, {"newgidmap", 2}, {"cgroup_procs", 1},
  {"cgroup_write", 2}, {"devbpf", 2},
  /* inside, before the filesystem */
  {"hostname", 1}, {"loopback_up", 0}, {"new_cgroupns", 0},
  /* filesystem, in order, destinations relative to the new root */
  {"stage", 1}, {"whiteout", 2}, {"mkdir", 2}, {"symlink", 2}, {"overlay", 6},
  {"fuse_overlay", 6}, {"bind", 3}, {"tmpfs", 3}, {"proc", 1}, {"devpts", 1},
  {"remount_ro", 1}, {"ro_recursive", 1}, {"chmod", 2}, {"chown", 3},
  {"build_outside", 0}, {"setid", 2}, {"disk_tmpfs", 2}, {"disk_layer", 1},
  /* the process */
  {"cwd", 1}, {"arg", 1}, {"env", 1}, {"rlimit", 3}, {"caps", 4}, {"relay_stdio", 1}, {"pty", 0}, {"seccomp", 1},
};

int spec_op_arity(const char *name) {
  for (size_t i = 0; i < sizeof op_table / sizeof op_table[0]; i++)
    if (strcmp(op_table[i].name, name) == 0) return op_table[i].nargs;
  return -1;
}

static const char *op_name_static(const char *name) {
  for (size_t i = 0; i < sizeof op_table / sizeof op_table[0]; i++)
    if (strcmp(op_table[i].name, name) == 0) return op_table[i].name;
  return NULL;
}

/* Parses one netstring at buf[*pos..len); returns a malloc'd NUL-terminated copy. */
static char *netstring(const char *buf, size_t len, size_t *pos, size_t *outlen, char *err, size_t errlen) {
  size_t p = *pos, n = 0, digits = 0;
  while (p < len && buf[p] >= '0' && buf[p] <= '9') {
    if (digits++ > 9) { snprintf(err, errlen, "length too long at byte %zu", *pos); return NULL; }
    n = n * 10 + (size_t)(buf[p] - '0');
    p++;
  }
  if (digits == 0 || p >= len || buf[p] != ':') {
    snprintf(err, errlen, "expected '<len>:' at byte %zu", *pos);
    return NULL;
  }
  p++;
  if (n > len - p || len - p - n < 1 || buf[p + n] != ',') {
    snprintf(err, errlen, "truncated or unterminated field at byte %zu", *pos);
    return NULL;
  }
  char *s = malloc(n + 1);
  if (!s) { snprintf(err, errlen, "out of memory"); return NULL; }
  memcpy(s, buf + p, n);
  s[n] = 0;
  *outlen = n;
  *pos = p + n + 1;
  return s;
}

int spec_read(int fd, struct spec *out, char *err, size_t errlen) {
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  if (!buf) { snprintf(err, errlen, "out of memory"); return -1; }
  for (;;) {
    if (len == cap) {
      if (cap >= SPEC_MAX) { free(buf); snprintf(err, errlen, "spec larger than %u bytes", SPEC_MAX); return -1; }
      cap *= 2;
      char *nb = realloc(buf, cap);
      if (!nb) { free(buf); snprintf(err, errlen, "out of memory"); return -1; }
      buf = nb;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      snprintf(err, errlen, "reading spec: %s", strerror(errno));
      free(buf);
      return -1;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  size_t pos = 0, cap_ops = 64;
  out->nops = 0;
  out->ops = calloc(cap_ops, sizeof *out->ops);
  if (!out->ops) { free(buf); snprintf(err, errlen, "out of memory"); return -1; }
  while (pos < len) {
    size_t nlen;
    char *name = netstring(buf, len, &pos, &nlen, err, errlen);
    if (!name) goto fail;
    const char *sname = op_name_static(name);
    if (!sname) {
      snprintf(err, errlen, "unknown op '%.64s'", name);
      free(name);
      goto fail;
    }
    free(name);
    int nargs = spec_op_arity(sname);
    if (out->nops == cap_ops) {
      cap_ops *= 2;
      struct spec_op *no = realloc(out->ops, cap_ops * sizeof *no);
      if (!no) { snprintf(err, errlen, "out of memory"); goto fail; }
      out->ops = no;
    }
    struct spec_op *op = &out->ops[out->nops];
    op->name = sname;
    op->nargs = nargs;
    op->args = calloc((size_t)nargs + 1, sizeof(char *));
    op->lens = calloc((size_t)nargs + 1, sizeof(size_t));
    if (!op->args || !op->lens) { snprintf(err, errlen, "out of memory"); goto fail; }
    out->nops++;
    for (int i = 0; i < nargs; i++) {
      op->args[i] = netstring(buf, len, &pos, &op->lens[i], err, errlen);
      if (!op->args[i]) {
        char inner[200];
        snprintf(inner, sizeof inner, "%s", err);
        snprintf(err, errlen, "op '%s' argument %d: %s", sname, i + 1, inner);
        goto fail;
      }
      /* Only seccomp/devbpf programs may carry NUL bytes. */
      if (strcmp(sname, "seccomp") != 0 && strcmp(sname, "devbpf") != 0 && strlen(op->args[i]) != op->lens[i]) {
        snprintf(err, errlen, "op '%s' argument %d contains a NUL byte", sname, i + 1);
        goto fail;
      }
    }
  }
  free(buf);
  if (out->nops == 0 || strcmp(out->ops[0].name, "version") != 0 || strcmp(out->ops[0].args[0], "1") != 0) {
    snprintf(err, errlen, "spec must start with version 1");
    return -1;
  }
  return 0;
fail:
  free(buf);
  return -1;
}
