// sbx ls: saved sandboxes with name, command, age, size, change count and state.
import { Command, Option } from 'clipanion';
import { listedStores, sbxFor, type ListedStore, type Store } from '../sandbox-core/store.js';
import { scanSandboxes } from '../sandbox-core/changes/scan.js';
import { display, displayText } from '../sandbox-core/base/bpath.js';
import { humanBytes } from './progress.js';
import { stdoutColors } from './output.js';
import { textOut, type TextOut } from './stdout-text.js';
import { reportError } from './report-error.js';
import { UserError } from '../sandbox-core/base/errors.js';
import { ELLIPSIS } from '../sandbox-core/base/charset.js';

/** How long ago `ms` was, in its largest whole unit (45s, 3m, 5h, 2d). */
export function age(ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export class LsCommand extends Command {
  static override paths = [['ls']];
  static override usage = Command.Usage({
    description: 'list saved sandboxes',
    details: 'Shows each saved sandbox: id, name, state, age, disk size of its layers, number of changes, and the command. The change count comes from a scan of each sandbox (? when part of its layers could not be read: sbx diff ID says which). An entry that cannot be used (left by a failed run, or tampered with) is shown as broken with the reason; sbx discard ID removes it. A sandbox whose command was running when the machine stopped is shown as interrupted: its layers may miss writes made before that. Under sudo (without SBX_HOME) it lists the store of the user who ran sudo, as sbx diff, commit and discard find it, then root\'s own store when it holds any, each named. A store sbx refuses (not that user\'s, on another mount namespace) is said in one line after the others are listed, and the exit status is 125.',
    examples: [['List', 'sbx ls'], ['As JSON', 'sbx ls --json']],
  });

  json = Option.Boolean('--json', false, { description: 'Print JSON' });

  override async execute(): Promise<number> {
    // Under sudo: the invoking user's store (where discard, commit and diff look), then root's.
    const stores = listedStores();
    const sections: Array<{ listed: ListedStore; rows: Row[] }> = [];
    const { refused } = await eachStore(stores, async (listed) => { sections.push({ listed, rows: await rowsOf(listed.store) }); });
    const out = textOut(this.context);
    if (this.json) { out.write(JSON.stringify(sections.flatMap((s) => s.rows), null, 2) + '\n'); return refusedStatus(refused); }
    for (const { listed: { store, whose }, rows } of sections) {
      // Root's own store is named only when it has something: the user's is the one asked about.
      if (whose === 'root' && !rows.length && !refused.length) continue;
      const where = storeLabel({ store, whose });
      if (whose !== null && rows.length) out.write(`sandboxes${where}:\n`);
      if (!rows.length) { out.write(`no saved sandboxes${where}\n`); continue; }
      writeTable(out, rows, sbxFor(store));
    }
    return refusedStatus(refused);
  }
}

/**
 * Runs `act` on each store. Under sudo one refused store (the user's not theirs, on another
 * mount namespace) must not hide the other: a refusal is kept, the rest still acted on; with a
 * single store it ends the command as before. Returns the stores acted on and the refusals.
 */
export async function eachStore(stores: ListedStore[], act: (l: ListedStore) => void | Promise<void>): Promise<{ acted: ListedStore[]; refused: UserError[] }> {
  const acted: ListedStore[] = [];
  const refused: UserError[] = [];
  for (const listed of stores) {
    try { await act(listed); acted.push(listed); } catch (e) {
      if (!(e instanceof UserError) || stores.length === 1) throw e;
      refused.push(e);
    }
  }
  return { acted, refused };
}

/** Says each refusal (after what could be listed) and returns the exit status: 125 if any. */
export function refusedStatus(refused: UserError[]): number {
  let status = 0;
  for (const e of refused) status = reportError(e);
  return status;
}

/** How a store is named under sudo (' of USER (PATH)'); nothing for the only one. */
export function storeLabel(l: ListedStore): string {
  return l.whose === null ? '' : ` of ${displayText(l.whose)} (${display(l.store.root)})`;
}

export interface Row {
  id: string; name: string | null; state: string; created: string | null; command: string[]; size: number; changes: number | null;
  exitStatus: number | null | undefined; problem: string | null; store: string;
}

/** Past this many bytes of scan answer (~2,000 entries) a sandbox is scanned on its own (rowsOf). */
const LIST_WHOLE_MAX = 256 << 10;

/** `store`'s entries as `sbx ls` shows them, each scanned for its size and change count. */
async function rowsOf(store: Store): Promise<Row[]> {
  const entries = store.entries();
  // The scan walks every layer fd-relative at any depth; it also counts what they hold. The
  // plain new files stay columns (as in sbx diff): only counted, no object each (a sandbox
  // of 200k new files: 2.0 -> 1.7 s, 188 -> 93 MB).
  const metas = entries.flatMap((e) => (e.meta ? [e.meta] : []));
  // All in one start of the helper (~5 ms each saved); one whose answer passes the bound is
  // scanned again alone, decoded while the helper walks.
  const scans = await scanSandboxes(metas, { fewXattrs: true, columns: true }, LIST_WHOLE_MAX);
  const rows: Row[] = [];
  for (const { id, meta: m, problem } of entries) {
    // A leftover of a failed run or a tampered entry: listed so 'sbx discard ID' can remove it.
    if (!m) { rows.push({ id, name: null, state: 'broken', created: null, command: [], size: 0, changes: null, exitStatus: null, problem, store: store.root }); continue; }
    const s = scans[metas.indexOf(m)];
    // A part of the layers the scan could not read (a layer dir swapped for a symlink, a dir
    // nobody may list), or layers it could not start on, leave the count unknown: '?', as
    // 'sbx diff ID' says why.
    const scanned = s && !(s instanceof Error) ? s : null;
    const changes = scanned && !scanned.errors.length ? scanned.changes.length + (scanned.named?.length ?? 0) : null;
    rows.push({ id: m.id, name: m.name, state: m.interrupted ? 'interrupted' : m.state, created: m.created, command: m.command, size: scanned?.layerBytes ?? 0, changes, exitStatus: m.exitStatus, problem: null, store: store.root });
  }
  return rows;
}

/** `sbx`: how the user runs sbx on these rows' store (sbxFor), for a broken row's hint. */
export function writeTable(out: TextOut, rows: Row[], sbx: string): void {
  const col = stdoutColors;
  const table = [['ID', 'NAME', 'STATE', 'AGE', 'SIZE', 'CHANGES', 'COMMAND']].concat(rows.map((r) => [
    displayText(r.id), r.name === undefined || r.name === null ? '-' : displayText(r.name), displayText(String(r.state)), r.created ? age(Date.parse(r.created)) : '-', humanBytes(r.size), r.changes === null ? '?' : String(r.changes),
    r.problem ? displayText(`(${r.problem}; ${sbx} discard ${r.id} removes it)`) : displayText(r.command.join(' ')),
  ]));
  const w = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  // The command gets what is left of the terminal's width (80 columns when not a terminal).
  const room = Math.max(20, (out.columns || 80) - w.slice(0, -1).reduce((a, b) => a + b + 2, 0));
  // A broken entry's reason is shown whole (escaped, one line): cut, it said neither what was
  // wrong nor where to read the rest; a command is cut, its sandbox's meta.json holds it all.
  table.forEach((row, k) => {
    if (k > 0 && rows[k - 1]!.problem) return;
    if (row[row.length - 1]!.length > room) row[row.length - 1] = `${row[row.length - 1]!.slice(0, room - ELLIPSIS.length)}${ELLIPSIS}`;
  });
  table.forEach((row, k) => {
    const line = row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(w[i]!))).join('  ');
    out.write((k === 0 ? col.bold(line) : line) + '\n');
  });
}
