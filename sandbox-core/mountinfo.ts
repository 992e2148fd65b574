// Parses /proc/self/mountinfo (proc(5)) and finds which mounts are actually visible.

export interface MountEntry {
  id: number;
  parentId: number;
  dev: string;
  /** Root of the mount within its filesystem (a bind mount of a subdirectory has a non-/ root). */
  root: string;
  mountPoint: string;
  options: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
export function unescapeMountPath(s: string): string {
  // Most fields have no escape: skip the regex call (three fields per mount, every run).
  if (!s.includes('\\')) return s;
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (sep < 0 || fields.length < sep + 3) throw new Error(`malformed mountinfo line: ${line}`);
    out.push({
      id: Number(fields[0]),
      parentId: Number(fields[1]),
      dev: fields[2]!,
      root: unescapeMountPath(fields[3]!),
      mountPoint: unescapeMountPath(fields[4]!),
      options: fields[5]!.split(','),
      fsType: fields[sep + 1]!,
      source: unescapeMountPath(fields[sep + 2]!),
      superOptions: (fields[sep + 3] ?? '').split(',').filter(Boolean),
    });
  }
  return out;
}

function parentPath(p: string): string {
  if (p === '/') return '/';
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/**
 * The mounts a process actually sees: for each mount point only the topmost mount, and only
 * mounts whose parent is itself visible (a mount hidden under a later mount on an ancestor
 * path is not reachable).
 */
export function visibleMounts(entries: MountEntry[]): MountEntry[] {
  const byId = new Map(entries.map((e) => [e.id, e]));
  // Topmost at each path: the last mount at that path whose parent is not at the same path
  // chain — i.e. no other mount at the same path has it as parent.
  const coveredIds = new Set<number>();
  for (const e of entries) {
    const parent = byId.get(e.parentId);
    if (parent && parent.mountPoint === e.mountPoint) coveredIds.add(parent.id);
  }
  const topAt = new Map<string, MountEntry>();
  for (const e of entries) if (!coveredIds.has(e.id)) topAt.set(e.mountPoint, e);
  const visible = new Set<number>();
  const rootMount = topAt.get('/');
  if (!rootMount) return [];
  visible.add(rootMount.id);
  const depth = (m: MountEntry): number => (m.mountPoint.match(/\//g) ?? []).length;
  const sorted = [...topAt.values()].map((m) => [depth(m), m] as const).sort((a, b) => a[0] - b[0]).map(([, m]) => m);
  const result: MountEntry[] = [rootMount];
  for (const e of sorted) {
    if (e === rootMount) continue;
    // The mount that covers e's parent directory: the deepest visible mount point that is a prefix.
    let p = parentPath(e.mountPoint);
    let covering: MountEntry | undefined;
    for (;;) {
      const m = topAt.get(p);
      if (m && visible.has(m.id)) { covering = m; break; }
      if (p === '/') break;
      p = parentPath(p);
    }
    // Walk the parent chain of e down to a mount at the same path: e hangs off `covering`
    // directly, or off a mount stacked below e at the same path that in turn hangs off it.
    let parent = byId.get(e.parentId);
    while (parent && parent.mountPoint === e.mountPoint) parent = byId.get(parent.parentId);
    if (covering && parent && parent.id === covering.id) {
      visible.add(e.id);
      result.push(e);
    }
  }
  return result;
}

/** Filesystems that are kernel interfaces, not data: never overlaid. */
export const PSEUDO_FS = new Set([
  'proc', 'sysfs', 'devtmpfs', 'devpts', 'cgroup', 'cgroup2', 'mqueue', 'securityfs', 'debugfs',
  'tracefs', 'pstore', 'bpf', 'configfs', 'fusectl', 'binfmt_misc', 'hugetlbfs', 'efivarfs',
  'autofs', 'nsfs', 'rpc_pipefs', 'selinuxfs', 'nfsd',
]);
