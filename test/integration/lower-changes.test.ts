// A host directory that changes while a sandbox runs over it: what the command wrote there is
// still listed. As an ordinary user the system trees (/tmp here) are fuse-overlayfs layers, and
// fuse-overlayfs 1.10 fails a whole READDIRPLUS with ENOENT once the host removed an entry it
// had listed, which glibc's readdir takes for the end of the directory: `ls`, a glob, make saw
// no files at all (the "files that vanish" of full suites, whose other files make and remove
// dirs in /tmp all the time). As root the layers are kernel overlays: the same case, run too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeStore, removeStore, sbxAsync } from '../helpers/sbx.js';

const store = makeStore();
// In the system tree /tmp, not in $HOME or the cwd (the user's own trees are kernel overlays).
const dir = mkdtempSync(join(tmpdir(), 'sbx-lower-changes-'));
test.after(() => {
  rmSync(dir, { recursive: true, force: true });
  removeStore(store);
});

test('a listing inside still shows what the command wrote after the host removed an entry the sandbox had listed', async () => {
  // step1: the host adds `x`; the command's own `a` comes and goes, so the layer reads the
  // directory again at the next listing, x in it; step2: the host removes x; then the listing.
  const script = [
    `cd '${dir}' || exit 9`, 'echo mine > mine', 'echo step1', 'read _ || exit 8',
    'touch a && rm a && ls >/dev/null', 'echo step2', 'read _ || exit 8', 'touch mine2', 'ls',
  ].join('\n');
  const child = sbxAsync(['run', '-n', '-q', '--', 'sh', '-c', script], { store, cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const waiters: Array<[string, () => void]> = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) if (out.includes(w[0])) w[1](); else waiters.push(w);
  });
  const exited = once(child, 'exit');
  const until = (line: string): Promise<void> => new Promise<void>((resolve, reject) => {
    if (out.includes(line)) return resolve();
    waiters.push([line, resolve]);
    void exited.then(() => reject(new Error(`the run ended before '${line}': ${out}${err}`)));
  });
  try {
    await until('step1\n');
    writeFileSync(join(dir, 'x'), 'host\n');
    child.stdin!.write('\n');
    await until('step2\n');
    rmSync(join(dir, 'x'));
    child.stdin!.end('\n');
    const [code] = await exited;
    assert.is(code, 0, err);
    // The command's own files are listed. Since 2026-12-03 the daemon under /tmp is read-only
    // (a kernel overlay over it takes the writes) and lists a host dir as it first read it: the
    // host's x, removed since, may still be named (opening it fails with ENOENT), as a kernel
    // overlay's merged dir lists its lower.
    assert.equal(out.slice(out.indexOf('step2\n') + 6).split('\n').filter((l) => l && l !== 'x'), ['mine', 'mine2'], err);
  } finally {
    if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; }
  }
});

test.run();
