// Every (upper layer state × host state) pair, in the manner of try's TRYCASE: the change
// classifier labels each branch with the pairs it handles (`CASE(layer, host)` comments in
// sandbox-core/changes/classify.ts), this test fails when a pair has no label (a new entry
// type, a new layer state), and for each pair it can build here it runs the real classifier
// and commit planner and checks the change and the commit steps the table names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeFixture, whiteout, opaque, copyUp, setXattr } from './changes-fixture.js';
import { handleWords } from '../../sandbox-core/changes/pairing.js';
import { IS_ROOT, REPO } from '../helpers/sbx.js';
import { scanSandbox } from '../../sandbox-core/changes/scan.js';
import { makePlan, type StepKind } from '../../sandbox-core/commit/plan.js';
import { ENTRY_TYPES, type EntryType } from '../../sandbox-core/changes/types.js';
import { testUnless } from '../helpers/skip.js';
import { sensitiveContext, sensitiveRule } from '../../sandbox-core/changes/sensitive.js';

const LAYER_STATES = ['whiteout', 'opaque-dir', ...ENTRY_TYPES] as const;
const HOST_STATES = ['absent', ...ENTRY_TYPES] as const;
type LayerState = typeof LAYER_STATES[number];
type HostState = typeof HOST_STATES[number];

const typeOf = (l: LayerState): EntryType | null => (l === 'whiteout' ? null : l === 'opaque-dir' ? 'dir' : l);

/** The pairs the classifier's CASE labels name. */
function labelledPairs(): Set<string> {
  const text = readFileSync(join(REPO, 'sandbox-core/changes/classify.ts'), 'utf8');
  const out = new Set<string>();
  for (const m of text.matchAll(/CASE\(([^,()]+), ([^()]+?)\)/g)) {
    const layers = m[1] === '*' ? [...LAYER_STATES] : m[1]!.split('|');
    for (const l of layers) {
      assert.ok((LAYER_STATES as readonly string[]).includes(l), `CASE label names an unknown layer state '${l}'`);
      const hosts = m[2] === '*' ? HOST_STATES.filter((h) => h !== 'absent')
        : m[2] === '<another type>' ? ENTRY_TYPES.filter((t) => t !== typeOf(l as LayerState))
          : m[2]!.split('|');
      for (const h of hosts) {
        assert.ok((HOST_STATES as readonly string[]).includes(h), `CASE label names an unknown host state '${h}'`);
        out.add(`${l} × ${h}`);
      }
    }
  }
  return out;
}

/** The table: what each pair is (when the two sides differ) and the commit steps it takes. */
function expected(l: LayerState, h: HostState): { change: string | null; steps: StepKind[] } {
  if (l === 'whiteout') return h === 'absent' ? { change: null, steps: [] } : { change: 'deleted', steps: ['delete'] };
  const t = typeOf(l)!;
  const build: StepKind[] = t === 'dir' ? ['mkdir', 'dirmeta'] : ['put'];
  if (h === 'absent') return { change: 'added', steps: build };
  if (h !== t) return { change: 'replaced', steps: build };
  if (l === 'opaque-dir') return { change: 'replaced', steps: ['dirmeta'] };
  // Same type: content where there is one, else only metadata can differ.
  return t === 'dir' || t === 'fifo' || t === 'socket' ? { change: 'metadata', steps: [t === 'dir' ? 'dirmeta' : 'meta'] } : { change: 'modified', steps: ['put'] };
}

test('every layer state × host state pair is named by a CASE label in the classifier', () => {
  const named = labelledPairs();
  const missing: string[] = [];
  for (const l of LAYER_STATES) for (const h of HOST_STATES) if (!named.has(`${l} × ${h}`)) missing.push(`${l} × ${h}`);
  assert.equal(missing, []);
  // And the table answers every pair.
  for (const l of LAYER_STATES) for (const h of HOST_STATES) assert.type(expected(l, h).steps, 'object');
});

/** What this test can make as an ordinary user (sockets and device nodes: labels only). */
const BUILDABLE_LAYER: LayerState[] = ['whiteout', 'opaque-dir', 'file', 'dir', 'symlink', 'fifo'];
const BUILDABLE_HOST: HostState[] = ['absent', 'file', 'dir', 'symlink', 'fifo'];

