// The floor of a list printed by Node (bench/changes.mjs): Node starts, runs the helper's
// names-only scan of the layer (native/scan.c, flags 2|16) and writes its answer to stdout
// undecoded. What sbx adds beyond this is the decoding, the rules and the escaping.
// node bench/list-floor.mjs HELPER LAYERS_DIR UPPER_REL HOST_REL
import { spawnSync } from 'node:child_process';
import { openSync, writeSync } from 'node:fs';

const [helper, layers, upper, host] = process.argv.slice(2);
const flags = Buffer.alloc(4);
flags.writeUInt32LE(2 | 16);
const input = Buffer.concat([Buffer.from(`${upper}\0${host}\0`), flags]);
const fds = [openSync(layers, 'r'), openSync('/', 'r')];
const r = spawnSync(helper, ['scan'], { input, maxBuffer: 2 ** 31 - 1, stdio: ['pipe', 'pipe', 'inherit', ...fds] });
if (r.status !== 0) process.exit(1);
for (let o = 0; o < r.stdout.length;) o += writeSync(1, r.stdout, o);
