// The floor of a list printed by Node (bench/changes.mjs): Node starts, runs the helper's
// names-only scan of the layer (native/scan.c, flags 2|16) and writes its answer to stdout
// undecoded. What sbx adds beyond this is the decoding, the rules and the escaping.
// With `review` last, the scan the full review asks for instead (flag 8: every new file
// stat'ed, its xattrs listed and its text sent, up to 1 MiB each and 64 MiB in all, as
// cli/diff.ts and walk.ts ask; the helper walks with two threads for it, as for sbx): the
// floor of `sbx diff` of the same tree.
// node bench/_list-floor.mjs HELPER LAYERS_DIR UPPER_REL HOST_REL [review]
import { spawnSync } from 'node:child_process';
import { openSync, writeSync } from 'node:fs';

const [helper, layers, upper, host, mode] = process.argv.slice(2);
const words = mode === 'review' ? [8, 1 << 20, 64 * 2 ** 20] : [2 | 16];
const flags = Buffer.alloc(4 * words.length);
words.forEach((w, i) => flags.writeUInt32LE(w, 4 * i));
const input = Buffer.concat([Buffer.from(`${upper}\0${host}\0`), flags]);
const fds = [openSync(layers, 'r'), openSync('/', 'r')];
const r = spawnSync(helper, ['scan'], { input, maxBuffer: 2 ** 31 - 1, stdio: ['pipe', 'pipe', 'inherit', ...fds] });
if (r.status !== 0) process.exit(1);
for (let o = 0; o < r.stdout.length;) o += writeSync(1, r.stdout, o);
