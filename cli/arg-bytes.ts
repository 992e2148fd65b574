// Node decodes argv as UTF-8, each invalid byte becoming U+FFFD: `--hide /tmp/sec\xff` would
// reach sbx as another path (one that does not exist), and hiding or binding it would silently
// miss the one meant. The command's own arguments pass byte-exact (rawArgs, in the spec); sbx's
// options and operands (paths kept in meta.json, globs, names) are UTF-8 text throughout, so
// one that is not is refused before anything is done.
import { rawArgs } from '../sandbox-core/rawbytes.js';
import { display, decodeUtf8Strict } from '../sandbox-core/base/bpath.js';
import { SbxError } from '../sandbox-core/base/errors.js';

const LOSSY = '\uFFFD';

function isUtf8(b: Buffer): boolean {
  try { decodeUtf8Strict(b); return true; } catch { return false; }
}

/**
 * Throws for the first of sbx's own arguments (argv without its last `commandLength`, the
 * command's) that was not valid UTF-8. `cmdline` is for tests.
 */
export function refuseLossyArgs(argv: readonly string[], commandLength: number, cmdline?: () => Buffer): void {
  const own = argv.length - commandLength;
  let any = false;
  for (let k = 0; k < own; k++) if (argv[k]!.includes(LOSSY)) { any = true; break; }
  if (!any) return;
  const raw = rawArgs([...argv], cmdline);
  for (let k = 0; k < own; k++) {
    const a = argv[k]!;
    if (!a.includes(LOSSY)) continue;
    const r = raw[k]!;
    // A U+FFFD typed as such is valid UTF-8; bytes that cannot be matched up are refused too.
    if (typeof r !== 'string' && isUtf8(r)) continue;
    const shown = typeof r === 'string' ? display(Buffer.from(a, 'utf8').toString('latin1')) : display(r.toString('latin1'));
    const prev = argv[k - 1];
    const what = /^-[^=]*=/.test(a) || k === 0 || !prev?.startsWith('-') ? shown : `${prev} ${shown}`;
    throw new SbxError(`${what}: not valid UTF-8, which sbx's own options and operands must be (the command's arguments may be any bytes); nothing was done`,
      125, 'rename it, or give a parent directory whose path is UTF-8');
  }
}
