/* What the command writes on the user's terminal through its pty, on its way there (init.c's
 * relay): the OSC strings whose numbers the spec names (`osc_drop N`) and the DCS strings
 * that start with a text it names (`dcs_drop TEXT`) are dropped whole: sbx's lists, what a
 * terminal emulator acts on outside the sandbox (the clipboard, file transfers, kitty's remote
 * control). Every other byte passes unchanged and in order. A string may arrive over any
 * number of reads. Followed as xterm does: ESC ] or ESC P (or C1 OSC and DCS written as UTF-8,
 * C2 9D and C2 90), the number or the first bytes, then the string up to ST (ESC \ or C2 9C;
 * BEL too for an OSC), or cut short by CAN, SUB or an ESC that starts another sequence. Only
 * the introducer and the number or first bytes are ever held back; a DCS that passes is left
 * to the terminal from there (its data is not parsed here). */
#include "sandbox.h"
#include <string.h>

enum { GROUND, ESC, LEAD_C2, NUM, DCS_HEAD, PASS, DROP, PASS_ESC, DROP_ESC };

static struct {
  int state, after_c2, dcs;
  unsigned char held[40];
  size_t n_held;
  unsigned long num;
} tf;

static int dropped(unsigned long num) {
  for (size_t i = 0; i < cfg.n_osc_drop; i++) if (cfg.osc_drop[i] == num) return 1;
  return 0;
}

/* For the DCS bytes held after its 2-byte introducer: 1 when they are a listed prefix, 0 when
 * no listed prefix can still match, -1 while one may. */
static int dcs_match(void) {
  const unsigned char *h = tf.held + 2;
  size_t k = tf.n_held - 2;
  int may = 0;
  for (size_t i = 0; i < cfg.n_dcs_drop; i++) {
    size_t len = strlen(cfg.dcs_drop[i]);
    if (memcmp(h, cfg.dcs_drop[i], k < len ? k : len) != 0) continue;
    if (k >= len) return 1;
    may = 1;
  }
  return may ? -1 : 0;
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
        tf.held[tf.n_held++] = b; tf.num = 0; tf.dcs = 0; tf.state = NUM; return;
      }
      if (cfg.n_dcs_drop && ((tf.state == ESC && b == 'P') || (tf.state == LEAD_C2 && b == 0x90))) {
        tf.held[tf.n_held++] = b; tf.dcs = 1; tf.state = DCS_HEAD; return;
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
    case DCS_HEAD:
      tf.held[tf.n_held++] = b;
      switch (dcs_match()) {
      case 1: tf.n_held = 0; tf.state = DROP; return;
      case 0: FLUSH(); tf.state = GROUND; return;
      default: if (tf.n_held == sizeof tf.held) { FLUSH(); tf.state = GROUND; } return;
      }
    case PASS:
    case DROP:
      if (b == 0x1b) { tf.state = tf.state == PASS ? PASS_ESC : DROP_ESC; return; }
      if (tf.state == PASS) EMIT(b);
      /* BEL ends an OSC; a DCS only at ST. */
      if ((b == 0x07 && !tf.dcs) || b == 0x18 || b == 0x1a || (b == 0x9c && tf.after_c2)) { tf.state = GROUND; tf.after_c2 = 0; return; }
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