function mkfifo(p: string, mode = 0o644): void {
  assert.is(spawnSync('mkfifo', ['-m', mode.toString(8), p]).status, 0, `mkfifo ${p}`);
}

function makeHost(p: string, h: HostState): void {
  switch (h) {
    case 'absent': return;
    case 'file': writeFileSync(p, 'host\n'); return;
    case 'dir': mkdirSync(p, { mode: 0o755 }); chmodSync(p, 0o755); writeFileSync(join(p, 'c'), 'child\n'); return;
    case 'symlink': symlinkSync('host-target', p); return;
    case 'fifo': mkfifo(p); return;
    default: throw new Error(`cannot build host ${h}`);
  }
}

/** The layer's side, differing from the host where both have the same type. */
function makeLayer(p: string, l: LayerState, h: HostState, hostPath: string): void {
  switch (l) {
    case 'whiteout': whiteout(p); return;
    case 'opaque-dir': mkdirSync(p); opaque(p); return;
    case 'file': if (h === 'file') copyUp(hostPath, p); writeFileSync(p, 'layer, longer\n'); return;
    case 'dir': mkdirSync(p); chmodSync(p, h === 'dir' ? 0o700 : 0o755); return;
    case 'symlink': symlinkSync('layer-target', p); return;
    case 'fifo': mkfifo(p, h === 'fifo' ? 0o600 : 0o644); return;
    default: throw new Error(`cannot build layer ${l}`);
  }
}

test('the classifier and the commit planner give each buildable pair the table\'s change and steps', () => {
  const f = makeFixture();
  try {
    const names = new Map<string, [LayerState, HostState]>();
    for (const l of BUILDABLE_LAYER) {
      for (const h of BUILDABLE_HOST) {
        const n = `${l}-${h}`;
        names.set(n, [l, h]);
        makeHost(join(f.host, n), h);
        makeLayer(join(f.upper(), n), l, h, join(f.host, n));
      }
    }
    const { changes, errors } = scanSandbox(f.meta);
    assert.equal(errors, []);
    const plan = makePlan(changes, { createdMs: f.meta.createdMs, force: true });
    const got: Record<string, string> = {};
    const want: Record<string, string> = {};
    for (const [n, [l, h]] of names) {
      const path = Buffer.from(join(f.host, n)).toString('latin1');
      const c = changes.find((x) => x.path === path);
      const steps = plan.steps.filter((s) => s.change.path === path).map((s) => s.kind);
      got[n] = `${c?.change ?? 'none'} [${steps.join(',')}]`;
      const e = expected(l, h);
      want[n] = `${e.change ?? 'none'} [${e.steps.join(',')}]`;
    }
    assert.equal(got, want);
    assert.equal(plan.skipped, []);
  } finally {
    f.cleanup();
  }
});

test('same type on both sides and nothing changed (a plain copy-up) is no change at all', () => {
  const f = makeFixture();
  try {
    for (const t of ['file', 'dir', 'symlink', 'fifo'] as const) {
      makeHost(join(f.host, t), t);
      copyUp(join(f.host, t), join(f.upper(), t));
    }
    const { changes, errors } = scanSandbox(f.meta);
    assert.equal(errors, []);
    assert.equal(changes.map((c) => c.path), []);
  } finally {
    f.cleanup();
  }
});

