// sbx prune: remove saved sandboxes, all of them or those older than a duration. A sandbox
// only holds copies (the host is untouched), but it may hold work someone meant to review,
// so on a terminal sbx asks first (-f skips the question), as `docker container prune` does.
import { Command, Option, UsageError } from 'clipanion';
import { createInterface } from 'node:readline/promises';
import { listedStores, sbxFor, scratchPath, type Store, type StoreEntry } from '../sandbox-core/store.js';
import { Dir } from '../sandbox-core/beneath.js';
import { scanSandbox } from '../sandbox-core/changes/scan.js';
import { parseDuration } from '../sandbox-core/units.js';
import { displayText } from '../sandbox-core/base/bpath.js';
import { SbxError } from '../sandbox-core/base/errors.js';
import { humanBytes } from './progress.js';
import { info, line } from './output.js';
import { age, eachStore, refusedStatus, storeLabel } from './ls.js';
import { liveHolder } from '../sandbox-core/commit/journal.js';
import { removerIfBig } from '../sandbox-core/commit/remover.js';

interface Candidate { entry: StoreEntry; bytes: number | null; store: Store }

/** When an entry was made: its meta's start time, or (broken) its directory's mtime. */
function createdOf(store: Store, e: StoreEntry): number {
  if (e.meta) return e.meta.createdMs;
  try {
    const root = Dir.open(store.root);
    try { return root.lstat(e.id)?.mtimeMs ?? Date.now(); } finally { root.close(); }
  } catch {
    return Date.now();
  }
}

export class PruneCommand extends Command {
  static override paths = [['prune']];
  static override usage = Command.Usage({
    description: 'remove saved sandboxes (all, or those older than a duration)',
    details: `
      Removes every saved sandbox, or with \`--older-than\` those started longer ago than DURATION (\`30m\`, \`12h\`, \`7d\`). Broken entries (shown as broken by \`sbx ls\`) go as \`sbx discard\` removes them, aged by their directory's time. A sandbox whose command still runs, and one with an interrupted commit (\`sbx commit ID\` finishes it), are left alone. On a terminal sbx lists what it would remove and asks; \`-f\` skips the question, and without a terminal \`-f\` is required. \`--dry-run\` only lists. Under sudo (without \`SBX_HOME\`) it acts on the store of the user who ran sudo, where \`sbx diff\`, \`commit\` and \`discard\` find their sandboxes, and on root's own store, naming each. Trees of throwaway runs whose store is gone (in \`/dev/shm/sbx-<uid>\`) go too. A sandbox of 2,000 files or more is deleted by a detached process: its disk space comes back moments after sbx returns.
    `,
    examples: [
      ['See what would go', 'sbx prune --dry-run'],
      ['Remove sandboxes older than a week', 'sbx prune --older-than 7d -f'],
    ],
  });

  olderThan = Option.String('--older-than', { description: 'Only sandboxes started longer ago than DURATION (30m, 12h, 7d)' });
  dryRun = Option.Boolean('--dry-run', false, { description: 'List what would be removed, remove nothing' });
  force = Option.Boolean('-f,--force', false, { description: 'Do not ask' });

