/* What the command writes on the user's terminal through its pty, on its way there (init.c's
 * relay): the OSC strings whose numbers the spec names (`osc_drop N`: sbx's list, the
 * clipboard and file transfers, which act on the user's machine through the terminal emulator)
 * are dropped whole; every other byte passes unchanged and in order. A string may arrive over
 * any number of reads. Followed as xterm does: ESC ] (or C1 OSC written as UTF-8, C2 9D), the
 * number, then the string up to BEL, ST (ESC \ or C2 9C), or cut short by CAN, SUB or an ESC
 * that starts another sequence. Only the introducer and the number are ever held back. */
#include "sandbox.h"
#include <string.h>

enum { GROUND, ESC, LEAD_C2, NUM, PASS, DROP, PASS_ESC, DROP_ESC };

static struct {
  int state, after_c2;
  unsigned char held[12];
  size_t n_held;
  unsigned long num;
} tf;

static int dropped(unsigned long num) {
  for (size_t i = 0; i < cfg.n_osc_drop; i++) if (cfg.osc_drop[i] == num) return 1;
  return 0;
}

/* One byte; what passes is appended at out[*n]. */
static void step(unsigned char b, unsigned char *out, size_t *n) {
#define EMIT(c) (out[(*n)++] = (unsigned char)(c))
#define FLUSH() do { memcpy(out + *n, tf.held, tf.n_held); *n += tf.n_held; tf.n_held = 0; } while (0)
  for (;;) {
    switch (tf.state) {
    case GROUND:
      if (b == 0x1b || b == 0xc2) { tf.held[0] = b; tf.n_held = 1; tf.state = b == 0x1b ? ESC : LEAD_C2; return; }
      EMIT(b);
      return;
    case ESC:
    case LEAD_C2:
      if ((tf.state == ESC && b == ']') || (tf.state == LEAD_C2 && b == 0x9d)) {
        tf.held[tf.n_held++] = b; tf.num = 0; tf.state = NUM; return;
      }
      FLUSH();
      tf.state = GROUND;
      /* C2's continuation byte is its character's, never a control of its own. */
      if (b >= 0x80 && b < 0xc0) { EMIT(b); return; }
      continue;
    case NUM:
      if (b >= '0' && b <= '9' && tf.n_held < sizeof tf.held) { tf.held[tf.n_held++] = b; tf.num = tf.num * 10 + (b - '0'); return; }
      /* The number ended (a digit here is one more than the held bytes allow: no listed number
       * is that long, so the string passes). */
      if (tf.n_held > 2 && dropped(tf.num) && !(b >= '0' && b <= '9')) { tf.n_held = 0; tf.state = DROP; continue; }
      FLUSH();
      tf.state = PASS;
      continue;
    case PASS:
    case DROP:
      if (b == 0x1b) { tf.state = tf.state == PASS ? PASS_ESC : DROP_ESC; return; }
      if (tf.state == PASS) EMIT(b);
      if (b == 0x07 || b == 0x18 || b == 0x1a || (b == 0x9c && tf.after_c2)) { tf.state = GROUND; tf.after_c2 = 0; return; }
      tf.after_c2 = b == 0xc2;
      return;
    case PASS_ESC:
    case DROP_ESC:
      tf.after_c2 = 0;
      if (b == '\\') { if (tf.state == PASS_ESC) { EMIT(0x1b); EMIT(b); } tf.state = GROUND; return; }
      /* The ESC ends the string and starts what follows it. */
      tf.held[0] = 0x1b; tf.n_held = 1; tf.state = ESC;
      continue;
    }
  }
#undef EMIT
#undef FLUSH
}

size_t termfilter(const char *in, size_t n, char *out) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) step((unsigned char)in[i], (unsigned char *)out, &m);
  return m;
}