test('a copy-up the host no longer has (origin mark) reads as gone from the host, a moved one does not', () => {
  // Marks as the overlays write them: kernel overlayfs the lower inode's handle (struct ovl_fb:
  // version 0, magic 0xfb, length, flags, type, uuid, then ext4's (ino, generation)) or an
  // empty value in a user namespace; fuse-overlayfs the lower path, relative, NUL-ended.
  const handle = (ino: number): Buffer => {
    const b = Buffer.alloc(29);
    b[1] = 0xfb; b[2] = 29; b[4] = 1;
    b.writeUInt32LE(ino, 21); b.writeUInt32LE(0xbb9f5a0f, 25);
    return b;
  };
  assert.equal(handleWords(handle(1458367)), [1458367, 0xbb9f5a0f]);
  assert.is(handleWords(Buffer.alloc(0)), null);
  assert.is(handleWords(Buffer.from('not a handle at all, not at all')), null);
  const gone = (build: (f: ReturnType<typeof makeFixture>) => void): string[] => {
    const f = makeFixture();
    try {
      build(f);
      const { changes, errors } = scanSandbox(f.meta);
      assert.equal(errors, []);
      return changes.filter((c) => c.hostGone).map((c) => c.path.slice(f.host.length + 1)).sort();
    } finally { f.cleanup(); }
  };
  // Kernel handles: `a` names an inode the host has under no listed name (deleted there), `b2`
  // the inode of `b`, which the sandbox deleted (moved); a file with no mark was made inside.
  assert.equal(gone((f) => {
    writeFileSync(join(f.host, 'b'), 'b\n');
    writeFileSync(join(f.upper(), 'a'), 'a\n'); setXattr(join(f.upper(), 'a'), 'user.overlay.origin', handle(0x7ffffff0));
    whiteout(join(f.upper(), 'b'));
    writeFileSync(join(f.upper(), 'b2'), 'b\n'); setXattr(join(f.upper(), 'b2'), 'user.overlay.origin', handle(statSync(join(f.host, 'b')).ino));
    writeFileSync(join(f.upper(), 'new'), 'n\n');
  }), ['a']);
  // Empty marks: judged only in a layer where nothing could have been moved from.
  assert.equal(gone((f) => {
    writeFileSync(join(f.host, 'kept'), 'k\n');
    copyUp(join(f.host, 'kept'), join(f.upper(), 'kept'));
    writeFileSync(join(f.upper(), 'kept'), 'changed\n');
    setXattr(join(f.upper(), 'kept'), 'user.overlay.origin', Buffer.alloc(0));
    writeFileSync(join(f.upper(), 'a'), 'a\n'); setXattr(join(f.upper(), 'a'), 'user.overlay.origin', Buffer.alloc(0));
  }), ['a']);
  assert.equal(gone((f) => {
    writeFileSync(join(f.host, 'b'), 'b\n');
    writeFileSync(join(f.upper(), 'a'), 'a\n'); setXattr(join(f.upper(), 'a'), 'user.overlay.origin', Buffer.alloc(0));
    whiteout(join(f.upper(), 'b'));
  }), []);
  // fuse-overlayfs: its own path (the host deleted it) or another (moved from there).
  assert.equal(gone((f) => {
    const up = f.addLayer(join(f.host, 'fz'), 'fuse');
    mkdirSync(join(f.host, 'fz'));
    writeFileSync(join(up, 'a'), 'a\n'); setXattr(join(up, 'a'), 'user.fuseoverlayfs.origin', 'a\0');
    writeFileSync(join(up, 'b2'), 'b\n'); setXattr(join(up, 'b2'), 'user.fuseoverlayfs.origin', 'b\0');
  }), ['fz/a']);
  // A shared daemon's lower is `/`: its marks are paths from there.
  assert.equal(gone((f) => {
    const t = join(f.host, 'sh');
    mkdirSync(t);
    const up = join(f.meta.layersDir, 'L9', 'upper', t);
    mkdirSync(up, { recursive: true });
    mkdirSync(join(f.meta.layersDir, 'L9', 'work'));
    f.meta.layers.push({ target: t, dir: 'L9', format: 'fuse', shared: true });
    f.save();
    writeFileSync(join(up, 'a'), 'a\n'); setXattr(join(up, 'a'), 'user.fuseoverlayfs.origin', `${t.slice(1)}/a\0`);
    writeFileSync(join(up, 'b2'), 'b\n'); setXattr(join(up, 'b2'), 'user.fuseoverlayfs.origin', `${t.slice(1)}/b\0`);
  }), ['sh/a']);
});

