/* sbx-helper entry point: dispatches to the subcommand. The TypeScript side is the only
 * intended caller; argv is not a user interface. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helper.h"

#ifndef SBX_HELPER_VERSION
#define SBX_HELPER_VERSION "unversioned"
#endif

/* The version once more, as an ELF note: the linker puts notes in the file's first page, where
 * `sbx --version` finds it without starting the helper (sandbox-core/helper.ts helperMatches);
 * the string the code uses lies ~800 KB into the static binary. `readelf -n` shows it. */
__attribute__((section(".note.sbx"), aligned(4), used))
static const struct {
  uint32_t namesz, descsz, type;
  char name[4];
  char desc[(sizeof(SBX_HELPER_VERSION) + 3) & ~3u];
} version_note = { 4, sizeof(SBX_HELPER_VERSION), 1, "sbx", SBX_HELPER_VERSION };

static int usage(void) {
  fprintf(stderr, "usage: sbx-helper run SPEC_FD STATUS_FD [VERSION] | sbx-helper xattr ... | sbx-helper scan [--whole-max=BYTES] | sbx-helper scan-many [--whole-max=BYTES] | sbx-helper host-dirs | sbx-helper place [--fence=MNT:HEXPATH ...] | sbx-helper rmtree NAME... | sbx-helper lock | sbx-helper flush-input | sbx-helper as-mapped-root UIDTOOL UIDMAP GIDTOOL GIDMAP count-entries|rmtree NAME... | sbx-helper net-pass | sbx-helper version\n"
                  "This is sbx's internal helper; run 'sbx' instead.\n");
  return SBX_EXIT_FAILED;
}

static int parse_fd(const char *s) {
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < 0 || v > 1024) return -1;
  return (int)v;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  /* Only what reads or removes a sandbox's layers runs with this prefix. */
  if (strcmp(argv[1], "as-mapped-root") == 0) {
    if (argc >= 7 && strcmp(argv[6], "rmtree") == 0) return rmtree_main(argc - 6, argv + 6, argv + 2);
    if (argc != 7 || strcmp(argv[6], "count-entries") != 0) return usage();
    if (enter_mapped_root(argv + 2) < 0) return SBX_EXIT_FAILED;
    return count_entries_main();
  }
  if (strcmp(argv[1], "run") == 0) {
    times_init();
    if (argc != 4 && argc != 5) return usage();
    int spec_fd = parse_fd(argv[2]), status_fd = parse_fd(argv[3]);
    if (spec_fd < 0 || status_fd < 0) return usage();
    /* sbx says which helper it was built with: a helper left from another version must not
     * interpret a spec it may not understand. Costs nothing on the run path. */
    if (argc == 5 && strcmp(argv[4], SBX_HELPER_VERSION) != 0) {
      status_init(status_fd);
      die_msg("helper-version", SBX_HELPER_VERSION);
    }
    return sandbox_main(spec_fd, status_fd);
  }
  if (strcmp(argv[1], "version") == 0) {
    printf("%s\n", SBX_HELPER_VERSION);
    return 0;
  }
  if (strcmp(argv[1], "xattr") == 0) return xattr_main(argc - 1, argv + 1);
  if (strcmp(argv[1], "scan") == 0 && (argc == 2 || argc == 3)) return scan_main(argc == 3 ? argv[2] : NULL);
  if (strcmp(argv[1], "scan-many") == 0 && (argc == 2 || argc == 3)) return scan_many_main(argc == 3 ? argv[2] : NULL);
  if (strcmp(argv[1], "host-dirs") == 0 && argc == 2) return host_dirs_main();
  if (strcmp(argv[1], "place") == 0) return place_main(argc - 1, argv + 1);
  if (strcmp(argv[1], "net-pass") == 0 && argc == 2) return net_pass_main();
  if (strcmp(argv[1], "rmtree") == 0) return rmtree_main(argc - 1, argv + 1, NULL);
  if (strcmp(argv[1], "lock") == 0 && argc == 2) return lock_main();
  if (strcmp(argv[1], "flush-input") == 0 && argc == 2) return flush_input_main();
  return usage();
}
