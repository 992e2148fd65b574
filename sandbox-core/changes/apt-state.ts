// apt's and dpkg's records of what a later apt run does with the host's installed packages, as
// a review reads them. Every apt run rewrites them, so they are ordinary changes, but two kinds
// of entry act on packages the host already has, with no file of those packages changed (tried
// in a sandbox: the review listed a plain `modified:` for each):
// - apt's auto-installed mark (/var/lib/apt/extended_states): the next `apt autoremove`
//   removes a package so marked that nothing depends on (`apt-mark auto openssh-server`);
// - dpkg's selection (the first word of a package's Status in /var/lib/dpkg/status): `hold`
//   keeps apt from upgrading it, security fixes included (`apt-mark hold openssl`: apt-get
//   upgrade kept it back), `deinstall` and `purge` ask for its removal.
// An apt install marks the dependencies it brings as auto-installed and selects what it
// installs, which the host does not have: only an entry for a package installed on the host
// counts.
import { lstatB } from './stat.js';
import { layerAgainstHost, readWhole } from './content.js';

/** Far above any real record (a desktop's dpkg status: a few MB); a longer one is marked. */
export const MAX_APT_STATE = 64 << 20;

/** One stanza's fields that matter here (names lower-cased: apt and dpkg read them so). */
interface Entry { name: string; arch: string; status: string; auto: string }

/**
 * The stanzas of a deb822 file (blank-line separated, `Field: value`, continuation lines
 * starting with a space), with the fields an Entry holds; field names compared without case.
 */
export function entries(data: Buffer): Entry[] {
  const out: Entry[] = [];
  let e: Entry = { name: '', arch: '', status: '', auto: '' };
  const end = (): void => { if (e.name) out.push(e); e = { name: '', arch: '', status: '', auto: '' }; };
  for (const raw of data.toString('latin1').split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') { end(); continue; }
    if (line[0] === ' ' || line[0] === '\t') continue;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const value = line.slice(colon + 1).trim();
    switch (line.slice(0, colon).trim().toLowerCase()) {
      case 'package': e.name = value.toLowerCase(); break;
      case 'architecture': e.arch = value.toLowerCase(); break;
      case 'status': e.status = value.replace(/\s+/g, ' ').toLowerCase(); break;
      case 'auto-installed': e.auto = value; break;
    }
  }
  end();
  return out;
}

const keyOf = (e: Entry): string => `${e.name}:${e.arch}`;
/** A dpkg status whose third word says the package's files are on disk (not `not-installed`, not `config-files`). */
const onDisk = (status: string): boolean => {
  const state = status.split(' ')[2] ?? '';
  return state !== '' && state !== 'not-installed' && state !== 'config-files';
};
/** apt reads Auto-Installed as a number (strtol): any that is not 0 marks it. */
const isAuto = (v: string): boolean => { const n = Number.parseInt(v, 10); return !Number.isNaN(n) && n !== 0; };

/** Each package dpkg's status names as on disk: name → its architectures. */
export function installedOf(status: Buffer): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const e of entries(status)) {
    if (!onDisk(e.status)) continue;
    let s = out.get(e.name);
    if (!s) out.set(e.name, (s = new Set()));
    s.add(e.arch);
  }
  return out;
}

/**
 * Whether an extended_states the sandbox wrote (`now`; the host's `before`) marks no package
 * the host has installed (`installed`: installedOf the host's dpkg status) as auto-installed
 * that the host's did not. An entry without an architecture stands for any.
 */
export function autoMarksHarmless(now: Buffer, before: Buffer | null, installed: () => Map<string, Set<string>>): boolean {
  const was = new Set<string>();
  if (before) for (const e of entries(before)) if (isAuto(e.auto)) was.add(keyOf(e));
  for (const e of entries(now)) {
    if (!isAuto(e.auto) || was.has(keyOf(e))) continue;
    // An arch-less entry was the same one on the host if any of its arches was marked there.
    if (e.arch === '' && [...was].some((k) => k.startsWith(`${e.name}:`))) continue;
    // apt names an `Architecture: all` package by the native architecture.
    const arches = installed().get(e.name);
    if (arches && (e.arch === '' || arches.has(e.arch) || arches.has('all'))) return false;
  }
  return true;
}

/** Whether a dpkg status the sandbox wrote selects no package the host has (on disk there and here) other than the host did, for hold, deinstall or purge. */
export function selectionsHarmless(now: Buffer, before: Buffer | null): boolean {
  if (!before) return true;
  const want = new Map<string, string>();
  for (const e of entries(before)) if (onDisk(e.status)) want.set(keyOf(e), e.status.split(' ')[0]!);
  for (const e of entries(now)) {
    const w = e.status.split(' ')[0]!;
    if ((w === 'hold' || w === 'deinstall' || w === 'purge') && onDisk(e.status)) {
      const was = want.get(keyOf(e));
      if (was !== undefined && was !== w) return false;
    }
  }
  return true;
}

const DPKG_STATUS = '/var/lib/dpkg/status';
/** The host's dpkg status parsed once per version of it (a review asks for each extended_states only). */
let hostInstalled: { key: string; map: Map<string, Set<string>> } | null = null;
function hostPackages(): Map<string, Set<string>> {
  const st = lstatB(DPKG_STATUS);
  const key = st ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}` : '';
  if (hostInstalled?.key !== key) {
    const data = st ? readWhole(DPKG_STATUS, MAX_APT_STATE) : null;
    hostInstalled = { key, map: data ? installedOf(data) : new Map() };
  }
  return hostInstalled.map;
}

/** An extended_states the sandbox wrote (`upper`; host path `raw`), as autoMarksHarmless says, against the host's installed packages. */
export const extendedStatesHarmless = (upper: string, raw: string): boolean => layerAgainstHost(upper, raw, MAX_APT_STATE, (now, before) => autoMarksHarmless(now, before, hostPackages));
/** A dpkg status the sandbox wrote, as selectionsHarmless says. */
export const dpkgStatusHarmless = (upper: string, raw: string): boolean => layerAgainstHost(upper, raw, MAX_APT_STATE, selectionsHarmless);