// other-owner on the entries the classifier calls replaced (another type over a host entry, an
// opaque dir), asked as for a modified one: where the owner changed. Until 2026-12-05 only
// added, modified and metadata entries were asked, so `rm /etc/x; mkdir /etc/x; chown 1000
// /etc/x` gave uid 1000 a dir in /etc unflagged. The layer's owners need chown: root only.
testUnless(IS_ROOT ? null : 'chown of layer entries to another uid needs root')('a replaced entry given to another user is flagged other-owner like a modified one', () => {
  const f = makeFixture();
  try {
    const h = (n: string): string => join(f.host, n), u = (n: string): string => join(f.upper(), n);
    // Host file → dir of uid 1000; host dir → opaque dir of uid 1000 (hiding a child, and
    // hiding nothing: then only metadata); host file → fifo of group 1002 it may write.
    writeFileSync(h('file-dir'), 'host\n'); mkdirSync(u('file-dir')); chownSync(u('file-dir'), 1000, 1000);
    mkdirSync(h('opaque')); writeFileSync(join(h('opaque'), 'c'), 'x\n'); mkdirSync(u('opaque')); opaque(u('opaque')); chownSync(u('opaque'), 1000, 1000);
    mkdirSync(h('opaque-empty')); mkdirSync(u('opaque-empty')); opaque(u('opaque-empty')); chownSync(u('opaque-empty'), 1000, 1000);
    writeFileSync(h('file-fifo'), 'host\n'); mkfifo(u('file-fifo'), 0o664); chownSync(u('file-fifo'), 0, 1002);
    // Not given away: the host entry's owner kept, root's, a group that may not write, a symlink.
    writeFileSync(h('same-owner'), 'host\n'); chownSync(h('same-owner'), 1000, 1000); mkdirSync(u('same-owner')); chownSync(u('same-owner'), 1000, 1000);
    writeFileSync(h('root-dir'), 'host\n'); mkdirSync(u('root-dir'));
    writeFileSync(h('group-ro'), 'host\n'); mkdirSync(u('group-ro'), 0o755); chownSync(u('group-ro'), 0, 1002);
    mkdirSync(h('dir-link')); symlinkSync('/tmp', u('dir-link')); spawnSync('chown', ['-h', '1000:1000', u('dir-link')]);
    const { changes, errors } = scanSandbox(f.meta);
    assert.equal(errors, []);
    const ctx = sensitiveContext({ PATH: '/usr/bin', HOME: '/root' });
    const got: Record<string, string> = {};
    for (const c of changes) {
      const n = Buffer.from(c.path, 'latin1').toString().slice(f.host.length + 1);
      if (n.includes('/')) continue;
      got[n] = `${c.change} ${c.givenAway ? 'given' : '-'} ${sensitiveRule(c, ctx)?.id ?? '-'}${c.givenAway && !c.details?.some((d) => d.includes('1000') || d.includes('1002')) ? ' (owner not named)' : ''}`;
    }
    assert.equal(got, {
      'file-dir': 'replaced given other-owner', opaque: 'replaced given other-owner', 'opaque-empty': 'metadata given other-owner', 'file-fifo': 'replaced given other-owner',
      'same-owner': 'replaced - -', 'root-dir': 'replaced - -', 'group-ro': 'replaced - -', 'dir-link': 'replaced - dir-symlink',
    });
  } finally {
    f.cleanup();
  }
});

test('copies of host files are looked for only in a scan that asks (ScanOptions.copies: a review, sbx diff), never in a commit\'s', () => {
  const f = makeFixture();
  try {
    writeFileSync(join(f.host, 'fstab'), 'UUID=1 /\n');
    writeFileSync(join(f.upper(), 'fstab.bak'), 'UUID=1 /\n');
    const bak = Buffer.from(join(f.host, 'fstab.bak')).toString('latin1');
    const plain = scanSandbox(f.meta);
    assert.equal(plain.errors, []);
    assert.is(plain.changes.find((c) => c.path === bak)?.copyOf, undefined);
    const read = scanSandbox(f.meta, { copies: true });
    assert.is(read.changes.find((c) => c.path === bak)?.copyOf, Buffer.from(join(f.host, 'fstab')).toString('latin1'));
  } finally {
    f.cleanup();
  }
});

test.run();
