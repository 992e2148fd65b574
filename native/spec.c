/* The spec: a sequence of netstrings ("<len>:<bytes>,"). Each record is an op name followed by
 * the fixed number of arguments that op takes (table below). Netstrings carry binary data
 * (seccomp programs) and any path byte safely, and need no escaping rules.
 *
 * Everything that can be checked without touching the system is checked here, once: the op
 * name becomes an enum, flag lists become bits, numbers are parsed strictly. The files that
 * apply the spec switch on the enum and never re-parse a string. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include "helper.h"

#define SPEC_MAX (64u << 20)

static const struct { const char *name; int nargs; } op_table[OP_COUNT] = {
  [OP_VERSION] = {"version", 1},
  [OP_SHARE_NET] = {"share_net", 0}, [OP_UID_MAP] = {"uid_map", 1}, [OP_GID_MAP] = {"gid_map", 1},
  [OP_SETGROUPS] = {"setgroups", 1}, [OP_NEWUIDMAP] = {"newuidmap", 2}, [OP_NEWGIDMAP] = {"newgidmap", 2},
  [OP_CGROUP_PROCS] = {"cgroup_procs", 1}, [OP_CGROUP_WRITE] = {"cgroup_write", 2}, [OP_DEVBPF] = {"devbpf", 2},
  [OP_LAYERS_DIR] = {"layers_dir", 1}, [OP_ENTRY] = {"entry", 9}, [OP_LAYERS_TMPFS] = {"layers_tmpfs", 1},
  [OP_HOSTNAME] = {"hostname", 1}, [OP_LOOPBACK_UP] = {"loopback_up", 0}, [OP_NEW_CGROUPNS] = {"new_cgroupns", 0},
  [OP_STAGE] = {"stage", 1}, [OP_WHITEOUT] = {"whiteout", 2}, [OP_MKDIR] = {"mkdir", 2},
  [OP_SYMLINK] = {"symlink", 2}, [OP_LOWER] = {"lower", 1}, [OP_OVERLAY] = {"overlay", 6}, [OP_FUSE_OVERLAY] = {"fuse_overlay", 7},
  [OP_FUSE_SHARED] = {"fuse_shared", 8}, [OP_FUSE_TREE] = {"fuse_tree", 3}, [OP_FUSE_LOWER] = {"fuse_lower", 6},
  [OP_BIND] = {"bind", 3}, [OP_TMPFS] = {"tmpfs", 3}, [OP_PROC] = {"proc", 1}, [OP_DEVPTS] = {"devpts", 1},
  [OP_REMOUNT_RO] = {"remount_ro", 1}, [OP_RO_RECURSIVE] = {"ro_recursive", 1}, [OP_CHMOD] = {"chmod", 2},
  [OP_CHOWN] = {"chown", 3}, [OP_BUILD_OUTSIDE] = {"build_outside", 0}, [OP_SETID] = {"setid", 2},
  [OP_DISK_TMPFS] = {"disk_tmpfs", 2}, [OP_DISK_LAYER] = {"disk_layer", 1}, [OP_SCRAP_AFTER] = {"scrap_after", 2}, [OP_REVIEW_SCAN] = {"review_scan", 4}, [OP_SYNCFS_AFTER] = {"syncfs_after", 1},
  [OP_CWD] = {"cwd", 1}, [OP_CMD_USER] = {"cmd_user", 2}, [OP_ARG] = {"arg", 1}, [OP_ENV] = {"env", 1}, [OP_RLIMIT] = {"rlimit", 3},
  [OP_CAPS] = {"caps", 4}, [OP_RELAY_STDIO] = {"relay_stdio", 1}, [OP_NET_RELAY] = {"net_relay", 4}, [OP_NET_DIRECT] = {"net_direct", 1}, [OP_SCAN_OUTPUT] = {"scan_output", 1}, [OP_PTY] = {"pty", 2}, [OP_OSC_DROP] = {"osc_drop", 1}, [OP_DCS_DROP] = {"dcs_drop", 1}, [OP_SECCOMP] = {"seccomp", 1},
};

static int op_lookup(const char *name) {
  for (int i = 0; i < OP_COUNT; i++)
    if (op_table[i].name && strcmp(op_table[i].name, name) == 0) return i;
  return -1;
}

static const struct { const char *name; unsigned bit; } flag_table[] = {
  {"ro", FLAG_RO}, {"rec", FLAG_REC}, {"src-inside", FLAG_SRC_INSIDE}, {"optional", FLAG_OPTIONAL},
  {"idmap", FLAG_IDMAP}, {"parents", FLAG_PARENTS}, {"noexec", FLAG_NOEXEC}, {"nosuid-nodev", FLAG_NOSUID_NODEV}, {"idmap-lower", FLAG_IDMAP_LOWER}, {"ro-bind", FLAG_RO_BIND},
  {"may-vanish", FLAG_MAY_VANISH}, {"owner-optional", FLAG_OWNER_OPTIONAL}, {"report", FLAG_REPORT},
  {"moved-check", FLAG_MOVED_CHECK}, {"opaque", FLAG_OPAQUE}, {"host-xattrs", FLAG_HOST_XATTRS},
};

/* Parses a comma list of flags; each must be one of `allowed`. */
static int parse_flags(const char *list, unsigned allowed, unsigned *out, char *err, size_t errlen) {
  *out = 0;
  for (const char *p = list; *p;) {
    const char *e = strchr(p, ',');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    unsigned bit = 0;
    for (size_t i = 0; i < sizeof flag_table / sizeof flag_table[0]; i++)
      if (strlen(flag_table[i].name) == l && strncmp(flag_table[i].name, p, l) == 0) bit = flag_table[i].bit;
    if (!bit || !(bit & allowed)) { snprintf(err, errlen, "unknown flag '%.*s'", (int)(l > 64 ? 64 : l), p); return -1; }
    *out |= bit;
    if (!e) break;
    p = e + 1;
  }
  return 0;
}

