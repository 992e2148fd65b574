// The stdin relay (native/relay.c): 100 MB piped into a command in a throwaway sandbox, beside
// the same command reading the same file itself in the same kind of sandbox (no relay). A
// piped stdin is passed on with tee(2) into the command's pipe and taken from the real pipe
// only as the command reads, so nothing it leaves unread is lost; this row is what that costs
// a stream the command reads whole.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SBX, inTurns, row, runAlone, timeVs } from './_lib.mjs';

const MB = 100;

export async function rows() {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-bench-stdio-'));
  const store = mkdtempSync(join(tmpdir(), 'sbx-bench-stdio-store-'));
  try {
    const file = join(dir, 'data');
    writeFileSync(file, randomBytes(MB << 20));
    const env = { SBX_HOME: store, NO_COLOR: '1', DATA: file, NODE: process.execPath, SBX_JS: SBX };
    const piped = ['sh', ['-c', 'cat "$DATA" | "$NODE" "$SBX_JS" run -n -q -- sha256sum > /dev/null']];
    const itself = ['sh', ['-c', '"$NODE" "$SBX_JS" run -n -q -- sha256sum "$DATA" > /dev/null']];
    const v = timeVs(itself, piped, { env, runs: 7 });
    return [
      row(`${MB} MB piped into \`sbx run -n -q -- sha256sum\` (the stdin relay, nothing read ahead)`, v?.b ?? null, 'sha256sum reading the file itself in the same sandbox', v?.a ?? null, { note: inTurns(v, 7) }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
  }
}

await runAlone(import.meta.url, rows);
