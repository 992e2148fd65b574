/* Notes the command's own error lines that the helper already copies (its pty, or a relayed
 * stdout/stderr), when they contain one of the texts the spec names (`scan_output`, e.g.
 * "Read-only file system", "Temporary failure in name resolution"). After the command, each
 * kept line goes to sbx as `seen LINE`, and sbx decides what it means: whether the path it
 * names lies in a part of the view that caused the error, or whether the command missed a
 * network it did not have.
 * Nothing is parsed here beyond finding lines; bytes pass on unchanged, and no byte is held
 * back: a line is looked at as it goes by. */
#include <string.h>
#include "sandbox.h"

#define MAX_KEPT 32
#define LINE_MAX_KEPT 1024

static char partial[3][LINE_MAX_KEPT]; /* per stream (0 pty/stdout, 1, 2): the line so far */
static size_t plen[3];
static int overlong[3];
static char kept[MAX_KEPT][LINE_MAX_KEPT];
static size_t nkept;

static void consider(const char *line) {
  if (nkept >= MAX_KEPT) return;
  int match = 0;
  for (size_t i = 0; i < cfg.n_scan && !match; i++) match = strstr(line, cfg.scan[i]) != NULL;
  if (!match) return;
  for (size_t i = 0; i < nkept; i++) if (strcmp(kept[i], line) == 0) return;
  strcpy(kept[nkept++], line);
}

void errlines_feed(int stream, const char *buf, size_t n) {
  if (!cfg.n_scan || stream < 0 || stream > 2) return;
  for (size_t i = 0; i < n; i++) {
    char c = buf[i];
    if (c == '\n') {
      partial[stream][plen[stream]] = 0;
      if (!overlong[stream]) consider(partial[stream]);
      plen[stream] = 0;
      overlong[stream] = 0;
    } else if (c == '\r' || c == 0) {
      continue; /* a pty's CR LF; a NUL cannot be part of a message we look for */
    } else if (plen[stream] + 1 < LINE_MAX_KEPT) {
      partial[stream][plen[stream]++] = c;
    } else {
      overlong[stream] = 1; /* a path that long is not one we could name in one line anyway */
    }
  }
}

void errlines_report(void) {
  for (int s = 0; s < 3; s++) if (plen[s] && !overlong[s]) { partial[s][plen[s]] = 0; consider(partial[s]); plen[s] = 0; }
  for (size_t i = 0; i < nkept; i++) status_send("seen", "%s", kept[i]);
}
