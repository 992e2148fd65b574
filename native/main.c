/* sbx-helper entry point: dispatches to the subcommand. The TypeScript side is the only
 * intended caller; argv is not a user interface. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helper.h"

static int usage(void) {
  fprintf(stderr, "usage: sbx-helper run SPEC_FD STATUS_FD | sbx-helper xattr ...\n"
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
  if (strcmp(argv[1], "run") == 0) {
    if (argc != 4) return usage();
    int spec_fd = parse_fd(argv[2]), status_fd = parse_fd(argv[3]);
    if (spec_fd < 0 || status_fd < 0) return usage();
    return sandbox_main(spec_fd, status_fd);
  }
  if (strcmp(argv[1], "xattr") == 0) return xattr_main(argc - 1, argv + 1);
  return usage();
}
