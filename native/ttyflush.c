/* sbx-helper flush-input: drops what waits unread in the input queue of the terminal on fd 0
 * (tcflush TCIFLUSH; Node has none), just before sbx asks whether to keep a sandbox's changes:
 * only keys typed once the question is up answer it. Which terminal, and when, is the caller's.
 * Exit 0: flushed; 125: fd 0 is no terminal or cannot be flushed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include "helper.h"

int flush_input_main(void) {
  if (tcflush(0, TCIFLUSH) == 0) return 0;
  fprintf(stderr, "sbx-helper flush-input: %s\n", strerror(errno));
  return SBX_EXIT_FAILED;
}
