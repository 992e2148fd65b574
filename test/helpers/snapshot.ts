// A canary tree's state, read without following anything: used to prove that a command did
// not change a single host path outside the store.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One line per entry: path, type, mode, owner, size, device, and the content of small files. */
export function snapshot(root: string): string[] {
  const out: string[] = [];
  const stack = [''];
  while (stack.length) {
    const rel = stack.pop()!;
    const p = rel ? join(root, rel) : root;
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : st.isCharacterDevice() ? 'c' : st.isFIFO() ? 'p' : 'o';
    let extra = '';
    if (st.isFile() && st.size <= 4096) { try { extra = readFileSync(p, 'latin1'); } catch { extra = '?'; } }
    out.push(`${rel || '.'} ${type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.rdev} ${JSON.stringify(extra)}`);
    if (st.isDirectory()) {
      let names: string[] = [];
      try { names = readdirSync(p); } catch { /* unreadable: its line above says so */ }
      for (const n of names) stack.push(rel ? join(rel, n) : n);
    }
  }
  return out.sort();
}