static int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

/* Digits of `base` only: strtoull would also take spaces, a sign, "0x" and silently wrap. */
static int parse_uint(const char *s, unsigned base, unsigned long long max, unsigned long long *out) {
  unsigned long long v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    int dv = digit_value(*s);
    if (dv >= (int)base) return -1;
    unsigned d = (unsigned)dv;
    if (v > (max - d) / base) return -1;
    v = v * base + d;
  }
  *out = v;
  return 0;
}

static int parse_rlimit_name(const char *s) {
  static const struct { const char *n; int r; } t[] = {
    {"as", RLIMIT_AS}, {"core", RLIMIT_CORE}, {"cpu", RLIMIT_CPU}, {"data", RLIMIT_DATA},
    {"fsize", RLIMIT_FSIZE}, {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC},
    {"stack", RLIMIT_STACK}, {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) if (strcmp(t[i].n, s) == 0) return t[i].r;
  return -1;
}

static int parse_rlim(const char *s, unsigned long long *out) {
  if (strcmp(s, "inf") == 0) { *out = RLIM_INFINITY; return 0; }
  return parse_uint(s, 10, RLIM_INFINITY - 1, out);
}

/* (uid_t)-1 means "leave unchanged" to chown and setresuid: never a valid id here. */
#define ID_MAX 0xfffffffeull

/* entry's mode, uid or gid: "-" (ENTRY_UNSET) or digits of `base` up to max. */
static int parse_or_unset(const char *s, unsigned base, unsigned long long max, unsigned long long *out) {
  if (strcmp(s, "-") == 0) { *out = ENTRY_UNSET; return 0; }
  return parse_uint(s, base, max, out);
}

/* entry's times: "-" (both parts ENTRY_UNSET) or SECONDS.NANOSECONDS, the seconds with an
 * optional '-' (before 1970), the nanoseconds exactly 9 digits. */
static int parse_time(const char *s, unsigned long long *sec, unsigned long long *nsec) {
  if (strcmp(s, "-") == 0) { *sec = *nsec = ENTRY_UNSET; return 0; }
  int neg = *s == '-';
  const char *dot = strchr(s + neg, '.');
  char whole[24];
  if (!dot || (size_t)(dot - s - neg) >= sizeof whole || strlen(dot + 1) != 9) return -1;
  memcpy(whole, s + neg, (size_t)(dot - s - neg));
  whole[dot - s - neg] = 0;
  unsigned long long v;
  if (parse_uint(whole, 10, (1ull << 62), &v) < 0 || parse_uint(dot + 1, 10, 999999999, nsec) < 0) return -1;
  *sec = neg ? (unsigned long long)(-(long long)v) : v;
  return 0;
}

/* Resolves an op's flags and numbers; -1 with err set when an argument is malformed. */
static int resolve_args(struct spec_op *op, char *err, size_t errlen) {
  char **a = op->args;
  unsigned long long *n = op->num;
  switch (op->type) {
  case OP_BIND:
    return parse_flags(a[2], FLAG_RO | FLAG_REC | FLAG_SRC_INSIDE | FLAG_OPTIONAL | FLAG_IDMAP | FLAG_PARENTS | FLAG_MAY_VANISH | FLAG_NOSUID_NODEV, &op->flags, err, errlen);
  case OP_TMPFS:
    return parse_flags(a[2], FLAG_RO | FLAG_NOEXEC | FLAG_OPTIONAL, &op->flags, err, errlen);
  case OP_OVERLAY:
    return parse_flags(a[5], FLAG_IDMAP_LOWER | FLAG_RO_BIND | FLAG_MOVED_CHECK, &op->flags, err, errlen);
  case OP_MKDIR:
  case OP_CHMOD:
    if (parse_uint(a[1], 8, 07777, &n[0]) < 0) { snprintf(err, errlen, "bad mode"); return -1; }
    return 0;
  case OP_CHOWN:
    if (parse_uint(a[1], 10, ID_MAX, &n[0]) < 0 || parse_uint(a[2], 10, ID_MAX, &n[1]) < 0) { snprintf(err, errlen, "bad uid or gid"); return -1; }
    return 0;
  case OP_CMD_USER:
  case OP_SETID:
    if (parse_uint(a[0], 10, ID_MAX, &n[0]) < 0 || parse_uint(a[1], 10, ID_MAX, &n[1]) < 0) { snprintf(err, errlen, "bad setid"); return -1; }
    return 0;
  case OP_SETGROUPS:
    if (strcmp(a[0], "deny") && strcmp(a[0], "allow")) { snprintf(err, errlen, "setgroups must be deny or allow"); return -1; }
    return 0;
  case OP_RLIMIT: {
    int r = parse_rlimit_name(a[0]);
    if (r < 0 || parse_rlim(a[1], &n[1]) < 0 || parse_rlim(a[2], &n[2]) < 0) { snprintf(err, errlen, "bad rlimit"); return -1; }
    n[0] = (unsigned long long)r;
    return 0;
  }
  case OP_CAPS:
    for (int i = 0; i < 4; i++)
      if (parse_uint(a[i], 16, ~0ull, &n[i]) < 0) { snprintf(err, errlen, "bad capability mask"); return -1; }
    return 0;
  case OP_RELAY_STDIO:
    /* A comma list of distinct fds among 0, 1, 2, where "1+2" is stdout and stderr through
     * one pipe (n[1]). */
    n[0] = n[1] = 0;
    for (const char *p = a[0]; *p; p++) {
      if (*p == ',') continue;
      int both = p[0] == '1' && p[1] == '+' && p[2] == '2';
      const char *end = both ? p + 3 : p + 1;
      if (*p < '0' || *p > '2' || (n[0] & (1u << (*p - '0'))) || (both && (n[0] & 4)) || (*end && *end != ',')) {
        snprintf(err, errlen, "relay_stdio takes distinct fds 0, 1, 2 (1+2: one pipe for both)");
        return -1;
      }
      n[0] |= 1u << (*p - '0');
      if (both) { n[0] |= 4; n[1] = 1; p += 2; }
    }
    return 0;
  case OP_NET_RELAY:
    /* DIR NAME PORT BUFFER: the name is looked up in DIR, so it is one component; BUFFER is the
     * relay's copy buffer per direction in bytes, sized by sbx (net/session.ts). */
    if (!a[1][0] || strchr(a[1], '/') || parse_uint(a[2], 10, 65535, &n[0]) < 0 || n[0] == 0
        || parse_uint(a[3], 10, 64ull << 20, &n[1]) < 0 || n[1] < 4096) { snprintf(err, errlen, "net_relay takes DIR NAME PORT BUFFER (4096 to 64 MiB)"); return -1; }
    return 0;
  case OP_NET_DIRECT:
    /* NAME: the proxy's socket for connect decisions, in net_relay's DIR. */
    if (!a[0][0] || strchr(a[0], '/')) { snprintf(err, errlen, "net_direct takes NAME (one component)"); return -1; }
    return 0;
  case OP_PTY:
    /* The fd (one sbx gave the helper) where the command's init says the command stopped. */
    if (parse_uint(a[0], 10, 1023, &n[0]) < 0 || n[0] < 3) { snprintf(err, errlen, "bad job-control fd"); return -1; }
    /* MASK: the fds 0-2 that are terminals on the host (bits 1, 2, 4): each gets the pty. */
    if (parse_uint(a[1], 10, 7, &n[1]) < 0 || n[1] == 0) { snprintf(err, errlen, "bad pty fd mask"); return -1; }
    return 0;
  case OP_OSC_DROP:
    /* N: an OSC number whose strings the pty's output loses on the way to the user's terminal. */
    if (parse_uint(a[0], 10, 99999, &n[0]) < 0) { snprintf(err, errlen, "bad osc_drop number"); return -1; }
    return 0;
  case OP_DCS_DROP:
    /* TEXT: the first bytes of DCS strings the pty's output loses (at most 38, no NUL). */
    if (!a[0][0] || op->lens[0] > 38 || strlen(a[0]) != op->lens[0]) { snprintf(err, errlen, "dcs_drop takes a text of 1 to 38 bytes"); return -1; }
    return 0;
  case OP_REVIEW_SCAN:
    /* LAYERS_FD HOST_FD OUT_FD REQUEST: three distinct fds sbx gave the helper, and a scan
     * request as `sbx-helper scan` reads it on stdin (scan.c checks its shape). */
    for (int i = 0; i < 3; i++)
      if (parse_uint(a[i], 10, 1023, &n[i]) < 0 || n[i] < 3) { snprintf(err, errlen, "review_scan takes three fds from 3 to 1023 and a request"); return -1; }
    if (n[0] == n[1] || n[0] == n[2] || n[1] == n[2] || op->lens[3] == 0) { snprintf(err, errlen, "review_scan takes three distinct fds and a request"); return -1; }
    return 0;
  case OP_SCAN_OUTPUT:
    if (!a[0][0] || strlen(a[0]) >= 256) { snprintf(err, errlen, "scan_output takes a text of 1 to 255 bytes"); return -1; }
    return 0;
  case OP_ENTRY: {
    /* KIND REL MODE UID GID ATIME MTIME TARGET FLAGS: REL is checked where it is resolved
     * (beneath the layers dir); what can be checked without the filesystem is checked here. */
    static const char *const kinds[] = { [ENTRY_DIR] = "dir", [ENTRY_FILE] = "file", [ENTRY_SYMLINK] = "symlink", [ENTRY_DIR_ATTRS] = "dir-attrs", [ENTRY_FILE_ATTRS] = "file-attrs" };
    n[0] = ENTRY_UNSET;
    for (unsigned k = 0; k < sizeof kinds / sizeof kinds[0]; k++) if (strcmp(a[0], kinds[k]) == 0) n[0] = k;
    if (n[0] == ENTRY_UNSET) { snprintf(err, errlen, "entry kind must be dir, file, symlink, dir-attrs or file-attrs"); return -1; }
    if (!a[1][0] || a[1][0] == '/' || parse_or_unset(a[2], 8, 07777, &n[1]) < 0 || parse_or_unset(a[3], 10, ID_MAX, &n[2]) < 0
        || parse_or_unset(a[4], 10, ID_MAX, &n[3]) < 0 || (n[2] == ENTRY_UNSET) != (n[3] == ENTRY_UNSET)
        || parse_time(a[5], &n[4], &n[5]) < 0 || parse_time(a[6], &n[6], &n[7]) < 0) {
      snprintf(err, errlen, "bad entry path, mode, owner or time");
      return -1;
    }
    if (parse_flags(a[8], FLAG_OWNER_OPTIONAL | FLAG_REPORT | FLAG_OPAQUE | FLAG_HOST_XATTRS, &op->flags, err, errlen) < 0) return -1;
    /* A symlink has a target and no mode of its own; a dir that takes the host dir's xattrs
     * (made here, or by sbx: dir-attrs) has "UIDBASE:GIDBASE:COUNT:/HOST" (entries.c);
     * nothing else has a target. */
    if (op->flags & FLAG_HOST_XATTRS) {
      unsigned long long b[3];
      int at = 0;
      if ((n[0] != ENTRY_DIR && n[0] != ENTRY_DIR_ATTRS) || sscanf(a[7], "%llu:%llu:%llu:%n", &b[0], &b[1], &b[2], &at) != 3 || at == 0 || a[7][at] != '/') {
        snprintf(err, errlen, "entry: host-xattrs takes a dir and UIDBASE:GIDBASE:COUNT:/HOST");
        return -1;
      }
    } else if ((n[0] == ENTRY_SYMLINK) != (a[7][0] != 0) || (n[0] == ENTRY_SYMLINK && n[1] != ENTRY_UNSET)) {
      snprintf(err, errlen, "entry: only a symlink has a target, and no mode");
      return -1;
    }
    if ((op->flags & FLAG_REPORT) && n[0] != ENTRY_FILE) { snprintf(err, errlen, "entry: only a file is reported"); return -1; }
    if ((op->flags & FLAG_OPAQUE) && n[0] != ENTRY_DIR) { snprintf(err, errlen, "entry: only a dir is made opaque"); return -1; }
    return 0;
  }
  case OP_DISK_TMPFS:
    /* The size goes into tmpfs's option string: digits only, so it cannot add options. */
    if (parse_uint(a[1], 10, ~0ull, &n[0]) < 0 || n[0] == 0) { snprintf(err, errlen, "bad disk size"); return -1; }
    return 0;
  default:
    return 0;
  }
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

static char *read_all(int fd, size_t *outlen, char *err, size_t errlen) {
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  if (!buf) { snprintf(err, errlen, "out of memory"); return NULL; }
  for (;;) {
    if (len == cap) {
      if (cap >= SPEC_MAX) { free(buf); snprintf(err, errlen, "spec larger than %u bytes", SPEC_MAX); return NULL; }
      cap *= 2;
      char *nb = realloc(buf, cap);
      if (!nb) { free(buf); snprintf(err, errlen, "out of memory"); return NULL; }
      buf = nb;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      snprintf(err, errlen, "reading spec: %s", strerror(errno));
      free(buf);
      return NULL;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  *outlen = len;
  return buf;
}

int spec_read(int fd, struct spec *out, char *err, size_t errlen) {
  size_t len;
  autofree char *buf = read_all(fd, &len, err, errlen);
  if (!buf) return -1;
  size_t pos = 0, cap_ops = 64;
  out->nops = 0;
  out->ops = calloc(cap_ops, sizeof *out->ops);
  if (!out->ops) { snprintf(err, errlen, "out of memory"); return -1; }
  while (pos < len) {
    size_t nlen;
    autofree char *name = netstring(buf, len, &pos, &nlen, err, errlen);
    if (!name) return -1;
    int type = op_lookup(name);
    if (type < 0) {
      snprintf(err, errlen, "unknown op '%.64s'", name);
      return -1;
    }
    if (out->nops == cap_ops) {
      cap_ops *= 2;
      struct spec_op *no = realloc(out->ops, cap_ops * sizeof *no);
      if (!no) { snprintf(err, errlen, "out of memory"); return -1; }
      out->ops = no;
    }
    struct spec_op *op = &out->ops[out->nops];
    memset(op, 0, sizeof *op);
    op->type = (enum op_type)type;
    op->name = op_table[type].name;
    op->nargs = op_table[type].nargs;
    op->args = calloc((size_t)op->nargs + 1, sizeof(char *));
    op->lens = calloc((size_t)op->nargs + 1, sizeof(size_t));
    if (!op->args || !op->lens) { snprintf(err, errlen, "out of memory"); return -1; }
    out->nops++;
    char inner[200];
    for (int i = 0; i < op->nargs; i++) {
      op->args[i] = netstring(buf, len, &pos, &op->lens[i], err, errlen);
      if (!op->args[i]) {
        snprintf(inner, sizeof inner, "%s", err);
        snprintf(err, errlen, "op '%s' argument %d: %s", op->name, i + 1, inner);
        return -1;
      }
      /* Only seccomp/devbpf programs and a review_scan's request may carry NUL bytes. */
      if (op->type != OP_SECCOMP && op->type != OP_DEVBPF && !(op->type == OP_REVIEW_SCAN && i == 3) && strlen(op->args[i]) != op->lens[i]) {
        snprintf(err, errlen, "op '%s' argument %d contains a NUL byte", op->name, i + 1);
        return -1;
      }
    }
    if (resolve_args(op, inner, sizeof inner) < 0) {
      snprintf(err, errlen, "op '%s': %s", op->name, inner);
      return -1;
    }
  }
  if (out->nops == 0 || out->ops[0].type != OP_VERSION || strcmp(out->ops[0].args[0], "1") != 0) {
    snprintf(err, errlen, "spec must start with version 1");
    return -1;
  }
  return 0;
}
