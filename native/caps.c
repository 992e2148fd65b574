/* The command's capability sets, applied in the command process just before no_new_privs,
 * seccomp and exec. The sets were decided by the TypeScript side (policies/capabilities);
 * this only hands the masks (parsed strictly in spec.c) to the kernel. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "helper.h"

/* The highest capability this kernel knows: bits above it cannot be held or dropped. The
 * kernel answers EINVAL for every number past it, so a bisection finds it in six calls (one
 * call per number was ~40 before the command's exec). */
static int last_cap(void) {
  int known = 0, unknown = 64;
  while (unknown - known > 1) {
    int mid = known + (unknown - known) / 2;
    if (prctl(PR_CAPBSET_READ, mid, 0, 0, 0) >= 0) known = mid; else unknown = mid;
  }
  return known;
}

int caps_apply(const struct cap_sets *c, const char **step) {
  int last = last_cap();
  uint64_t known = last >= 63 ? ~0ULL : ((1ULL << (last + 1)) - 1);
  /* The bounding set first: dropping needs CAP_SETPCAP, which the capset below may remove.
   * It is what root inside gets at exec, so failing here must stop the run. */
  *step = "cap-bounding";
  for (int cap = 0; cap <= last; cap++) {
    if ((c->bounding >> cap) & 1) continue;
    /* Dropped at once (the sandbox's processes hold CAP_SETPCAP here): asking first whether
     * each is still there doubled the ~40 calls. Without CAP_SETPCAP even a cap already gone
     * is refused (EPERM), and that one is no failure. */
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && !(errno == EPERM && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0)) return -1;
  }
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  uint64_t p = c->permitted & known, i = c->inheritable & known;
  d[0].permitted = d[0].effective = (uint32_t)p;
  d[1].permitted = d[1].effective = (uint32_t)(p >> 32);
  d[0].inheritable = (uint32_t)i;
  d[1].inheritable = (uint32_t)(i >> 32);
  *step = "capset";
  if (syscall(SYS_capset, &h, d) < 0) return -1;
  *step = "cap-ambient";
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) return -1;
  for (int cap = 0; cap <= last; cap++)
    if (((c->ambient & known) >> cap) & 1 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) return -1;
  return 0;
}