  override async execute(): Promise<number> {
    let minAgeMs = 0;
    if (this.olderThan !== undefined) {
      try { minAgeMs = parseDuration(this.olderThan); } catch {
        throw new UsageError(`--older-than ${displayText(this.olderThan)}: expected a duration such as 30m, 12h or 7d`);
      }
    }
    const now = Date.now();
    const take: Candidate[] = [];
    let newer = 0;
    // Under sudo: the invoking user's store (where discard, commit and diff look), then root's.
    const stores = listedStores();
    const { acted, refused } = await eachStore(stores, (listed) => {
      const { store } = listed;
      let named = listed.whose === null;
      const say = (msg: string): void => {
        if (!named) { line(`sandboxes${storeLabel(listed)}:`); named = true; }
        line(msg);
      };
      for (const e of store.entries()) {
        const state = e.meta?.state;
        const ref = displayText(e.meta?.name ?? e.id);
        if (state === 'running') { say(`  skipped ${ref}: its command is still running`); continue; }
        if (state === 'committing') { say(`  skipped ${ref}: an interrupted commit ('${sbxFor(store)} commit ${e.id}' finishes it)`); continue; }
        // A commit still scanning and planning holds its lock before it marks the sandbox; a
        // run's review waiting for its answer holds it with the sandbox marked saved.
        const holder = liveHolder(store, e.id);
        if (holder !== null) { say(`  skipped ${ref}: ${holder.use === 'run' ? 'a run in it or its review is still going' : 'it is being committed'}`); continue; }
        const createdMs = createdOf(store, e);
        if (now - createdMs < minAgeMs) { newer++; continue; }
        let bytes: number | null = null;
        if (e.meta) { try { bytes = scanSandbox(e.meta).layerBytes ?? null; } catch { /* unreadable layers: size unknown */ } }
        const what = e.meta ? displayText(e.meta.name ? `${e.id} ${e.meta.name}` : e.id) : `${e.id} (broken: ${displayText(e.problem ?? '')})`;
        say(`  ${what}, ${age(createdMs)} old${bytes !== null ? `, ${humanBytes(bytes)}` : ''}`);
        take.push({ entry: e, bytes, store });
      }
    });
    // A refused store is said before anything is asked or removed; the rest is pruned.
    const status = refusedStatus(refused);
    const total = take.reduce((n, c) => n + (c.bytes ?? 0), 0);
    const kept = newer ? `; ${newer} newer than ${this.olderThan} kept` : '';
    // Trees a killed prune, discard or background remover left half removed, of sandboxes
    // already gone from every listing: removed without asking.
    const swept = this.dryRun ? 0 : acted.reduce((n, l) => n + l.store.sweepDeadClaims(), 0);
    if (swept) info(`removed ${swept} tree${swept === 1 ? '' : 's'} an interrupted removal left`);
    // Throwaway runs' trees in /dev/shm whose store is gone (a removed SBX_HOME): only memory.
    const uid = process.geteuid?.() ?? 0;
    const orphans = this.dryRun ? 0 : acted.find((l) => l.store.owner === uid)?.store.sweepOrphans() ?? 0;
    if (orphans) info(`removed ${orphans} throwaway run tree${orphans === 1 ? '' : 's'} of stores that are gone, from ${scratchPath(uid)}`);
    if (!take.length) { info(`nothing to prune${acted.map(storeLabel).filter(Boolean).map((w, i) => (i ? ` nor${w}` : ` in the store${w}`)).join('')}${kept}`); return status; }
    const n = `${take.length} sandbox${take.length === 1 ? '' : 'es'} (${humanBytes(total)})`;
    if (this.dryRun) { info(`would remove ${n}${kept}`); return status; }
    if (!this.force) {
      if (!process.stdin.isTTY || !process.stderr.isTTY) throw new SbxError(`not removing ${n} without asking`, 125, "pass -f to prune without a terminal");
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const a = (await rl.question(`remove ${n}? [y/N] `)).trim().toLowerCase();
      rl.close();
      if (a !== 'y' && a !== 'yes') { info('nothing removed'); return status; }
    }
    let gone = 0;
    let live = 0;
    for (const c of take) {
      // Asked again once removeId holds the entry: a run --in or a commit that began since the
      // list was made keeps its sandbox.
      // A big one goes to a detached remover, as `sbx discard` hands it on.
      const r = c.store.removeId(c.entry.id, (e, name) => e.meta?.state === 'running' || e.meta?.state === 'committing' || liveHolder(c.store, e.id, name) !== null, [], removerIfBig(c.store, c.entry.id));
      if (r === 'gone') gone++;
      if (r === 'live') { live++; line(`  kept ${displayText(c.entry.meta?.name ?? c.entry.id)}: it began to be used meanwhile`); }
    }
    // Another sbx (a second prune, a discard) removed some meanwhile: they are not ours to count.
    const removed = take.length - gone - live;
    const also = [gone ? `${gone} removed meanwhile by another sbx` : '', live ? `${live} kept in use` : ''].filter(Boolean).join('; ');
    info(also ? `removed ${removed} sandbox${removed === 1 ? '' : 'es'}; ${also}${kept}` : `removed ${n}${kept}`);
    return status;
  }
}
