// Changes that make code run later, outside the sandbox, or widen who can do so: sbx's own
// config and caches, shell startup files, ssh keys, autostart entries, git hooks and config,
// cron, systemd units, udev and modprobe rules, polkit, PAM, the dynamic loader, Python startup
// files, new programs and libraries where they get loaded, interpreters' library trees (Python,
// Perl, Ruby, Node.js, apt's methods), setuid bits, file capabilities,
// writable PATH dirs, world-writable entries, sbx's own installation. The review marks them so that a harmless-looking change list cannot hide
// a persistence foothold among hundreds of files. The rules are one table (SENSITIVE_RULES);
// the first match decides.
import { lstatSync, type Stats } from 'node:fs';
import type { Change } from './types.js';
import { nameB, parentB, toFs } from '../base/bpath.js';
import { fsAt, hostRootPath } from './fsat.js';
import { hostDirNames } from './host-tree.js';
import { filterParts, filterRegExp, neededText } from './literals.js';
import { harmlessExclude, harmlessGitConfig, readLayerFile } from './git-config.js';
import { layerAgainstHost, readWhole } from './content.js';
import { dpkgListHarmless } from './dpkg-list.js';
import { hostJobPrograms } from './host-jobs.js';
import { dpkgStatusHarmless, extendedStatesHarmless } from './apt-state.js';
import { hostLoaderConfDirs, ldCacheHarmless, MAX_LD_CACHE, moduleCacheHarmless, type ConfReader } from './ld-cache.js';
import { looseRefGoneRewrites, looseRefRewrites, packedRefsRewrite } from './git-history.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { userReview } from './owner.js';

type Subject = Pick<Change, 'path' | 'change' | 'type'> & Partial<Pick<Change, 'up' | 'xattrs' | 'upper' | 'details' | 'host' | 'givenAway' | 'aclGrant' | 'layerDir' | 'oldType'>>;

/**
 * What the rules' tests read of a change. Changes and the review's column entries are objects
 * of different shapes; the tests see this one object instead, so V8 compiles them once.
 */
export interface SensitiveFacts {
  change: Change['change'];
  type: Change['type'];
  /** The sandbox side's mode bits, or -1 when there is none. */
  perm: number;
  /** Whether it carries a security.capability xattr. */
  caps: boolean;
  /**
   * A metadata change that says who may run or write it: its mode, owner, ACL or xattrs
   * changed (not only its times). `chmod +x`, `chmod o+w` or `chown` of a command on PATH
   * changes no byte of it.
   */
  access?: boolean;
  /** A metadata change that gave it another owner or group. */
  owner?: boolean;
  /** A new entry a root commit would give to another user or group (Change.givenAway). */
  givenAway?: boolean;
  /** An ACL that grants another user or group access (Change.aclGrant). */
  aclGrant?: boolean;
  /** A host entry's mode change that gave others write (the host's mode lacked it). */
  opened?: boolean;
  /** The sandbox side's file in the upper layer (a byte string), when the caller has it. */
  upper?: string | undefined;
  /** The host path as a byte string (what `p` is the text of), for the rules that look on disk. */
  raw?: string;
  /** For a deletion: the layer's dir of its parent (Change.layerDir), when the caller has it. */
  layerDir?: string | undefined;
  /** For a replacement: what the host had there (Change.oldType). */
  oldType?: Change['type'] | undefined;
}

export interface SensitiveRule {
  /** Stable name (tests and docs refer to it). */
  id: string;
  /** What the review prints after `!`. */
  why: string;
  /** Path patterns (UTF-8 text of the host path); any match is enough. */
  paths?: RegExp[];
  /** For rules that depend on what the change does, not only where. */
  test?: (f: SensitiveFacts, p: string, ctx: SensitiveContext) => boolean;
  /**
   * For the few rules that look at what a file holds, or at what the change did: a match this
   * says yes to is none (the rules after it are asked). Asked only after the path matched;
   * reads the layer then.
   */
  harmless?: (f: SensitiveFacts, p: string) => boolean;
  /**
   * What its entries are called when the summary counts them (plural): the rule's flagged
   * entries of one kind and top-level tree are then one flagged line, not one each. Only for
   * a rule whose entries come by the dozen from ordinary work and whose diffs say nothing to
   * a reader (binary), so that a line each teaches users to answer yes unread; a rule whose
   * entries are each a different thing to read (a script, a changed command) has none. New
   * commands and libraries are counted too (MANY below), but for those named as one the host
   * has elsewhere (path-shadow, library-shadow), which are listed each.
   */
  many?: string;
}

// Tested only for the paths that end so (a test rule is asked of every path).
const GIT_HOOK = /\/\.git\/(modules\/.+\/)?hooks(\/|$)|\/\.config\/git\/hooks(\/|$)/;
const GIT_HOOKS_DIR = /\/hooks$/;
const GIT_SAMPLE = /\/hooks\/[^/]+\.sample$/;
const GIT_LINK = /\/\.git\/((modules\/.+|worktrees\/[^/]+)\/)?(commondir|objects\/info\/(http-)?alternates)$/;
// A repository's own config (not a submodule's: git init and clone write the top one) and info/exclude.
const REPO_CONFIG = /\/\.git\/config$/;
const REPO_EXCLUDE = /\/\.git\/info\/exclude$/;
// A path in a repository's git dir or a submodule's, as two patterns: the top one's text holds
// `/.git/`, which the path filter already has (one `(modules/.+/)?` pattern's longest text
// would be the tail, a filter text no path needs).
const inGitDirs = (tail: string): RegExp[] => [new RegExp(`\\/\\.git\\/${tail}`), new RegExp(`\\/\\.git\\/modules\\/.+\\/${tail}`)];
/** A loose ref the sandbox wrote (not deleted, not a dir) that git-history.ts says rewrites history. */
const refRewrites = (f: SensitiveFacts): boolean => writesEntry(f) && looseRefRewrites(f.raw ?? '', f.upper);
/**
 * A loose ref or a dir of them the sandbox deleted, or replaced by another kind of entry, that
 * uncovers a packed-refs line git-history.ts says rewrites history (the layer's packed-refs
 * read from beside it).
 */
const refGone = (f: SensitiveFacts): boolean => {
  if (f.change === 'deleted') return looseRefGoneRewrites(f.raw ?? '', f.layerDir, f.type === 'dir');
  if (f.change !== 'replaced') return false;
  // A file that became a dir: its packed line shows; a dir that became a file: those below it do.
  return looseRefGoneRewrites(f.raw ?? '', f.upper === undefined ? undefined : parentB(f.upper), f.type !== 'dir');
};
/** Whether the new content of a file a rule matched passes `ok` (read bounded from the layer, no symlink followed). */
const contentIs = (f: SensitiveFacts, ok: (data: Buffer, cut: boolean) => boolean, limit?: number): boolean => {
  if (f.type !== 'file' || !writes(f) || f.upper === undefined) return false;
  const r = readLayerFile(f.upper, limit);
  return r !== null && ok(r.data, r.cut);
};
// useradd -m copies the host's /etc/skel into the home it makes: a startup file there that is
// the skeleton's, byte for byte, runs what the host gives every new user (Debian's .bashrc,
// .profile and .bash_logout were three `!` lines beside the new home's own).
const MAX_SKEL = 1 << 20;
const skelCopy = (f: SensitiveFacts): boolean =>
  f.change === 'added' && f.type === 'file' && f.upper !== undefined && f.raw !== undefined && inDirNewToHost(f.raw) &&
  layerAgainstHost(f.upper, `/etc/skel/${nameB(f.raw)}`, MAX_SKEL, (now, skel) => skel !== null && now.equals(skel));
/** Whether the host has no dir where byte path `raw` is (the command made it: a new home, a new package's dir). */
const inDirNewToHost = (raw: string): boolean => lstatAt(parentB(raw)) === null;
/**
 * An image's or a --rootfs tree's conf files, which its maker chose (hostile input, as the
 * store is): read as the review reads that tree's other files, beneath it with no symlink
 * followed in any component (content.ts readWhole: a regular file of 64 KiB at most; a conf
 * file that is a link, as an alternatives entry can be, is not read), and its dirs listed as
 * the rules list its PATH and loader dirs (namesOnHost, once per dir).
 */
const MAX_LD_CONF = 64 << 10;
const BENEATH_CONF: ConfReader = {
  read(p) {
    try { return readWhole(p, MAX_LD_CONF)?.toString('latin1') ?? null; } catch { return null; }
  },
  list(d) {
    const names = namesOnHost(d);
    return names ? [...names] : null;
  },
};
/**
 * The ld.so.conf dirs of the tree the review compares with, read once per tree (ld-cache.ts):
 * this machine's, or an image's own (until 2026-12-07's s80 an image's review asked the
 * machine's, whose vendor dirs mean nothing in the image).
 */
const hostConfDirs = perHostRoot(() => (hostRootPath() === null ? hostLoaderConfDirs() : hostLoaderConfDirs('/etc/ld.so.conf', BENEATH_CONF)));
const ldCacheOk = (data: Buffer, cut: boolean): boolean => ldCacheHarmless(data, cut, (d) => LIB_DIR.test(d), hostConfDirs());
const moduleCacheOk = (data: Buffer, cut: boolean): boolean => moduleCacheHarmless(data, cut, inLibTree);
const MAX_BANNER = 64 << 10;
/** Text a terminal shows as it is: no C0 control but tab, newline and CR, no DEL, no C1 (as UTF-8, C2 80-9F); all of it read. */
const plainText = (data: Buffer, cut: boolean): boolean => {
  if (cut) return false;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f || (b === 0xc2 && i + 1 < data.length && data[i + 1]! >= 0x80 && data[i + 1]! < 0xa0)) return false;
  }
  return true;
};
/**
 * A package manager's record is harmless when it is a dir, deleted or only its metadata
 * changed, or a file `ok` reads as harmless from the layer (beside the host's); a symlink or
 * other entry in its place is not (the manager reads through it).
 */
const stateReadsAs = (ok: (upper: string, raw: string) => boolean) => (f: SensitiveFacts): boolean =>
  f.type === 'dir' || !writes(f) || (f.type === 'file' && f.upper !== undefined && f.raw !== undefined && ok(f.upper, f.raw));
const DPKG_SCRIPT = /^\/var\/lib\/dpkg\/info\/[^/]+\.(preinst|postinst|prerm|postrm|config)$/;
// __pycache__/NAME.TAG.pyc, NAME.TAG.opt-1.pyc: Python loads it in place of ../NAME.py when
// its header names that source's mtime and size, which a command can copy.
const CACHED_PYC = /\/__pycache__\/([^/]+?)\.[^./]+(\.opt-[12])?\.pyc$/;
/** lstat of a byte path (no symlink in any component followed), or null when there is none. */
const lstatAt = (p: string): Stats | null => {
  try { return lstatSync(fsAt(p), { throwIfNoEntry: false }) ?? null; } catch { return null; }
};
/**
 * A host lookup remembered for the last key it was asked with, in the tree the review compares
 * with at the time: the entries of one dir, venv, source tree or store path come in a run, so
 * the run asks the host once (`answer(key, ask)` calls `ask` for a new key or tree only).
 */
function lastAnswer(): (key: string, ask: () => boolean) => boolean {
  let lastKey: string | null = null, lastRoot: string | null = null, last = false;
  return (key, ask) => {
    const root = hostRootPath();
    if (key !== lastKey || root !== lastRoot) { last = ask(); lastKey = key; lastRoot = root; }
    return last;
  };
}
// Whether the host has a source dir: a pip install's bytecode sits in new dirs, one lstat for
// each __pycache__ instead of one for each file.
const srcDirOnHost = lastAnswer();
/**
 * Whether a written __pycache__ .pyc stands for a source the host has, so that Python on the
 * host would run the command's bytecode instead of that source. Python compares only the
 * mtime and size the header names with the source's, never the code: a sandbox that edits
 * the source (any size) can write bytecode of other code naming the edited source's mtime and
 * size, and the review would show the harmless .py diff only. So a source the sandbox wrote
 * counts as the host's too; only a new source (pip install: its bytecode is no less trusted
 * than the new .py beside it) or a deleted one (a whiteout: Python then ignores __pycache__)
 * is not flagged. The host's side is one lstat (none for the other files of a new dir); the
 * sandbox's is one lstat of the source's entry in the upper layer beside the .pyc's. Without
 * the upper path (the scan's marks) a host source is enough: the summary asks again.
 */
function bytecodeOfHostSource(f: SensitiveFacts): boolean {
  // A symlink too: Python opens the .pyc through it.
  if (!writes(f) || f.type === 'dir' || f.raw === undefined || f.raw[0] !== '/') return false;
  // On the byte path: `/` and `.` are the same bytes in any name.
  const m = CACHED_PYC.exec(f.raw);
  if (!m) return false;
  const dir = f.raw.slice(0, m.index) || '/';
  if (!srcDirOnHost(dir, () => lstatAt(dir)?.isDirectory() === true)) return false;
  const src = `/${m[1]!}.py`;
  // Python follows a symlinked source.
  const host = lstatAt(dir + src);
  if (!host || !(host.isFile() || host.isSymbolicLink())) return false;
  if (f.upper === undefined) return true;
  const u = CACHED_PYC.exec(f.upper);
  if (!u) return true;
  const up = lstatAt(f.upper.slice(0, u.index) + src);
  return !up?.isCharacterDevice();
}
// A venv's site-packages (`python -m venv`, virtualenv, uv, tox): ROOT/lib/python3.X/site-packages/.
const VENV_SITE = /^(.+)\/lib(64)?\/python[0-9][^/]*\/site-packages\//;
// Whether the command made the venv (a venv's files ask once).
const venvIsNew = lastAnswer();
// pip brings certifi with requests: the CA bundle of a certifi package the command installed
// (its dir new to the host) in the system's or a user's Python library tree is trusted as the
// package's code there is, which python-library or user-site mark (`pip install --user` was
// one `!` line for the user site and one for the bundle). A project's own copy stays marked.
const NEW_CERTIFI = /^(\/usr\/(local\/)?lib(64)?\/python[0-9][^/]*\/(site|dist)-packages|\/(root|home\/[^/]+)\/\.local\/lib\/python[^/]*\/site-packages)\/certifi\/cacert\.pem$/;
const newCertifi = (f: SensitiveFacts, p: string): boolean => f.change === 'added' && f.raw !== undefined && NEW_CERTIFI.test(p) && inDirNewToHost(f.raw);
/**
 * Whether an added entry is in a venv the command made: the layer holds ROOT/pyvenv.cfg, the
 * host has neither that file nor the site-packages dir. Nothing on the host starts that venv's
 * Python yet (a pyvenv.cfg that makes a host Python use it is marked by python-venv-config),
 * so its `.pth` files and its pip's certifi are as new as the rest of it. Without the entry's
 * file in the layer (the scan's marks) it is not asked: the summary asks again.
 */
function inNewVenv(f: SensitiveFacts): boolean {
  if (f.change !== 'added' || f.raw === undefined || f.upper === undefined) return false;
  const m = VENV_SITE.exec(f.raw);
  if (!m) return false;
  const root = m[1]!;
  // The layer's path of ROOT: the upper path less the part of the host path below ROOT.
  const tail = f.raw.length - root.length;
  if (f.upper.length <= tail || f.upper.slice(-tail) !== f.raw.slice(root.length)) return false;
  const upperRoot = f.upper.slice(0, f.upper.length - tail);
  const site = f.raw.slice(0, m[0].length - 1);
  return venvIsNew(`${site}\0${upperRoot}`, () =>
    lstatAt(`${upperRoot}/pyvenv.cfg`)?.isFile() === true && lstatAt(`${root}/pyvenv.cfg`) === null && lstatAt(site) === null);
}
// Whether the host's /usr/src tree holds a dkms.conf (a tree's files ask once).
const srcTreeDkms = lastAnswer();
/** Whether a path below /usr/src is in a tree the host registers with DKMS (its dkms.conf; one lstat per tree). */
function dkmsTree(raw: string): boolean {
  const end = raw.indexOf('/', '/usr/src/'.length);
  if (end < 0) return false;
  const top = raw.slice(0, end);
  return srcTreeDkms(top, () => lstatAt(`${top}/dkms.conf`)?.isFile() === true);
}
const NIX_STORE = '/nix/store/';
/** The store path (/nix/store/NAME) an entry below the store belongs to. */
const storePathOf = (raw: string): string => { const end = raw.indexOf('/', NIX_STORE.length); return end < 0 ? raw : raw.slice(0, end); };
// Whether the tree the review compares with has a store path (a new path's files ask once).
const storePathOnHost = lastAnswer();
/** Whether the store path an entry below /nix/store/ belongs to is one the host has (one lstat, nothing followed). */
function hostHasStorePath(raw: string): boolean {
  const top = storePathOf(raw);
  return storePathOnHost(top, () => lstatAt(top) !== null);
}
// Below the system's lib and libexec trees: what programs and daemons run or load by path.
const LIB_TREE = /^\/(usr\/(local\/)?)?(lib(32|64|x32)?|libexec)\//;
const PLUGIN_NAME = /\.(so(\.[0-9.]+)?|ko(\.(xz|zst|gz))?)$/;
const inLibTree = (p: string): boolean => (p.startsWith('/usr/') || p.startsWith('/lib')) && LIB_TREE.test(p);
const LIB_DIR = /^\/(usr\/)?(local\/)?lib(32|64|x32)?(\/[a-z0-9_]+-linux-gnu[a-z0-9_]*)?$/;
// Each starts with a dot (startsWithDot tests that first).
const RC_FILES = new Set([
  '.bashrc', '.bash_profile', '.bash_login', '.bash_logout', '.profile', '.zshrc', '.zshenv', '.zprofile', '.zlogin',
  '.zlogout', '.cshrc', '.tcshrc', '.login', '.kshrc', '.mkshrc', '.xprofile', '.xinitrc', '.xsessionrc', '.pam_environment',
  '.inputrc', '.npmrc', '.pythonrc', '.pythonstartup', '.guile', '.sbclrc', '.vimrc', '.exrc', '.emacs', '.tmux.conf', '.screenrc',
  // bash-completion sources ~/.bash_completion in every interactive bash; gdb and pdb run their
  // rc's commands at each start.
  '.bash_completion', '.gdbinit', '.gdbearlyinit', '.pdbrc',
  // Debian's and Ubuntu's default .bashrc sources ~/.bash_aliases when it exists.
  '.bash_aliases',
  // Xsession runs ~/.xsession as the X session itself (and sources ~/.xinputrc, im-config's);
  // startx runs ~/.xserverrc as the X server; WezTerm's config is Lua it runs at each start.
  '.xsession', '.xinputrc', '.xserverrc', '.wezterm.lua',
  // lesskey's #env section sets less's environment (LESSOPEN: a command run on each file it
  // opens), mailcap's entries and mutt's macros are commands, and X resources can name the Perl
  // extensions urxvt loads (URxvt.perl-lib).
  '.lesskey', '.less', '.mailcap', '.muttrc', '.neomuttrc', '.Xresources', '.Xdefaults',
  // ALSA's config can name a plugin library by path (a pcm's `lib`): every audio program loads it.
  '.asoundrc',
  // What installers append a `source` line for: powerlevel10k's, fzf's, bash-preexec's,
  // iTerm2's shell integration, and the common local zshrc.
  '.p10k.zsh', '.fzf.bash', '.fzf.zsh', '.bash-preexec.sh', '.iterm2_shell_integration.zsh', '.iterm2_shell_integration.bash', '.zshrc.local',
  // R, irb and pry run theirs as code; psql's \!, sqlite's .shell, lldb's `platform shell`,
  // ghci's :! and the mongo shells' JavaScript run commands.
  '.Rprofile', '.irbrc', '.pryrc', '.psqlrc', '.sqliterc', '.lldbinit', '.ghci', '.mongorc.js', '.mongoshrc.js',
  // xonsh's rc; R reads .Renviron at each start (R_PROFILE_USER, R_LIBS_USER: the code it loads).
  '.xonshrc', '.Renviron',
  // bun's global config (its preload scripts run before every bun run and test); the perl
  // debugger's rc.
  '.bunfig.toml', '.perldb',
  // Code or commands other tools run at each start: sbt's commands, Octave's, Erlang's and
  // IEx's, Racket's, OCaml's and SWI-Prolog's toplevels, radare2's, pylint's init-hook (editors
  // run pylint on each save), Spacemacs's config; the MySQL client's pager and plugin dir.
  '.sbtrc', '.octaverc', '.erlang', '.iex.exs', '.racketrc', '.ocamlinit', '.swiplrc', '.radare2rc', '.pylintrc', '.spacemacs', '.my.cnf',
  // jj's user config (its pager, editor and fix tools are programs it starts).
  '.jjconfig.toml',
  // libedit's rc (bind -s macros type into every line, as inputrc's do), the editor
  // sensible-editor starts (crontab -e, git without core.editor, as root in root's home),
  // the filter lesspipe runs on each file less opens (Debian's .bashrc sets it up), CLISP's
  // init, Hyper's config (JavaScript the terminal runs, and the shell it starts), mailx's rc
  // (its sendmail and PAGER are programs).
  '.editrc', '.selected_editor', '.lessfilter', '.clisprc.lisp', '.hyper.js', '.mailrc',
  // Debian's and other distributions' packaging tools: devscripts' and quilt's rc and
  // pbuilder's (shell they source; pbuilder runs as root), dupload's and sbuild's (Perl),
  // dput's and gbp's hooks, rpm's macros (%(...) runs a command), bazel's rc
  // (workspace_status_command); npm init runs ~/.npm-init.js.
  '.devscripts', '.quiltrc', '.pbuilderrc', '.dupload.conf', '.sbuildrc', '.dput.cf', '.gbp.conf', '.rpmmacros', '.makepkg.conf', '.bazelrc', '.npm-init.js',
]);
const writes = (f: SensitiveFacts): boolean => f.change !== 'deleted' && f.change !== 'metadata';
/** A cache entry's bytes or target written (not a dir, not a deletion, not its metadata): what a later install reads. */
const writesEntry = (f: SensitiveFacts): boolean => writes(f) && f.type !== 'dir';
// apt's download dir (files move out of it once checked) and its lock: read by no install.
const APT_LISTS_OWN = /^\/var\/lib\/apt\/lists\/(partial(\/|$)|lock$)/;
/** Writes it, or changes who may run or write it. */
const writesOrOpens = (f: SensitiveFacts): boolean => writes(f) || !!f.access;
// The files a tool reads only in a home (/root, /home/NAME), not a project's of the same name.
// Asked in `harmless`, after a pattern on the name alone matched: an anchored pattern's plain
// text would be "/" (the path filter would then let every path through).
const HOME_MAVEN = /^\/(root|home\/[^/]+)\/\.mavenrc$/;
const HOME_PIP = /^\/(root|home\/[^/]+)\/(\.pydistutils\.cfg|(\.conda\/|\.config\/conda\/)?\.?condarc)$|^\/etc\/conda\/\.?condarc$/;
const HOME_YARN = /^\/(root|home\/[^/]+)\/\.yarnrc(\.yml)?$/;
const HOME_RUBY = /^\/(root|home\/[^/]+)\/(\.gemrc|\.bundle\/config)$/;
const HOME_FETCH = /^\/(root|home\/[^/]+)\/(\.wgetrc|\.curlrc|\.config\/\.curlrc)$/;
const HOME_CLOUD = /^\/(root|home\/[^/]+)\/\.(kube|aws)\/config$/;
// The bin and shim dirs of a home's toolchains (ghcup's and cabal's, composer's global one as
// its docs add to PATH), Go's own, snap's and flatpak's (toolchain-bin).
const TOOL_BIN = /^\/(root|home\/[^/]+)\/(\.cargo\/bin|go\/bin|\.deno\/bin|\.bun\/bin|\.volta\/bin|\.npm-global\/bin|\.yarn\/bin|\.dotnet\/tools|\.ghcup\/bin|\.cabal\/bin|\.luarocks\/bin|\.nimble\/bin|\.julia\/bin|\.krew\/bin|\.opam\/[^/]+\/bin|\.config\/composer\/vendor\/bin|\.composer\/vendor\/bin|\.(pyenv|rbenv|nodenv|asdf)\/shims|\.local\/share\/(mise\/shims|pnpm|flatpak\/exports\/bin)|(\.nvm\/versions\/node|\.pyenv\/versions|\.sdkman\/candidates\/[^/]+)\/[^/]+\/bin)\/[^/]+$|^\/(snap\/bin|var\/lib\/flatpak\/exports\/bin|usr\/local\/go\/bin)\/[^/]+$/;
/** Whether p is a command in one of TOOL_BIN's dirs; its first characters turn most paths away. */
const inToolBin = (p: string): boolean => {
  const c = p.charCodeAt(1);
  return (c === 0x68 || c === 0x72 || c === 0x73 || c === 0x75 || c === 0x76) && TOOL_BIN.test(p); // h r s u v
};
// Whole toolchain installs: a version manager's own scripts (nvm.sh is sourced by each shell;
// pyenv's libexec runs behind every shim) and the interpreters, compilers and libraries it
// installed (a pyenv Python's stdlib, an nvm Node's global modules, rustup's toolchains,
// Go's own source, compiled into every go build), a conda or pipx install: all code that runs
// whenever the toolchain does; Homebrew's prefix on Linux (/home/linuxbrew/.linuxbrew: its bin
// links into its Cellar); the global packages of a home's npm prefix, pnpm, yarn and bun
// (their commands in the bin dirs above run this code), volta's Node images, the .NET SDK the
// install script puts in ~/.dotnet (not the sentinels and telemetry any dotnet run writes
// there), opam's switches and repository (not its logs), luarocks' --local tree.
const TOOL_TREE = /^\/(root|home\/[^/]+)\/(\.(pyenv|rbenv|nodenv|nvm|asdf|sdkman|jenv|goenv|plenv|tfenv)\/|\.dotnet\/(dotnet$|(sdk|shared|host|packs|templates|tools\/\.store)\/)|\.opam\/(?!log\/|download-cache\/)|\.rustup\/toolchains\/|\.local\/share\/(mise\/installs|fnm|rtx\/installs)\/|\.local\/(share\/)?pipx\/venvs\/|\.linuxbrew\/|(mini|ana)conda3\/|miniforge3\/|mambaforge\/|\.npm-global\/lib\/node_modules\/|\.local\/share\/pnpm\/global\/|\.config\/yarn\/global\/node_modules\/|\.bun\/install\/global\/|\.volta\/tools\/image\/|\.luarocks\/(share|lib)\/lua\/)|^\/(usr\/local\/go|opt\/conda)\//;
/** Whether p lies in one of TOOL_TREE's installs; a prefix check turns most paths away first. */
const inToolTree = (p: string): boolean =>
  (p.startsWith('/home/') || p.startsWith('/root/') || p.startsWith('/usr/local/go/') || p.startsWith('/opt/conda/')) && TOOL_TREE.test(p);
// Also a JDK's class image (lib/modules) and class-data archives (.jsa), LLVM bitcode
// (PostgreSQL's JIT loads it) and the linker scripts every link reads.
const CODE_FILE = /(\.(py|pyc|js|mjs|cjs|rb|pl|pm|sh|bash|lua|tcl|tm|jar|class|php|el|elc|vim|cmake|jl|h|hh|hpp|hxx|inc|a|o|la|pc|m4|mk|bc|jsa|jmod)|\/lib\/modules|\/ldscripts\/[^/]+)$/;
const inSystemTree = (p: string): boolean => (p.startsWith('/usr/') || p.startsWith('/opt/')) && !p.startsWith('/usr/share/doc/') && !p.startsWith('/usr/share/man/');
const HOME_HG = /^\/(root|home\/[^/]+)\/(\.hgrc|\.config\/hg\/hgrc)$/;
const HOME_GO = /^\/(root|home\/[^/]+)\/go\/pkg\/mod\//;
// A project's own .gradle dir and a uv.toml, .cache or .local in a tree are not the user's.
const HOME_GRADLE = /^\/(root|home\/[^/]+)\/\.gradle\//;
const HOME_UV = /^\/(root|home\/[^/]+)\/(\.config|\.cache|\.local\/share)\/uv\//;
const HOME_SITE = /^\/(root|home\/[^/]+)\/\.local\/lib\/python[^/]*\/site-packages\//;
// Where a home's ruby, node and perl look for code by default: RubyGems' user dirs (on
// Gem.path for `gem install --user-install`), node's $HOME/.node_modules and .node_libraries
// (searched after a project's node_modules), local::lib's ~/perl5 (what cpanm installs to
// without root; on @INC once the shell's rc sets PERL5LIB).
const MULTIARCH_PERL = /^\/usr\/(local\/)?lib\/[a-z0-9_]+-linux-gnu[a-z0-9_]*\/perl(5|-base)?\//;
const MULTIARCH_RUBY = /^\/usr\/(local\/)?lib\/[a-z0-9_]+-linux-gnu[a-z0-9_]*\/(site_)?ruby\//;
const HOME_LIB = /^\/(root|home\/[^/]+)\/(\.gem\/|\.local\/share\/gem\/|\.node_modules\/|\.node_libraries\/|perl5\/lib\/perl5\/)/;
// What a later sbx loads of its own installation: its code, its policies (fold.json decides
// what every later review folds), its helper's sources and build, and package.json (its bin
// and module type). Not the rest of a checkout (src, tests): no installed sbx runs them.
const INSTALL_PART = /^\/(dist|policies|native)(\/|$)|^\/package\.json$/;
/**
 * The no of the rules where a deletion or a dir counts: only the times changed (a package's
 * reinstall touches its units and scripts so; what runs is the same).
 */
const timesOnly = (f: SensitiveFacts): boolean => f.change === 'metadata' && !f.access;
/**
 * timesOnly, or a dir the command made: it runs nothing by itself, and what it holds is listed
 * (a package's runit service dir, a unit's drop-in dir, a new /etc/sudoers.d or ~/.ssh, beside
 * their files). One another user could plant files in later is still marked, by other-owner,
 * world-writable or acl-grant further down the table (a harmless rule lets the path on to them).
 */
const timesOrNewDir = (f: SensitiveFacts): boolean => timesOnly(f) || (f.type === 'dir' && f.change === 'added');
/** A tool config rule's no: a deletion, a dir, an mtime (nothing a later run reads is planted). */
const notPlanted = (f: SensitiveFacts): boolean => f.type === 'dir' || !writesOrOpens(f);
/**
 * The no of a rule where a removal counts too (a profile, a firewall or an audit rule deleted
 * opens or hides): a dir made or changed, or only a file's times.
 */
const neitherPlantedNorRemoved = (f: SensitiveFacts): boolean => f.type === 'dir' ? f.change !== 'deleted' : timesOnly(f);
// Another user's PATH dirs (Debian's ~/.profile adds ~/bin and ~/.local/bin when they exist):
// root's review flagged only its own.
const HOME_BIN = /^\/(root|home\/[^/]+)\/(\.local\/)?bin$/;
const inHomeBin = (p: string): boolean => {
  const i = p.lastIndexOf('/');
  return i > 4 && p.startsWith('/bin', i - 4) && (p.startsWith('/home/') || p.startsWith('/root/')) && HOME_BIN.test(p.slice(0, i));
};
/**
 * Whether dir `d` (`rawDir` its bytes) is where a shared Python's pyvenv.cfg is looked for: a
 * PATH dir or a home's bin dir, the dir above one, or a dir the host has in the system tree
 * (an installed program's venv, /opt/app/venv: the program runs its bin/python). A new dir
 * there is a new venv, which nothing on the host starts yet.
 */
function besideSharedPython(d: string, rawDir: string, ctx: SensitiveContext): boolean {
  const bin = d === '/' ? '/bin' : `${d}/bin`;
  if (ctx.pathDirs.has(d) || ctx.pathDirs.has(bin) || HOME_BIN.test(d) || HOME_BIN.test(bin)) return true;
  return inSystemTree(`${d}/`) && lstatAt(rawDir)?.isDirectory() === true;
}
/** Whether dir p is a PATH dir or above one (whoever owns it can rename what is below). */
const onPathDirs = (p: string, ctx: SensitiveContext): boolean => [...ctx.pathDirs].some((d) => d === p || d.startsWith(p === '/' ? '/' : `${p}/`));
// The rules run on every path of a review (200k new files): a test on one character or a
// length turns most paths away before a string is cut out of them.
/** Whether the last component starts with a dot (every RC_FILES name does). */
const startsWithDot = (p: string): boolean => p.charCodeAt(p.lastIndexOf('/') + 1) === 0x2e;
/** The lengths of the PATH dirs (a path's dir of another length is none of them), per context. */
const dirLengths = new WeakMap<Set<string>, Set<number>>();
function inPathDir(p: string, ctx: SensitiveContext): boolean {
  let lengths = dirLengths.get(ctx.pathDirs);
  if (!lengths) { lengths = new Set([...ctx.pathDirs].map((d) => d.length)); dirLengths.set(ctx.pathDirs, lengths); }
  const i = p.lastIndexOf('/');
  return (i < 0 || lengths.has(i > 0 ? i : 1)) && ctx.pathDirs.has(parentB(p));
}

/** A value made from the host's tree, remembered until the review compares with another tree. */
function perHostRoot<T>(make: () => T): () => T {
  let root: string | null | undefined, value: T;
  return () => {
    const r = hostRootPath();
    if (r !== root) { value = make(); root = r; }
    return value;
  };
}
/** The names in each host dir listed, kept per tree the review compares with. */
const hostNames = perHostRoot(() => new Map<string, Set<string> | null>());
/**
 * The names in each of host dirs `dirs` (byte strings), null for one the host has no dir at or
 * reaches through a symlink (merged /usr's /bin: its names are /usr/bin's, asked there). Those
 * not listed yet are listed in one helper call (host-tree.ts: O_NOATIME and no symlink followed,
 * so a review leaves the host's atimes as they were); one listing per dir, not one lookup per
 * name: an install adds commands by the hundred.
 */
function namesIn(dirs: readonly string[]): Array<Set<string> | null> {
  const names = hostNames();
  const ask = [...new Set(dirs.filter((d) => !names.has(d)))];
  if (ask.length) for (const [d, l] of hostDirNames(ask)) names.set(d, typeof l === 'string' ? null : new Set(l));
  return dirs.map((d) => names.get(d)!);
}
const namesOnHost = (d: string): Set<string> | null => namesIn([d])[0]!;
/** The multiarch names (x86_64-linux-gnu) among host dir `d`'s entries. */
const multiarchNames = (d: string): string[] => [...namesOnHost(d) ?? []].filter((n) => MULTIARCH.test(n));
/**
 * Whether the host has an entry named as byte path `raw`'s last component (or as `raw`, a bare
 * name) in one of `dirs` (its own dir too: an entry the host got there since the sandbox began
 * is replaced by the added one).
 */
function namedElsewhere(raw: string, dirs: Iterable<string>): boolean {
  const name = nameB(raw);
  return namesIn([...dirs].map((d) => (ASCII.test(d) ? d : Buffer.from(d, 'utf8').toString('latin1')))).some((s) => s?.has(name));
}
// Every dir of LIB_DIR's form: the plain lib dirs and their multiarch dirs the host has.
const LIB_BASES = ['/lib', '/lib32', '/lib64', '/libx32', '/usr/lib', '/usr/lib32', '/usr/lib64', '/usr/libx32', '/usr/local/lib', '/usr/local/lib32', '/usr/local/lib64', '/usr/local/libx32'];
const MULTIARCH = /^[a-z0-9_]+-linux-gnu[a-z0-9_]*$/;
const LIB_DIRS = perHostRoot(() => { namesIn(LIB_BASES); return LIB_BASES.filter((b) => namesOnHost(b) !== null).flatMap((b) => [b, ...multiarchNames(b).map((n) => `${b}/${n}`)]); });
/**
 * A new command that has the name of one the host has in another PATH dir: whichever of the
 * two a PATH lists first runs for that name (`~/.local/bin/sudo`, `/usr/local/bin/apt`). A new
 * name runs only when asked for by it, so those are counted per dir and these listed each.
 */
const shadowsCommand = (f: SensitiveFacts, p: string, ctx: SensitiveContext): boolean =>
  f.change === 'added' && f.type !== 'dir' && (inPathDir(p, ctx) || inHomeBin(p)) && namedElsewhere(f.raw ?? p, ctx.pathDirs);
/** The dirs ld.so.conf names (the context's, else the host's): a vendor's, such as CUDA's /usr/local/cuda-13.0/lib. */
const loaderConfDirs = (ctx: SensitiveContext): ReadonlySet<string> => ctx.loaderDirs ?? hostConfDirs();
const isLibrary = (f: SensitiveFacts, p: string, ctx: SensitiveContext): boolean => {
  if (f.type === 'dir' || !p.includes('.so') || !/\.so(\.[0-9.]+)?$/.test(p)) return false;
  const d = parentB(p);
  return LIB_DIR.test(d) || loaderConfDirs(ctx).has(d);
};
/** Likewise a new library named as one in another of the host's loader dirs (the loader takes the first it finds). */
const shadowsLibrary = (f: SensitiveFacts, p: string, ctx: SensitiveContext): boolean =>
  f.change === 'added' && isLibrary(f, p, ctx) && namedElsewhere(f.raw ?? p, [...LIB_DIRS(), ...loaderConfDirs(ctx)]);

// The lazily loaded completion files of bash-completion and fish (named for their command).
const COMPLETION = /^\/usr\/(local\/)?share\/(bash-completion\/completions\/[^/]+|fish\/vendor_completions\.d\/[^/]+\.fish)$/;
// Every completion file and dir, the lazily loaded ones and those each shell start sources
// (bash_completion.d), zsh's function dirs, a home's.
const COMPLETION_ANY = /^\/usr\/(local\/)?share\/(bash-completion\/completions|fish\/vendor_completions\.d|zsh\/(site-functions|vendor-completions))(\/|$)|^\/etc\/bash_completion\.d(\/|$)|\/\.local\/share\/bash-completion\/completions(\/|$)/;
/** The command a lazily loaded completion file is for: bash-completion also tries `NAME.bash` and `_NAME`. */
const completionOf = (raw: string): string => nameB(raw).replace(/\.(bash|fish)$/, '').replace(/^_(?=.)/, '');
/** The host's multiarch names (x86_64-linux-gnu): its /usr/lib's dirs of that form. */
const ARCHES = perHostRoot(() => multiarchNames('/usr/lib'));
/** Dir `d`'s multiarch dirs, as paths, whether or not the host has them yet (a search looks there once there is one). */
const multiarchIn = (d: string): string[] => ARCHES().map((n) => `${d}/${n}`);
// The search paths of later builds on the host, first searched first: gcc's (`cpp -v`: its own
// include dir, /usr/local/include, the multiarch dir, /usr/include), pkg-config's (its
// pc_path) and CMake's find_package (its prefixes' lib/ARCH, lib and share cmake dirs).
const INCLUDE_PATH = perHostRoot(() => multiarchNames('/usr/lib/gcc')
  .flatMap((t) => [...namesOnHost(`/usr/lib/gcc/${t}`) ?? []].map((v) => `/usr/lib/gcc/${t}/${v}/include`))
  .concat(multiarchIn('/usr/local/include'), '/usr/local/include', multiarchIn('/usr/include'), '/usr/include'));
const libThen = (prefix: string, tail: string): string[] => [...multiarchIn(`${prefix}/lib`).map((d) => `${d}/${tail}`), `${prefix}/lib/${tail}`];
const PKG_CONFIG_PATH = perHostRoot(() => [...libThen('/usr/local', 'pkgconfig'), '/usr/local/share/pkgconfig', ...libThen('/usr', 'pkgconfig'), '/usr/share/pkgconfig']);
const CMAKE_PATH = perHostRoot(() => [...libThen('/usr/local', 'cmake'), '/usr/local/share/cmake', ...libThen('/usr', 'cmake'), '/usr/share/cmake']);
const CMAKE_CONFIG = /^(.+?)(Config|-config)\.cmake$/i;
/**
 * Whether a file added at byte path `raw` is found, on search path `dirs`, before an entry the
 * host has in a later dir: for a header the same path below the dir (`<openssl/ssl.h>`), for a
 * pkg-config file the same name, for a CMake package config a later dir holding a package dir
 * of its name (find_package takes the first; CMake matches names without case).
 */
function foundFirst(raw: string, dirs: readonly string[], kind: 'header' | 'pc' | 'cmake'): boolean {
  // The first that holds it: a multiarch dir comes before the dir it is in.
  const at = dirs.findIndex((d) => raw.startsWith(`${d}/`));
  if (at < 0) return false;
  const rel = raw.slice(dirs[at]!.length + 1);
  let pkg = '';
  if (kind === 'pc' && (rel.includes('/') || !rel.endsWith('.pc'))) return false;
  if (kind === 'cmake') {
    const m = CMAKE_CONFIG.exec(nameB(rel));
    if (!m || rel.split('/').length !== 2) return false;
    pkg = m[1]!.toLowerCase();
  }
  const later = dirs.slice(at + 1);
  if (kind === 'cmake') return namesIn(later).some((names) => [...names ?? []].some((n) => n.toLowerCase().startsWith(pkg)));
  // A header or .pc file: one lookup each (a library's include tree comes in hundreds of dirs).
  return later.some((d) => lstatAt(`${d}/${rel}`) !== null);
}
/** A new header, pkg-config file or CMake package config that later builds on the host take in place of the host's own. */
const shadowsBuildFile = (f: SensitiveFacts, p: string): boolean => {
  if (f.change !== 'added' || f.type === 'dir' || !p.startsWith('/usr/')) return false;
  const raw = f.raw ?? p;
  if (p.endsWith('.pc')) return foundFirst(raw, PKG_CONFIG_PATH(), 'pc');
  if (p.endsWith('.cmake')) return p.includes('/cmake/') && foundFirst(raw, CMAKE_PATH(), 'cmake');
  return p.includes('/include/') && foundFirst(raw, INCLUDE_PATH(), 'header');
};

export const SENSITIVE_RULES: readonly SensitiveRule[] = [
  // Any user's: the commit refuses the running user's own (base/paths.ts ownDirs), this marks the rest.
  { id: 'sbx-state', why: "sbx's own config, cache or store (a later sbx trusts it)", paths: [/\/\.config\/sbx(\/|$)/, /\/\.cache\/sbx(\/|$)/, /\/\.local\/state\/sbx(\/|$)/] },
  // The running sbx's installation (PACKAGE_ROOT): a sandbox that rewrote
  // policies/fold.json would have every later review fold everything. A deletion too (a
  // policy file gone). Counted on one line (many): a build of sbx in its own checkout
  // rewrites dist/ by the hundred.
  { id: 'sbx-install', why: 'sbx itself (its code and policies: a later sbx and its reviews run by them)', many: 'files of sbx itself',
    test: (f, p) => (f.change !== 'metadata' || !!f.access) && p.startsWith(PACKAGE_ROOT) && INSTALL_PART.test(p.slice(PACKAGE_ROOT.length)) },
  // bash-completion sources completions/NAME, and fish vendor_completions.d/NAME.fish, only
  // when NAME is first completed: one for a name no host command has comes with a new command
  // (apache2's a2enmod and its five links), counted as those are. zsh's `_NAME` is not: its
  // #compdef line may name any command.
  { id: 'new-completion', why: "completion for a command the host does not have (runs when that command's name is completed)", many: 'completions of new commands',
    test: (f, p, ctx) => f.change === 'added' && f.type !== 'dir' && COMPLETION.test(p) && !namedElsewhere(completionOf(f.raw ?? p), ctx.pathDirs) },
  { id: 'shell-startup', why: 'shell startup file', paths: [
    /^\/etc\/(profile|bash\.bashrc|bash\.bash_logout|bashrc|environment|zshrc|zshenv|zprofile|zlogin|zlogout|csh\.cshrc|csh\.login|ksh\.kshrc|mkshrc)$/,
    /^\/etc\/(profile\.d|zsh|fish|xonsh)\//, /\/\.config\/fish\/(config\.fish|conf\.d(\/|$)|functions\/|fish_variables$)/,
    // Packages' fish snippets (every fish sources vendor_conf.d; its functions are autoloaded by
    // name) and zsh's function dirs on every fpath (compinit autoloads their completions).
    /^\/usr\/(local\/)?share\/fish\/(vendor_conf\.d|vendor_functions\.d|vendor_completions\.d)\//, /^\/usr\/(local\/)?share\/zsh\/(site-functions|vendor-completions|vendor-functions)\//,
    // Fedora's skeleton .bashrc runs each file of ~/.bashrc.d; rustup's install adds
    // `. "$HOME/.cargo/env"` to .profile and .bashrc.
    /\/\.bashrc\.d\//, /\/\.cargo\/env(\.fish|\.nu)?$/,
    // Completions: every interactive bash sources bash_completion.d and, when a command is
    // first completed, its file in completions/. Xsession.d: sourced by the X session's sh.
    /^\/etc\/bash_completion(\.d(\/|$)|$)/, /^\/usr\/(local\/)?share\/bash-completion\/(completions\/|bash_completion$)/,
    /\/\.local\/share\/bash-completion\/completions\//, /^\/etc\/X11\/(Xsession(\.d(\/|$)|$)|xinit\/xinitrc(\.d(\/|$)|$))/,
    // xinit's X server script and the input method setup each X session sources (im-config's
    // xinputrc and its xinput.d files).
    /^\/etc\/X11\/xinit\/(xserverrc$|xinputrc$|xinput\.d\/)/],
    // A completion deleted runs nothing: at most the host's own of that name in a later dir
    // loads instead. Not a profile or rc file, whose removal can undo a umask or a TMOUT.
    harmless: (f, p) => timesOrNewDir(f) || (f.change === 'deleted' && COMPLETION_ANY.test(p)) },
  { id: 'sudoers', why: 'sudoers', paths: [/^\/etc\/sudoers(\.d(\/|$)|$)/, /^\/etc\/doas\.conf$/], harmless: timesOrNewDir },
  // Plugin lines name the shared objects sudo loads (policy, I/O log, group plugins).
  { id: 'sudo-conf', why: 'sudo plugin configuration (libraries sudo loads as root)', paths: [/^\/etc\/sudo\.conf$/] },
  { id: 'loader', why: 'dynamic loader configuration', paths: [/^\/etc\/ld\.so\.(preload|conf)(\.d(\/|$)|$)/], harmless: timesOrNewDir },
  // ldconfig rewrites the cache after each library install: marked only when it names a
  // library outside the dirs the loader searches anyway (ld-cache.ts).
  { id: 'loader-cache', why: 'dynamic loader cache naming a library outside the loader dirs (every program would load it)', paths: [/^\/etc\/ld\.so\.cache$/],
    harmless: (f) => notPlanted(f) || contentIs(f, ldCacheOk, MAX_LD_CACHE) },
  // cron and run-parts skip a name that starts with a dot (Debian's `.placeholder` in each
  // cron dir, written by every install of cron), and run nothing that is a dir.
  { id: 'cron', why: 'cron job', paths: [/^\/etc\/(crontab|anacrontab)$/, /^\/etc\/cron\.[^/]+(\/|$)/, /^\/var\/spool\/(cron|anacron|at)(\/|$)/,
    // incron's tables: commands run (as root for /etc/incron.d) at file events; cron-apt's
    // actions and config (apt runs with them as root from cron).
    /^\/etc\/incron\.d\//, /^\/var\/spool\/incron\//, /^\/etc\/cron-apt\//],
    harmless: (f, p) => f.type === 'dir' || (nameB(p).startsWith('.') && /^\/etc\/cron\.[^/]+\/[^/]+$/.test(p)) },
  { id: 'systemd', why: 'systemd unit', many: 'systemd units and links', paths: [
    /^\/(etc|usr\/lib|lib|usr\/local\/lib|run)\/systemd\/(system|user|system-generators|user-generators|system-environment-generators|user-environment-generators|system-preset|user-preset)(\.[^/]+)?(\/|$)/,
    // Run as root by systemd at each suspend and resume, and at shutdown; a user's linger flag
    // starts that user's manager, and its units, at boot.
    /^\/(usr\/)?lib\/systemd\/(system-sleep|system-shutdown)\//, /^\/var\/lib\/systemd\/linger\//,
    /\/\.config\/systemd\/user(\.[^/]+)?(\/|$)/, /\/\.local\/share\/systemd\/user(\/|$)/,
    // The user manager's units in $XDG_DATA_DIRS (systemd 252 reads /usr/local/share's and
    // /usr/share's): one named as a /usr/lib unit, or a drop-in dir of one, runs in its place.
    /^\/usr\/(local\/)?share\/systemd\/user(\/|$)/,
    // The user manager's units in $XDG_CONFIG_DIRS (Debian's /etc/xdg/systemd/user is a symlink
    // to /etc/systemd/user: replaced by a dir, its units run for every user).
    /^\/etc\/xdg\/systemd\/user(\/|$)/,
    // Podman's quadlet files: a generator makes units of them (their [Service] lines kept).
    /^\/(etc|usr\/share)\/containers\/systemd\//, /\/\.config\/containers\/systemd\//], harmless: timesOrNewDir },
  // RHEL's /etc/rc.d holds the same (rc.local, init.d, rcN.d); upstart's jobs are /etc/init.
  // runit's stage scripts and services (each service dir's run, finish and log/run scripts).
  { id: 'init', why: 'init script', many: 'init scripts and links', paths: [/^\/etc\/(init\.d|rc\.local|rc\d\.d|rcS\.d|rc\.d|init)(\/|$)/, /^\/etc\/(inittab|rc\.shutdown)$/,
    /^\/etc\/(sv|service|runit)\//], harmless: timesOrNewDir },
  // sudo's credential cache: a valid record lets sudo run without asking the password.
  { id: 'sudo-timestamp', why: "sudo's credential cache (a valid record lets sudo run without the password)", paths: [/^\/(var\/)?run\/sudo\/ts\//, /^\/var\/(lib|db)\/sudo\/ts\//], harmless: notPlanted },
  // A system bus service file names the program dbus-daemon starts as root when it is first
  // called; a bus policy says who may call a root service's methods.
  { id: 'dbus', why: 'D-Bus service or policy (the program a bus starts, as root on the system bus; who may call it)', paths: [
    /^\/(usr\/share|usr\/local\/share|etc)\/dbus-1\/(system-services|services|system\.d|session\.d)\//, /^\/(usr\/share|etc)\/dbus-1\/(system|session)(-local)?\.conf$/,
    /\/\.local\/share\/dbus-1\/services\//], harmless: notPlanted },
  // Servers that start programs or load modules by their config, as root or their own user:
  // Apache's LoadModule and piped logs, nginx's load_module, PostgreSQL's archive_command and
  // shared_preload_libraries (pg_hba.conf's trust lets anyone in as its superuser), MySQL's
  // plugin-load, rsyslog's omprog, supervisord's and xinetd's programs, monit's actions; the
  // mail servers' (exim's ${run}, postfix's pipe services and mailbox_command) and CUPS's (its
  // admin group, and the backends and filters it runs: a backend of mode 0700 as root).
  { id: 'service-config', why: 'server config (the programs and modules a server starts or loads, who may log in)', many: 'server config files', paths: [
    /^\/etc\/(apache2|httpd|nginx|lighttpd|postgresql|mysql|syslog-ng|supervisor|xinetd\.d|monit|exim4)\//,
    // Tomcat's and Jetty's (users, valves, start modules), amavis's (Perl), munin-node's plugins
    // (run as root), Nagios's and Icinga's commands, slapd's cn=config (modules it loads, who may
    // write), JupyterHub's (Python), xrdp's session scripts.
    /^\/etc\/(tomcat[0-9]*|jetty[0-9]*|amavis|munin|nagios[0-9]+|icinga2|jupyterhub|xrdp)\//, /^\/etc\/ldap\/slapd\.d\//,
    // Failover, load balancing, UPS and monitoring daemons that run commands their config
    // names (keepalived's notify scripts, haproxy's external checks and Lua, upsmon's
    // NOTIFYCMD and SHUTDOWNCMD, apcupsd's apccontrol, snmpd's extend, zabbix's UserParameter,
    // NRPE's commands, collectd's and telegraf's exec inputs, dovecot's post-login scripts).
    /^\/etc\/(keepalived|haproxy|nut|apcupsd|snmp|zabbix|nagios|collectd|telegraf|dovecot)\//, /^\/etc\/rsyslog\.(conf$|d\/)/,
    // Redis's and Valkey's loadmodule, squid's helpers (auth_param program), ClamAV's
    // VirusEvent command, SpamAssassin's Perl plugins.
    /^\/etc\/(redis|valkey|squid|clamav|spamassassin)\//, /^\/etc\/redis\.conf$/,
    /^\/etc\/(inetd|supervisord|vsftpd)\.conf$/, /^\/etc\/postfix\/(main|master)\.cf$/, /^\/etc\/mail\/sendmail\.(cf|mc)$/,
    // libvirt's hooks (run as root at each VM's and the daemon's events) and qemu.conf (the user
    // VMs run as, the security driver), MongoDB's (its authorization), Tor's (a hidden service
    // opens a local port to anyone), Jenkins's init scripts and plugins (run at each start).
    /^\/etc\/(libvirt\/(hooks\/|qemu\.conf$)|mongod\.conf$|tor\/torrc$)/, /^\/var\/lib\/jenkins\/(init\.groovy\.d|plugins)\//,
    /^\/etc\/cups\/(cupsd|cups-files)\.conf$/, /^\/usr\/lib\/cups\/(backend|filter|cgi-bin|daemon|notifier|monitor)\//], harmless: notPlanted },
  // A `|command` alias or forward, or a procmail recipe's pipe, runs a program when mail arrives
  // (cron mails root its jobs' output); postfix and sendmail read the aliases' built map.
  // The mail fetchers' and senders' commands: fetchmail's mda and plugin, msmtp's
  // passwordeval, mbsync's PassCmd, offlineimap's pythonfile, notmuch's hooks (run at each
  // `notmuch new`).
  { id: 'mail-command', why: 'mail alias, forward, filter or fetcher config (commands it runs when mail arrives, is fetched or sent)', paths: [
    /^\/etc\/aliases(\.db|\.lmdb|\.cdb)?$/, /\/\.forward$/, /\/\.procmailrc$/, /^\/etc\/procmailrc$/, /\/\.mailfilter$/,
    /\/\.(fetchmailrc|msmtprc|mbsyncrc|offlineimaprc|notmuch-config)$/, /\/\.config\/(msmtp|offlineimap)\/config$/, /\/\.config\/isyncrc$/, /\/\.config\/notmuch\/[^/]+\/config$/, /\/\.notmuch\/hooks\//], harmless: notPlanted },
  // Commands run as root when something happens to a disk, an array, a pool or the watchdog's
  // checks: smartd's -M exec and its run.d, mdadm's PROGRAM, ZFS's zedlets, watchdog's
  // test-binary and repair-binary.
  // pm-utils runs its sleep.d and power.d hooks as root at each suspend, resume and power change.
  { id: 'event-hook', why: 'storage, power or watchdog event hook (commands run as root on disk, RAID, ZFS, power or watchdog events)', paths: [
    /^\/etc\/(smartd\.conf$|smartmontools\/(smartd\.conf$|run\.d\/|smartd_warning\.d\/))/, /^\/etc\/mdadm\/mdadm\.conf$/, /^\/etc\/zfs\/zed\.d\//,
    /^\/etc\/(watchdog\.conf$|watchdog\.d\/)/, /^\/(etc\/pm|usr\/lib\/pm-utils)\/(sleep|power)\.d\//,
    // molly-guard's checks (run as root when root types reboot or halt), qemu-guest-agent's
    // freeze hooks (run as root at each snapshot of the VM).
    /^\/etc\/molly-guard\//, /^\/etc\/qemu\/fsfreeze-hook(\.d\/|$)/,
    // pm-utils' modules and TLP's functions (shell sourced as root at each power event),
    // ModemManager's FCC unlock scripts (run as root when such a modem appears).
    /^\/usr\/lib\/pm-utils\/module\.d\//, /^\/usr\/share\/tlp\/func\.d\//,
    /^\/etc\/ModemManager\/fcc-unlock\.d\//, /^\/usr\/(share|lib\/[a-z0-9_]+-linux-gnu)\/ModemManager\/fcc-unlock\.(available\.)?d\//], harmless: notPlanted },
  // cloud-init runs bootcmd at every boot and its per-boot scripts, as root; a semaphore deleted
  // under /var/lib/cloud makes its module (runcmd's script) run again at the next boot.
  { id: 'cloud-init', why: 'cloud-init config, script or state (commands run as root at the next boot)', paths: [
    /^\/etc\/cloud\/cloud\.cfg(\.d\/|$)/, /^\/var\/lib\/cloud\//], harmless: neitherPlantedNorRemoved },
  // A database server's own files: its roles and passwords (pg_authid, mysql.user), its stored
  // functions (run with the server's rights), and the data dir's config (PostgreSQL's
  // postgresql.auto.conf from ALTER SYSTEM, a RHEL cluster's postgresql.conf and pg_hba.conf).
  // A server running on the host would also be corrupted by such files written under it. Not
  // the postgres user's home beside the clusters (/var/lib/postgresql/.psql_history).
  { id: 'database-files', why: "database server files (its roles and passwords, its stored functions, its config: who may log in, what it runs)", many: 'database files', paths: [
    /^\/var\/lib\/(postgresql\/[0-9][^/]*\/|pgsql\/([0-9][^/]*\/)?data\/|mysql\/|mariadb\/)/], harmless: notPlanted },
  { id: 'acpi', why: 'acpid event rule or action (runs commands as root on power, lid and button events)', paths: [/^\/etc\/acpi\//], harmless: notPlanted },
  // auto_prepend_file and a loaded extension run in every PHP program (a web app's, as its user).
  { id: 'php-config', why: 'PHP configuration (auto_prepend_file and extensions run code in every PHP program)', many: 'PHP config files', paths: [/^\/etc\/php\//, /^\/usr\/local\/etc\/php\//], harmless: notPlanted },
  { id: 'autostart', why: 'autostart entry', paths: [/^\/etc\/xdg\/autostart(\/|$)/, /\/\.config\/autostart(\/|$)/], harmless: timesOrNewDir },
  // systemd-sysusers makes the users and groups its configs name at boot and at a package's
  // install (`m deploy sudo` adds a user to a group).
  { id: 'accounts', why: 'account database', paths: [/^\/etc\/(passwd|shadow|group|gshadow|subuid|subgid)$/, /^\/(etc|run|usr\/lib|usr\/local\/lib)\/sysusers\.d\//] },
  // pam-auth-update builds /etc/pam.d/common-* from the profiles in /usr/share/pam-configs
  // whenever a libpam package is installed or upgraded.
  { id: 'pam', why: 'PAM configuration', paths: [/^\/etc\/pam\.(d(\/|$)|conf$)/, /^\/etc\/security\//, /^\/(usr\/)?lib\/([a-z0-9_]+-linux-gnu\/)?security\//, /^\/usr\/share\/pam-configs\//], harmless: timesOrNewDir },
  { id: 'nsswitch', why: 'name service switch (loads modules into every program)', paths: [/^\/etc\/nsswitch\.conf$/] },
  // Where nsswitch's and PAM's directory modules look users up and check passwords: sssd's
  // config (its LDAP server's users and groups, sudo rules, access rules) and its cache (users,
  // cached password hashes for offline logins), nss-ldap's, and Kerberos' realms and the host's
  // keytab (a KDC named there answers for every domain login).
  { id: 'identity-source', why: 'where logins are checked (users, groups, passwords and sudo rules from a directory or Kerberos)', paths: [
    /^\/etc\/sssd\//, /^\/var\/lib\/sss\/(db|pubconf)\//, /^\/etc\/(nslcd|libnss-ldap|pam_ldap|ldap)\.conf$/, /^\/etc\/krb5\.(conf(\.d\/|$)|keytab$)/], harmless: notPlanted },
  // A hosts line or another DNS server sends a later download, update or login elsewhere
  // (or nowhere: `127.0.0.1 security.debian.org`), as a pip or curl config's index or proxy does.
  { id: 'name-resolution', why: 'name resolution (can send a later download, update or login to another host)', paths: [/^\/etc\/(hosts|resolv\.conf)$/,
    /^\/etc\/systemd\/resolved\.conf(\.d(\/|$)|$)/, /^\/(run|usr\/lib|usr\/local\/lib)\/systemd\/resolved\.conf\.d\//, /^\/etc\/resolvconf\/resolv\.conf\.d\//, /^\/etc\/dnsmasq\.(conf$|d\/)/,
    // The network managers' own config: the DNS servers, routes and proxies of each link or
    // connection (systemd-networkd's .network files, netplan's, NetworkManager's).
    /^\/(etc|usr\/lib|usr\/local\/lib|run)\/systemd\/network\//, /^\/etc\/netplan\//, /^\/(usr\/)?lib\/netplan\//,
    /^\/etc\/NetworkManager\/(NetworkManager\.conf$|conf\.d\/|system-connections\/|dnsmasq(-shared)?\.d\/)/, /^\/usr\/lib\/NetworkManager\/conf\.d\//], harmless: notPlanted },
  // sshd's host keys: the command that made or read them knows the private half (openssh-server's
  // install generates six). Counted per dir; a deletion counts (sshd starts without it no more).
  { id: 'ssh-host-key', why: 'ssh host key (whoever ran the command may hold it: it can pose as this machine to ssh clients)', many: 'ssh host keys',
    paths: [/^\/etc\/ssh\/ssh_host_[^/]*key(\.pub|-cert\.pub)?$/], harmless: timesOnly },
  // git's ssh signing trust (gpg.ssh.allowedSignersFile) sits beside its config as often as in ~/.ssh.
  { id: 'ssh', why: 'ssh keys or configuration', paths: [/^\/etc\/ssh\//, /(^|\/)\.ssh(\/|$)/, /\/\.config\/git\/allowed_signers$/], harmless: timesOrNewDir },
  // /etc/apt/apt.conf as well as apt.conf.d: either can set DPkg::Post-Invoke.
  // The same for pacman (pacman.conf also names the hook dirs), dnf and yum (their .conf can
  // turn signature checks off), apk and zypper.
  { id: 'package-source', why: 'package source', paths: [/^\/etc\/apt\/(sources\.list|sources\.list\.d|apt\.conf(\.d|$)|trusted\.gpg|preferences|keyrings)/, /^\/usr\/share\/keyrings\//, /^\/etc\/yum\.repos\.d\//,
    /^\/etc\/pacman\.(conf$|d\/(mirrorlist$|gnupg\/))/, /^\/usr\/share\/pacman\/keyrings\//, /^\/etc\/(dnf\/dnf|yum)\.conf$/, /^\/etc\/pki\/rpm-gpg\//,
    /^\/etc\/apk\/(repositories$|keys\/)/, /^\/etc\/zypp\/repos\.d\//], harmless: timesOrNewDir },
  // A CA certificate added to a trust store lets whoever holds its key impersonate any TLS
  // site to every program that reads the store (update-ca-certificates builds the bundle and
  // the hash links from these dirs; certifi's bundle is Python's requests'; ~/.pki/nssdb is
  // Chrome's and NSS tools'). An install or upgrade of ca-certificates writes them by the
  // hundred (many). Not a deletion (it trusts less), a dir, or a time (dpkg rewrites them).
  { id: 'tls-trust', why: 'TLS trust store (a CA added here lets its holder impersonate any site)', many: 'trust-store files',
    paths: [/^\/usr\/(local\/)?share\/ca-certificates\//, /^\/etc\/ca-certificates\.conf$/, /^\/etc\/ssl\/(certs\/|cert\.pem$)/,
      /^\/etc\/pki\/(ca-trust\/|tls\/(certs\/|cert\.pem$))/, /^\/usr\/share\/pki\/ca-trust-source\//, /\/certifi\/cacert\.pem$/, /\/\.pki\/nssdb\//, /^\/etc\/pki\/nssdb\//,
      // A JDK's own trust store (Temurin's, Oracle's, one in /opt or a toolchain dir; Debian's
      // JDKs link it to /etc/ssl/certs/java/cacerts).
      /\/lib\/security\/cacerts$/],
    harmless: (f, p) => !writesEntry(f) || inNewVenv(f) || newCertifi(f, p) },
  // openssl_conf's engines and providers name shared objects every program using OpenSSL
  // loads (`dynamic_path`, `module`): curl, apt's https, python's ssl, as root too.
  { id: 'openssl-config', why: 'OpenSSL configuration (can load a library into every program using OpenSSL)', paths: [/^\/(etc|usr\/lib)\/ssl\/openssl\.cnf$/, /^\/etc\/pki\/tls\/openssl\.cnf$/] },
  // update-ca-certificates runs each of these as root after it rebuilt the store.
  { id: 'ca-hook', why: 'update-ca-certificates hook (runs as root at the next update of the trust store)', paths: [/^\/etc\/ca-certificates\/update\.d(\/|$)/], harmless: timesOrNewDir },
  // dpkg.cfg takes --pre-invoke/--post-invoke (commands run as root by every dpkg call), and
  // a package's maintainer scripts run as root when it is next configured, upgraded or removed.
  // A script removed with its package (apt-get remove) runs nothing.
  // Every maintainer script that asks a question sources debconf's confmodule (which starts its
  // Perl frontend), as root.
  { id: 'dpkg-hook', why: 'dpkg hook or maintainer script (runs as root at a later install)', many: 'maintainer scripts and dpkg hooks', paths: [/^\/etc\/dpkg\/dpkg\.cfg(\.d(\/|$)|$)/, /^\/usr\/share\/debconf\//],
    test: (f, p) => f.change !== 'deleted' && p.startsWith('/var/lib/dpkg/info/') && DPKG_SCRIPT.test(p), harmless: timesOrNewDir },
  // dpkg applies a stat override whenever it installs the file (the next upgrade of its
  // package, unattended-upgrades' too): `root root 4755 /usr/bin/vim.basic` makes a setuid
  // root program then. A diversion makes it install a package's file under another name, so
  // an upgrade (a security fix) never replaces the file at the diverted path. Either, removed,
  // undoes an admin's own. dpkg's `-old` copies are backups it never reads.
  { id: 'dpkg-override', why: "dpkg stat override or diversion (the owner and mode dpkg gives a package's file, or where it puts it, at its next install)",
    paths: [/^\/var\/lib\/dpkg\/(statoverride|diversions)$/], harmless: (f) => f.type === 'dir' || timesOnly(f) },
  // dpkg deletes what a package's file record names when it removes the package, or upgrades
  // it to a version without that file (dpkg-list.ts): a line naming a host file is a deletion
  // at the next upgrade. A symlink in its place is read through.
  { id: 'dpkg-file-list', why: "dpkg's list of a package's files names a host file the package did not install (dpkg deletes it at the package's next upgrade or removal)",
    paths: [/^\/var\/lib\/dpkg\/info\/[^/]+\.list$/], harmless: stateReadsAs(dpkgListHarmless) },
  // What a later apt run does with the host's own packages (apt-state.ts): `apt autoremove`
  // removes one marked auto-installed, apt upgrades none held. Deleted, each trusts less.
  { id: 'apt-auto-mark', why: "apt's auto-installed mark on a package the host has (the next 'apt autoremove' removes it)",
    paths: [/^\/var\/lib\/apt\/extended_states$/], harmless: stateReadsAs(extendedStatesHarmless) },
  { id: 'dpkg-selection', why: "dpkg's selection of a package the host has changed to hold (apt no longer upgrades it, security fixes included), deinstall or purge",
    paths: [/^\/var\/lib\/dpkg\/status$/], harmless: stateReadsAs(dpkgStatusHarmless) },
  // Other package managers' equivalents: pacman's hooks (an Exec line, run as root by every
  // transaction that matches) and a package's install script (kept as local/PKG/install, run
  // at its upgrade or removal); dnf's and yum's plugins (loaded into every run); rpm's macros
  // (`%(cmd)` runs a shell in every rpm call) and its database, which holds each package's
  // scriptlets, run at its removal; apk's commit hooks and its scripts.tar. A deletion plants
  // nothing.
  { id: 'package-hook', why: 'package manager hook, plugin or package script (runs as root at a later install)', paths: [
    /^\/etc\/pacman\.d\/hooks(\/|$)/, /^\/usr\/share\/libalpm\/(hooks|scripts)(\/|$)/, /^\/var\/lib\/pacman\/local\/[^/]+\/install$/,
    /^\/etc\/(dnf|yum)\/(plugins|pluginconf\.d)(\/|$)/, /^\/usr\/lib\/yum-plugins(\/|$)/,
    /^\/etc\/rpm\//, /^\/usr\/lib\/rpm\/macros\.d(\/|$)/, /^\/var\/lib\/rpm\//,
    /^\/etc\/apk\/commit_hooks\.d(\/|$)/, /^\/lib\/apk\/db\/scripts\.tar$/,
    // Debian's Python runtime hooks: run as root when the default python3 changes (an upgrade).
    /^\/usr\/share\/(python3|pypy3)\/runtime\.d\//, /^\/usr\/lib\/pypy3\/runtime\.d\//,
    // needrestart's config is Perl it evaluates as root after every apt run; etckeeper's
    // config and its *.d scripts run as root before and after each apt run.
    /^\/etc\/needrestart\/(needrestart\.conf$|(conf|hook|restart)\.d(\/|$))/, /^\/etc\/etckeeper\//], harmless: (f) => f.change === 'deleted' || timesOrNewDir(f) },
  // systemd's and kmod's config dirs include /usr/local/lib's (their search paths: strings of
  // libsystemd-shared-252 and libkmod).
  { id: 'udev', why: 'udev rule (runs commands as root on device events)', paths: [/^\/(etc|lib|usr\/lib|usr\/local\/lib|run)\/udev\/rules\.d(\/|$)/], harmless: timesOrNewDir },
  // depmod.d's search and override lines decide which of two modules of one name loads.
  { id: 'modprobe', why: 'kernel module loading (install commands run as root)', paths: [/^\/(etc|lib|usr\/lib|usr\/local\/lib|run)\/(modprobe\.d|modules-load\.d|depmod\.d)(\/|$)/, /^\/etc\/modules$/], harmless: timesOrNewDir },
  // The kernel hands these files to devices as their drivers load (at boot too): code that runs
  // on the hardware, which can reach memory by DMA. A firmware package writes them by the hundred.
  { id: 'firmware', why: 'device firmware (the kernel loads it into a device as its driver starts: code on hardware that can read memory)', many: 'firmware files',
    // fwupd's remotes (where firmware updates come from) and the keys it checks them with.
    paths: [/^\/(usr\/)?lib\/firmware\//, /^\/(etc|usr\/share)\/fwupd\/remotes\.d\//, /^\/etc\/pki\/fwupd(-metadata)?\//], harmless: notPlanted },
  // Host-based trust: rlogin and rsh, and ssh with HostbasedAuthentication, let in whoever
  // hosts.equiv or a user's .rhosts/.shosts names (`+ +`: anyone from anywhere); Kerberos logins
  // (sshd's GSSAPI, pam_krb5, ksu) whoever a user's .k5login or .k5users names.
  { id: 'login-trust', why: 'login trust file (hosts or Kerberos principals that may log in as the user without a password)', paths: [
    /^\/etc\/hosts\.equiv$/, /\/\.(rhosts|shosts|k5login|k5users)$/], harmless: notPlanted },
  { id: 'sysctl', why: 'kernel settings applied at boot', paths: [/^\/etc\/sysctl\.(conf$|d(\/|$))/, /^\/(lib|usr\/lib|usr\/local\/lib|run)\/sysctl\.d(\/|$)/], harmless: timesOrNewDir },
  // An `L`, `C` or `w` line plants a link, a copy or file content anywhere; `z`/`Z` set owners and modes.
  { id: 'tmpfiles', why: 'tmpfiles.d rule (systemd creates, writes and chowns files by it as root at boot)', paths: [/^\/(etc|lib|usr\/lib|usr\/local\/lib|run)\/tmpfiles\.d(\/|$)/], harmless: timesOrNewDir },
  { id: 'binfmt', why: 'binfmt_misc rule (names the interpreter the kernel runs a kind of file with)', paths: [/^\/(etc|lib|usr\/lib|usr\/local\/lib|run)\/binfmt\.d(\/|$)/], harmless: timesOrNewDir },
  // /etc/kernel/{postinst,preinst,postrm,prerm,header_postinst,install}.d: run-parts by each
  // kernel package's scripts; initramfs-tools' hooks run as mkinitramfs builds the image,
  // and its scripts run in the initramfs at every boot.
  { id: 'kernel-hook', why: 'kernel or initramfs hook (runs as root at a kernel install, or at boot)', paths: [
    /^\/etc\/kernel\/[^/]+\.d(\/|$)/, /^\/usr\/lib\/kernel\/install\.d(\/|$)/, /^\/(etc|usr\/share)\/initramfs-tools\/(hooks|scripts|conf-hooks\.d)(\/|$)/,
    // mkinitramfs sources initramfs.conf and conf.d's files as shell; dracut sources its
    // config as bash and runs its modules' module-setup.sh (their scripts run at boot).
    /^\/(etc|usr\/share)\/initramfs-tools\/(initramfs\.conf$|conf\.d\/)/, /^\/etc\/dracut\.conf(\.d\/|$)/, /^\/usr\/lib\/dracut\/(dracut\.conf\.d|modules\.d)\//,
    /^\/etc\/initramfs\/post-update\.d\//,
    // DKMS builds each registered module as root at every kernel install, running its
    // dkms.conf's PRE_BUILD and POST_INSTALL scripts: its state, and each source tree of
    // /usr/src that holds a dkms.conf (the module's code is loaded into the kernel).
    /^\/var\/lib\/dkms\//], harmless: timesOrNewDir,
    test: (f, p) => p.startsWith('/usr/src/') && writesEntry(f) && dkmsTree(f.raw ?? p) },
  // Also the local authority's .pkla grants (ResultAny=yes: an action without a password).
  { id: 'polkit', why: 'polkit rules (who may act as root)', paths: [/^\/(etc|usr\/share|var\/lib)\/polkit-1(\/|$)/], harmless: timesOrNewDir },
  // The kernel, initramfs and boot loader, and what update-grub builds its menu from (its
  // grub.d scripts run as root; a command line can name another init).
  { id: 'boot', why: 'boot loader, kernel or its command line (runs as root at the next boot)', paths: [
    /^\/boot\//, /^\/etc\/default\/grub(\.d\/|$)/, /^\/etc\/grub\.d\//, /^\/etc\/kernel\/cmdline$/], harmless: notPlanted },
  // A mount over a system dir replaces what it holds; a crypttab keyscript is a command.
  { id: 'fstab', why: 'fstab or crypttab (what is mounted where at boot; a keyscript runs as root)', paths: [/^\/etc\/(fstab|crypttab)$/], harmless: notPlanted },
  { id: 'file-shares', why: "NFS or Samba shares (what other machines may read or write; Samba's preexec lines run commands)", paths: [
    /^\/etc\/exports(\.d\/|$)/, /^\/etc\/samba\/smb\.conf$/], harmless: notPlanted },
  // What the network may reach here at the next boot or reload (nftables.conf is itself run by
  // `nft -f` as root, and may include more); a rule removed opens as much as one added.
  { id: 'firewall', why: 'firewall rules (what the network may reach on this machine at the next boot or reload)', many: 'firewall files', paths: [
    /^\/etc\/(nftables(\.conf$|\.d\/|\/)|iptables\/|ufw\/|firewalld\/|sysconfig\/ip6?tables$)/, /^\/etc\/default\/ufw$/,
    // netfilter-persistent's plugins: the scripts that load the rules at boot, as root.
    /^\/usr\/share\/netfilter-persistent\/plugins\.d\//],
    harmless: neitherPlantedNorRemoved },
  // fail2ban runs its actions (action.d's actionban lines) as root; auditd execs what
  // auditd.conf's *_action = exec names and its plugins, and its rules decide what is logged.
  { id: 'fail2ban-audit', why: 'fail2ban or audit config (its actions are commands run as root; its rules decide what is banned or logged)', many: 'fail2ban or audit files', paths: [
    /^\/etc\/(fail2ban|audit)\//], harmless: neitherPlantedNorRemoved },
  // Debian's /etc/default files are shell that init scripts, cron jobs and boot scripts source
  // as root (Debian policy 9.3.2). Not locale (pam_env reads it as KEY=VALUE lines) nor
  // useradd (useradd parses it). A deletion plants nothing.
  // RHEL's /etc/sysconfig (its network-scripts' ifup-local runs as root) and OpenRC's and
  // Arch's /etc/conf.d are the same kind of file.
  { id: 'init-defaults', why: 'an /etc/default file (shell that init scripts and jobs source as root)', paths: [/^\/etc\/default\/[^/]+$/, /^\/etc\/(sysconfig|conf\.d)\//],
    harmless: (f, p) => notPlanted(f) || p === '/etc/default/locale' || p === '/etc/default/useradd' },
  // A profile removed leaves its program unconfined at the next load: a deletion counts.
  // snapd's generated AppArmor and seccomp profiles confine each snap the same way.
  { id: 'mac-policy', why: 'AppArmor or SELinux policy (what confined programs may do)', many: 'AppArmor or SELinux policy files', paths: [/^\/etc\/apparmor\.d\//, /^\/etc\/selinux\//, /^\/var\/lib\/snapd\/(apparmor|seccomp)\//],
    harmless: neitherPlantedNorRemoved },
  // adduser.conf and useradd's defaults name the skeleton dir (SKEL=) and the groups a new
  // account joins (EXTRA_GROUPS, GROUP).
  { id: 'skel', why: "new accounts' skeleton or defaults (copied into each new home: its startup files run as that user; the groups it joins)", paths: [
    /^\/etc\/skel\//, /^\/etc\/(adduser\.conf|default\/useradd)$/], harmless: notPlanted },
  // su and login set PATH from ENV_SUPATH and ENV_PATH (a dir the command chose, first in
  // root's PATH after `su`), and the umask and password hashing of new passwords.
  { id: 'login-defs', why: 'login settings (the PATH su and login give, umask, password hashing)', paths: [/^\/etc\/login\.defs$/], harmless: notPlanted },
  // Which algorithms, certificates and security providers every Java program accepts
  // (jdk.tls.disabledAlgorithms, security.provider.N) and what its policy grants code.
  { id: 'java-security', why: 'Java security settings (which algorithms, certificates and providers every Java program trusts)', paths: [
    /^\/etc\/java-[^/]+\/security\//, /^\/usr\/lib\/jvm\/[^/]+\/(conf|lib)\/security\/(java\.security|[^/]+\.policy)$/], harmless: notPlanted },
  // The java launcher loads lib/NAME/libjvm.so for the first KNOWN line of jvm.cfg, NAME taken
  // as it is: `-../../../../var/tmp/x KNOWN` made every java run load /var/tmp/x/libjvm.so
  // (checked with strace). net.properties sets the proxies of Java's HTTP; management/ what
  // the JMX agent (remote consoles) allows. The JDK's lib/ and conf/ link to /etc's.
  { id: 'java-config', why: "Java runtime config (the VM library every java run loads, Java's proxies, what the JMX agent allows)", paths: [
    /^\/etc\/java-[^/]+\/(jvm[^/]*\.cfg|net\.properties|management\/[^/]+)$/, /^\/usr\/lib\/jvm\/[^/]+\/(lib\/jvm\.cfg|conf\/(net\.properties|management\/[^/]+))$/], harmless: notPlanted },
  // journald's Storage=none keeps nothing of what runs; timesyncd's servers set the clock (and
  // with it what a certificate check or a Kerberos ticket accepts).
  { id: 'systemd-config', why: 'systemd logging or time settings (what is logged; which servers set the clock)', paths: [
    /^\/(etc|usr\/lib|run)\/systemd\/(journald|timesyncd)\.conf(\.d\/|$)/], harmless: neitherPlantedNorRemoved },
  { id: 'motd', why: 'login message script (runs as root at login)', paths: [/^\/etc\/update-motd\.d(\/|$)/], harmless: timesOrNewDir },
  // Printed as they are on the terminal of whoever logs in (root's ssh session too): an escape
  // string there sets that terminal's clipboard or hides what it shows. Plain text is ordinary.
  { id: 'login-banner', why: "login banner with terminal escapes (printed on each login's terminal: can set its clipboard, hide text)", paths: [
    /^\/etc\/(motd|issue|issue\.net)$/], harmless: (f) => notPlanted(f) || contentIs(f, plainText, MAX_BANNER) },
  { id: 'logrotate', why: 'logrotate configuration (scripts run as root)', paths: [/^\/etc\/logrotate\.(conf$|d(\/|$))/], harmless: timesOrNewDir },
  // Tools the host runs on a timer, whose config names commands: certbot's renewal conf
  // (pre_hook, deploy_hook) and renewal-hooks scripts, dehydrated's hook, acme.sh (its own
  // script, account.conf, each domain's reload command: its cron line runs the script),
  // rsnapshot's cmd_ lines, borgmatic's hooks, logwatch's scripts (Perl, from cron.daily).
  { id: 'timer-tool', why: "config or script of a tool the host runs on a timer (certificate renewal, backups, log reports: its hooks run, as root for most)", many: 'files of timer-run tools', paths: [
    /^\/etc\/letsencrypt\/(cli\.ini$|renewal\/|renewal-hooks\/)/, /^\/etc\/dehydrated\//, /\/\.acme\.sh\//, /^\/etc\/rsnapshot\.conf$/,
    /^\/etc\/borgmatic(\.d)?\//, /\/\.config\/borgmatic(\.d)?\//, /^\/(usr\/share|etc)\/logwatch\/scripts\//], harmless: notPlanted },
  // What a web server runs when anyone asks for it: PHP and CGI scripts, JSP, server-side
  // includes, the per-dir settings that turn handlers on (.htaccess) or prepend code
  // (.user.ini), a servlet container's auto-deployed webapps.
  { id: 'web-content', why: "web server script or its per-dir settings (runs as the server's user when anyone requests it)", many: 'web server scripts', paths: [
    /^\/(var\/www|srv\/www|srv\/http|usr\/share\/nginx\/html)\/(.*\/)?([^/]+\.(php[0-9]?|phtml|phar|cgi|jspx?|shtml)|\.htaccess|\.user\.ini)$/,
    /^\/usr\/lib\/cgi-bin\//, /^\/var\/lib\/(tomcat|jetty)[0-9]*\/webapps\//], harmless: notPlanted,
    // A web app's config in /etc is PHP its pages include (roundcube's config.inc.php,
    // phpMyAdmin's, DokuWiki's). A test: a `.php` pattern's only text would be `/etc/`.
    test: (_f, p) => p.endsWith('.php') && p.startsWith('/etc/') },
  // What programs load or start on their own, as the user: chat clients' autoloaded scripts
  // and plugins, nautilus-python's extensions, the Jupyter kernels a notebook starts (its argv).
  { id: 'tool-plugin', why: 'plugin, script or kernel a program loads or starts on its own (chat clients, file managers, Jupyter: as you)', paths: [
    /\/\.(weechat|local\/share\/weechat)\/[a-z]+\/autoload\//, /\/\.irssi\/scripts\/autorun\//, /\/\.purple\/plugins\//, /\/\.config\/hexchat\/addons\//,
    /\/\.local\/share\/nautilus-python\/extensions\//, /\/\.local\/share\/jupyter\/kernels\/[^/]+\/kernel\.json$/, /^\/usr\/(local\/)?share\/jupyter\/kernels\/[^/]+\/kernel\.json$/],
    harmless: notPlanted },
  // direnv runs an .envrc, mise a project's config, once its path (and content) is on these
  // lists or under direnv.toml's whitelisted prefixes: in the user's shell at the next cd.
  { id: 'trust-list', why: "direnv's or mise's trust list (the project config it names then runs in your shell when you cd there)", paths: [
    /\/\.local\/share\/direnv\/allow\//, /\/\.config\/direnv\/(direnv|config)\.toml$/, /\/\.local\/state\/mise\/trusted-configs\//], harmless: notPlanted },
  // A removed profile falls back to a wider default: a deletion counts.
  { id: 'firejail-profile', why: 'firejail profile (what a program firejail confines may reach)', paths: [/^\/etc\/firejail\//, /\/\.config\/firejail\//],
    harmless: neitherPlantedNorRemoved },
  // VPN configs' scripts run as root as the tunnel comes up or goes down: wg-quick's
  // PreUp/PostUp/PreDown/PostDown, OpenVPN's up/down/client-connect (and the scripts beside),
  // strongSwan's and libreswan's updown.
  { id: 'vpn-config', why: 'VPN config (its up and down scripts run as root with the tunnel)', paths: [
    /^\/etc\/(wireguard|openvpn|strongswan\.d|ipsec\.d|swanctl)\//, /^\/etc\/(strongswan|ipsec)\.conf$/], harmless: notPlanted },
  // ifupdown runs an interface's up/down lines as root at each ifup (boot too); pppd its
  // options' connect and init commands. Counted per dir (many): a mail or DNS server's package
  // puts the same hook in each of ifupdown's, ppp's and networkd-dispatcher's dirs. A hook
  // deleted counts (one that loads the firewall at ifup), a new dir alone runs nothing.
  { id: 'network-hook', why: 'network hook script (runs as root)', many: 'network hook scripts', harmless: neitherPlantedNorRemoved, paths: [/^\/(etc|usr\/lib)\/NetworkManager\/dispatcher\.d(\/|$)/, /^\/etc\/network\/if-[a-z-]+\.d(\/|$)/, /^\/etc\/dhcp\/dhclient-(enter|exit)-hooks\.d(\/|$)/,
    /^\/etc\/ppp\/(ip|ipv6)-(up|down)(\.d(\/|$)|$)/, /^\/etc\/ppp\/ip-pre-up$/, /^\/etc\/network\/interfaces(\.d\/|$)/, /^\/etc\/ppp\/(options$|peers\/)/,
    // networkd-dispatcher's scripts (each state change of a systemd-networkd link) and
    // resolvconf's update scripts (each change of the DNS servers); NetworkManager's VPN
    // service files (the program= it starts as root for a connection of that type) and
    // dhclient.conf (its `script` statement names the program run as root at each lease).
    /^\/(etc|usr\/lib)\/networkd-dispatcher\//, /^\/etc\/resolvconf\/update(-libc)?\.d(\/|$)/, /^\/(etc|usr\/lib)\/NetworkManager\/VPN\//, /^\/etc\/dhcp\/dhclient\.conf$/,
    // wpa_supplicant's and ifplugd's action scripts, the lease scripts of udhcpc and dhcp6c,
    // rdnssd's, miredo's and avahi-autoipd's hooks.
    /^\/etc\/(wpa_supplicant|ifplugd|udhcpc)\//, /^\/etc\/(wide-dhcpv6\/dhcp6c-script|rdnssd\/merge-hook|miredo\/client-hook|avahi\/avahi-autoipd\.action)$/] },
  // A deleted link or record runs nothing (the command's name then dangles, like a deleted
  // program, which is not marked either): a package's removal takes its alternatives with it.
  { id: 'alternatives', why: 'alternatives link (which program a command runs)', paths: [/^\/etc\/alternatives(\/|$)/, /^\/var\/lib\/dpkg\/alternatives(\/|$)/],
    harmless: (f) => timesOnly(f) || f.change === 'deleted' },
  // git init and clone copy the template dir into each new repository: a hook there runs in
  // every repository made later (samples excepted), its config is each one's config.
  { id: 'git-template', why: "git's repository template (every repository git init or clone makes later gets its hooks and config)", paths: [
    /^\/usr\/(local\/)?share\/git-core\/templates\/(hooks\/|config$|info\/)/], harmless: (f, p) => notPlanted(f) || p.endsWith('.sample') },
  // A submodule's git dir (.git/modules/NAME, nested) and a worktree's have hooks and config of their own.
  // Not git's samples (`hooks/NAME.sample`): git runs a hook only by its exact name, so the 14
  // samples every `git init` and clone writes can run nothing (they were 15 flagged lines of
  // each new repository's review, the hooks dir with them); they fold into the repository line.
  { id: 'git-hook', why: 'git hook', test: (f, p) => GIT_HOOK.test(p) && !(f.type === 'dir' && GIT_HOOKS_DIR.test(p)) && !(f.type === 'file' && GIT_SAMPLE.test(p)) },
  // Not a repository's config holding only what git init and clone write (format, filesystem
  // settings, remotes' urls and fetch refspecs, branches' upstreams: git-config.ts), read from
  // the layer: it was a flagged line of every new repository's review.
  { id: 'git-config', why: 'git configuration (can run commands)', paths: [
    /\/\.git\/((modules\/.+|worktrees\/[^/]+)\/)?config(\.worktree)?$/, /\/\.gitconfig$/, /\/\.config\/git\/(config|attributes)$/, /^\/etc\/git(config|attributes)$/],
    harmless: (f, p) => REPO_CONFIG.test(p) && contentIs(f, harmlessGitConfig) },
  // Where git reads a repository from: a `.git` file (`gitdir: PATH`), a worktree's commondir
  // and object alternates name another dir, whose config and hooks git then uses.
  { id: 'git-link', why: 'git dir link (git reads config and hooks from where it points)',
    test: (f, p) => f.change !== 'deleted' && f.type !== 'dir'
      && (p.endsWith('/.git') || ((p.endsWith('/commondir') || p.endsWith('alternates')) && GIT_LINK.test(p))) },
  // History the host has, rewritten behind the repository's folded line (git-history.ts):
  // after a commit `git status` is clean, `git fsck` passes (but for a written-over object) and
  // `git checkout` writes the sandbox's content. A new tag, a new object or pack (commit, fetch,
  // gc), an object's mtime (git freshens objects it writes again) and a deletion (but of a
  // loose ref over another packed line) stay folded.
  // A loose tag deleted whose packed line is older moves the tag too (refGone), as does `refs`
  // or `refs/tags` gone or turned into a file.
  { id: 'git-replace-ref', why: 'git replace ref (git shows and checks out another object in place of one)',
    paths: inGitDirs('refs\\/replace(\\/|$)'), harmless: (f) => !refRewrites(f) && !refGone(f) },
  { id: 'git-tag-moved', why: 'git tag moved to another commit (tags are not supposed to move)',
    paths: inGitDirs('refs(\\/tags(\\/|$)|$)'), harmless: (f) => !refRewrites(f) && !refGone(f) },
  { id: 'git-packed-refs', why: 'git packed-refs: a replace ref added or a tag moved (its diff says which)',
    paths: inGitDirs('packed-refs$'), harmless: (f) => !writesEntry(f) || !packedRefsRewrite(f.raw ?? '', f.upper) },
  { id: 'git-object-rewritten', why: 'git object or pack written over (objects never change: checkout would write other content)',
    paths: inGitDirs('objects\\/([0-9a-f][0-9a-f]\\/[0-9a-f]+|pack\\/pack-[0-9a-f]+\\.(pack|idx|rev|bitmap))$'),
    harmless: (f) => f.change !== 'modified' && f.change !== 'replaced' },
  // git opens a loose object, a pack, its index and the commit-graph and multi-pack-index
  // through a symlink (the objects dir, or one below it, too): what it reads is then outside the
  // layer, shown nowhere, and can change after the commit. git never writes one there (it
  // shares objects through alternates, flagged above).
  { id: 'git-object-symlink', why: 'git object store entry that is a symlink (git reads objects, packs and graphs through it: content the review does not show)',
    paths: inGitDirs('objects(\\/|$)'), harmless: (f) => f.type !== 'symlink' || !writes(f) },
  // info/attributes can name filters (commands), info/grafts rewrites history, info/exclude and
  // sparse-checkout change what git shows: all listed, never folded into the repository line.
  // info/refs is only update-server-info's list of refs for dumb transports.
  // An info/exclude of comments only (git's template, written by every init and clone) excludes nothing.
  { id: 'git-info', why: 'git repository settings (info/)', paths: [/\/\.git\/(modules\/.+\/)?info\/([^r/]|r$|r[^e/]|re$|re[^f/]|ref$|ref[^s/]|refs[^/])/],
    harmless: (f, p) => REPO_EXCLUDE.test(p) && contentIs(f, harmlessExclude) },
  // Not the copies packages carry (node_modules, site-packages): git does not read attributes there.
  { id: 'git-attributes', why: 'git attributes (can name filters that run commands)',
    test: (f, p) => f.change !== 'deleted' && p.endsWith('/.gitattributes') && !/\/(node_modules|site-packages|dist-packages)\//.test(p) },
  // Python imports a sitecustomize.pyc with no source beside it, and the cached
  // __pycache__/sitecustomize.cpython-311.pyc in place of its source; only from the dirs on
  // sys.path as it starts (site-packages, the stdlib's dir, Debian's /etc/python3.X that
  // /usr/lib/python3.X/sitecustomize.py links to), not from a package's own dirs (debugpy
  // vendors one for the processes it debugs).
  { id: 'python-startup', why: 'Python startup code (runs at every start of a Python that uses this site-packages)', paths: [/\/(site|dist)-packages\/[^/]+\.pth$/,
    /\/((site|dist)-packages|python[0-9][^/]*)\/(__pycache__\/)?(sitecustomize|usercustomize)(\.py|(\.[^/]+)?\.pyc)$/], harmless: inNewVenv },
  // CPython looks for pyvenv.cfg beside the executable it was started as (a venv's bin/python
  // is a symlink: not where it leads) and in the dir above it; the file's `home` then names
  // where that Python loads its standard library from. One beside a shared Python
  // (`/usr/pyvenv.cfg` for /usr/bin/python3, as root too) runs what it names at each start.
  // A project's venv is the project's code (its site-packages are plain too).
  { id: 'python-venv-config', why: "Python venv config beside a shared Python (its home names where that Python loads its standard library from)",
    test: (f, p, ctx) => p.endsWith('/pyvenv.cfg') && f.type !== 'dir' && writesOrOpens(f) && besideSharedPython(parentB(p), parentB(f.raw ?? p), ctx) },
  // Not with the python bytecode fold: a flagged entry keeps its diff and its `!`. Counted on
  // one summary line per tree (many): Python's first run in a checkout made outside the sandbox
  // writes one for each module it imports.
  { id: 'python-bytecode', why: 'bytecode Python runs in place of its source (it checks mtime and size, not that the code matches the .py)', many: 'bytecode files',
    test: (f, p) => p.endsWith('.pyc') && p.includes('/__pycache__/') && bytecodeOfHostSource(f) },
  // The same startup files where they live in a dir: tmux's XDG config (and /etc/tmux.conf),
  // direnv's rc and lib, gdb's system and XDG init files, IPython's startup scripts and config
  // (exec_lines). Perl: /etc/perl is first on Debian's @INC (its .pm shadow every module), and
  // a perl built with usesitecustomize runs sitecustomize.pl at each start.
  { id: 'rc-file', why: 'shell or tool startup file', paths: [
    /\/\.config\/tmux\/tmux\.conf$/, /^\/etc\/tmux\.conf$/, /\/\.config\/direnv\/(direnvrc$|lib\/)/,
    /^\/etc\/gdb\/gdb(early)?init(\.d(\/|$)|$)/, /\/\.config\/gdb\/gdb(early)?init$/,
    /\/\.ipython\/profile_[^/]+\/(startup\/|ipython_(kernel_)?config\.py$)/, /^\/etc\/perl\/(.+\.pm|sitecustomize\.pl|Net\/libnet\.cfg)$/,
    /\/\.julia\/config\/startup\.jl$/, /^\/(etc\/R|usr\/lib\/R\/etc)\/Rprofile\.site$/,
    // Jupyter's config files are Python it runs at each start; nushell's are its startup.
    /\/\.jupyter\/jupyter_[a-z_]+_config\.py$/, /^\/(etc|usr\/local\/etc)\/jupyter\/jupyter_[a-z_]+_config\.py$/, /\/\.config\/nushell\/(config|env|login)\.nu$/,
    // The other shells' startup files (xonsh's rc dirs, elvish's, PowerShell's profiles), and gh's
    // config (its `!` aliases are shell commands, its editor and pager programs it starts).
    // Go's user env (GOFLAGS' -toolexec runs a program in every build; GOPROXY and GONOSUMDB
    // say where modules come from, unchecked), sbt's global plugins and settings and Mix's
    // archives (loaded into every build), conan's hooks (run by every conan command).
    /\/\.config\/go\/env$/, /\/\.sbt\/[0-9.]+\/(plugins\/|global\.sbt$)/, /\/\.mix\/archives\//, /\/\.conan2?\/(extensions\/)?hooks\//,
    // Clojure's user deps.edn (its :deps join every project's classpath, where Clojure loads a
    // user.clj at start), rebar3's global config (its plugins load in every rebar3 run),
    // cabal's and stack's user config (the ghc and gcc programs they run, their package indexes).
    /\/\.clojure\/deps\.edn$/, /\/\.config\/clojure\/deps\.edn$/, /\/\.config\/rebar3\/rebar\.config$/, /\/\.cabal\/config$/, /\/\.config\/cabal\/config$/, /\/\.stack\/config\.yaml$/,
    /\/\.config\/xonsh\/rc\.(xsh$|d\/)/, /\/\.(config\/)?elvish\/rc\.elv$/, /\/\.config\/powershell\/([A-Za-z.]+_)?profile\.ps1$/, /\/\.config\/gh\/config\.yml$/,
    // Every user's readline (a macro bound to Return types a command into each bash line) and
    // screen rc; man-db's config (its `DEFINE pager` runs for anyone who reads a man page with
    // no PAGER set: checked); starship's custom modules are commands each prompt runs; mpv
    // loads its scripts (and those its config's `script=` names).
    /^\/etc\/(inputrc|screenrc|syslesskey|sysless|manpath\.config|man_db\.conf)$/, /\/\.config\/starship\.toml$/, /\/\.config\/lesskey$/, /\/\.config\/(mutt|neomutt)\//, /\/\.mutt\/muttrc$/,
    // The system-wide copies of tools' rc files: quilt's (shell), dput's and dupload's (hooks,
    // Perl), LibreOffice's launcher script and defaults (sourced by soffice; the macro security
    // level), mpv's scripts and config, ranger's.
    /^\/etc\/(quilt\.quiltrc|dput\.cf|dupload\.conf)$/, /^\/etc\/libreoffice\/(soffice\.sh$|sofficerc$|registry\/)/, /^\/etc\/mpv\/(scripts\/|mpv\.conf$)/, /^\/etc\/ranger\//,
    // Midnight Commander's file-type actions (run when a file is opened or viewed), byobu's
    // tmux profile and status rc, Hyper's plugins.
    /\/\.config\/mc\/mc\.ext(\.ini)?$/, /^\/etc\/mc\/mc\.ext(\.ini)?$/, /\/\.byobu\/(profile\.tmux|keybindings\.tmux|statusrc)$/, /\/\.config\/byobu\/(profile\.tmux|keybindings\.tmux|statusrc)$/,
    /\/\.hyper_plugins\//,
    // xdg-user-dir sources user-dirs.dirs with sh; Xsession loads every user's X resources.
    /\/\.config\/user-dirs\.dirs$/, /^\/etc\/X11\/Xresources\//, /^\/etc\/asound\.conf$/, /^\/usr\/share\/alsa\/.+\.conf$/, /\/\.config\/mpv\/(scripts\/|mpv\.conf$)/,
    // More tools' startup code and the commands their config names: Leiningen's profiles
    // (:injections), ranger's rc (its `shell` lines) and commands.py, R's Makevars (the
    // compilers of every package built from source), utop's, SWI-Prolog's, micro's and
    // kakoune's init (kakoune's %sh{} blocks), Doom Emacs's config, yt-dlp's (--exec) and
    // aria2's (on-download-complete) config, pylint's and ptpython's, jj's, Subversion's
    // (diff-cmd, editor-cmd, its ssh tunnel), the system mailcap (run-mailcap's and mail
    // clients' viewers), mise's global config (its env and hooks run in each shell), Ansible's
    // config (a vault password file that is a program) and plugin dirs, Nixpkgs' overlays and
    // config (they rewrite what every later nix build of the user builds).
    /\/\.lein\/profiles\.clj$/, /\/\.config\/ranger\/(rc\.conf$|commands\.py$|plugins\/)/, /\/\.R\/Makevars(\.[^/]+)?$/, /\/\.config\/utop\/init\.ml$/,
    /\/\.config\/swi-prolog\/init\.pl$/, /\/\.config\/micro\/(init\.lua$|plug\/)/, /\/\.config\/kak\/(kakrc$|autoload\/)/, /\/\.(doom\.d|config\/doom)\//,
    /\/\.config\/yt-dlp(\/config(\.txt)?|\.conf)$/, /\/\.config\/aria2\/aria2\.conf$/, /\/\.config\/pylintrc$/, /\/\.config\/ptpython\/config\.py$/,
    /\/\.config\/jj\/(config\.toml$|conf\.d\/)/, /\/\.subversion\/config$/, /^\/etc\/subversion\/config$/, /^\/etc\/mailcap(\.order)?$/,
    /\/\.config\/mise\/(config(\.[^/]+)?\.toml$|conf\.d\/)/, /\/\.ansible\.cfg$/, /^\/etc\/ansible\/ansible\.cfg$/, /\/\.ansible\/plugins\//,
    /\/\.config\/nixpkgs\/(config\.nix$|overlays(\.nix$|\/))/,
    // Their system-wide files (pbuilder's and sbuild's run as root), makepkg's (sourced bash);
    // helix's language servers and zed's (commands started on opening a file), neofetch's
    // config (bash), the file managers' startup commands (vifm, lf, yazi's Lua).
    /^\/etc\/(devscripts\.conf|pbuilderrc|sbuild\/sbuild\.conf|git-buildpackage\/gbp\.conf|makepkg\.conf|bazel\.bazelrc)$/, /\/\.config\/pacman\/makepkg\.conf$/,
    /\/\.config\/(helix\/languages\.toml|zed\/settings\.json|neofetch\/config\.conf|vifm\/vifmrc|lf\/lfrc|yazi\/init\.lua)$/],
    test: (_c, p) => startsWithDot(p) && RC_FILES.has(nameB(p)) && !p.startsWith('/etc/') && p.split('/').length >= 3, harmless: skelCopy },
  { id: 'setid', why: 'setuid/setgid program',
    test: (f) => f.change !== 'deleted' && f.type === 'file' && f.perm >= 0 && (f.perm & 0o6000) !== 0 },
  { id: 'file-caps', why: 'file capabilities',
    test: (f) => f.change !== 'deleted' && f.caps },
  { id: 'path-dir-writable', why: 'world-writable directory on PATH (anyone can plant commands)',
    test: (f, p, ctx) => f.change !== 'deleted' && f.type === 'dir' && f.perm >= 0 && (f.perm & 0o002) !== 0 && onPathDirs(p, ctx) },
  // Not a mode change: /usr/local/bin is group-writable (staff) on Debian.
  { id: 'path-dir-owner', why: 'directory on PATH given to another owner or group (who can then plant commands)',
    test: (f, p, ctx) => !!f.owner && f.type === 'dir' && onPathDirs(p, ctx) },
  // A PATH dir (or one above it) the sandbox made a symlink, or retargeted: every command is
  // then looked up where it points, none of which the review lists.
  { id: 'path-dir-symlink', why: 'directory on PATH made a symlink (commands are then found where it points)',
    test: (f, p, ctx) => f.type === 'symlink' && writes(f) && (onPathDirs(p, ctx) || HOME_BIN.test(p)) },
  { id: 'library-shadow', why: 'new shared library with the name of one the host has in another loader dir (programs may load it instead)',
    test: shadowsLibrary },
  { id: 'shared-library', why: 'shared library on the loader path',
    test: (f, p, ctx) => writesOrOpens(f) && isLibrary(f, p, ctx) },
  { id: 'path-shadow', why: 'new command with the name of a host command in another PATH dir (a PATH that lists this dir first runs it instead)',
    test: shadowsCommand },
  { id: 'path-command', why: 'command in PATH',
    test: (f, p, ctx) => writesOrOpens(f) && f.type !== 'dir' && (inPathDir(p, ctx) || inHomeBin(p)) },
  // The bin and shim dirs of a home's toolchains, which their shell startup lines put on PATH
  // (cargo, go, deno, bun, volta, nvm, pyenv, rbenv, asdf, mise, sdkman, ...), Go's own
  // /usr/local/go/bin, and snap's and flatpak's: on PATH in a login whatever PATH sbx itself
  // was started with (sudo's is reset).
  // A test, not patterns: a pattern's texts gate it, and a home's patterns can be gated only by
  // `/home/` (or `/root/`), which lets every path of a home through the filter to each rule in
  // turn (~3.5 us a path; a 200k-path review with 50k under /root/.npm took ~20% longer).
  // rustup's installer links a dozen commands to itself in ~/.cargo/bin: counted like new commands in PATH.
  { id: 'toolchain-bin', why: "command in a toolchain's bin dir (shell startup puts it on PATH)", many: 'toolchain commands',
    test: (f, p) => f.type !== 'dir' && writesOrOpens(f) && inToolBin(p) },
  { id: 'toolchain-tree', why: 'toolchain install (its interpreters, compilers, libraries and scripts run whenever the toolchain does)', many: 'toolchain files',
    test: (f, p) => f.type !== 'dir' && writesOrOpens(f) && inToolTree(p) },
  // Nix never changes a store path once made: profiles link to them, so an entry of one the
  // host has, changed, is every user's program changed. A new store path is inert until a
  // profile names it, and a profile's generation switched names other store paths; the
  // config's substituters and keys say where packages come from, its post-build-hook runs as
  // root, the flake registry what `nixpkgs` is. A new profile, or a store path garbage
  // collected whole, is ordinary.
  { id: 'nix-store', why: 'Nix store path changed in place (every profile that links to it runs what it now holds)', paths: [/^\/nix\/store\/[^/]/],
    harmless: (f) => f.raw !== undefined && (f.change === 'metadata' ? !f.access : f.change === 'added' ? !hostHasStorePath(f.raw) : f.change === 'deleted' && storePathOf(f.raw) === f.raw) },
  { id: 'nix-profile', why: 'Nix profile switched (which store paths its commands come from)', paths: [/^\/nix\/var\/nix\/profiles\//, /\/\.nix-profile$/, /\/\.local\/state\/nix\/profiles\//],
    harmless: (f) => f.change === 'added' || f.change === 'deleted' || timesOnly(f) },
  { id: 'nix-config', why: "Nix config (where packages come from and the keys trusted; post-build-hook runs as root)", paths: [/^\/etc\/nix\//, /\/\.config\/nix\/(nix\.conf|registry\.json)$/],
    harmless: notPlanted },
  // Tools' own config that names a command they run, or where they fetch code from: planted,
  // the next build, install or login on the host runs or installs what it says. Read in each
  // tool's docs (docs/security.md has the table). The per-user ones are matched in any home
  // (and, through sensitiveContext, where the host's environment moved them); a project's own
  // (.cargo/config.toml is flagged wherever it is: cargo reads the one of every dir above the
  // cwd and no ordinary cargo command writes one) is as ordinary as the project's
  // package.json scripts or build.rs, which run code at the next build anyway: `yarn set
  // version` writes a project .yarnrc.yml, so only the home one is flagged.
  { id: 'cargo-config', why: 'cargo config (can name a compiler wrapper, a runner, aliases or a replacement registry)', paths: [/\/\.cargo\/config(\.toml)?$/], harmless: notPlanted },
  { id: 'maven-config', why: 'Maven config (settings name mirrors and toolchains; mavenrc is shell run by every mvn)', paths: [
    /\/\.m2\/(settings|toolchains)\.xml$/, /^\/(etc\/maven|usr\/share\/maven\/conf)\/(settings\.xml|toolchains\.xml|m2\.conf)$/,
    /\/\.mavenrc$/, /^\/(usr\/local\/)?etc\/mavenrc$/], harmless: (f, p) => notPlanted(f) || (p.endsWith('/.mavenrc') && !HOME_MAVEN.test(p)) },
  { id: 'gradle-init', why: 'Gradle init script or user properties (run in every build; jvmargs can add a -javaagent)', paths: [/^\/usr\/share\/gradle\/init\.d\//, /\/\.gradle\/(init\.d\/[^/]+|init\.gradle(\.kts)?|gradle\.properties)$/], harmless: notPlanted },
  // Where a later restore or build takes packages from: NuGet's user config (its sources),
  // sbt's repositories (sbt's own resolvers, and every build's with sbt.override.build.repos),
  // a system Go's go.env (GOPROXY, GOSUMDB=off, GOTOOLCHAIN).
  { id: 'package-index-config', why: 'package manager config (can name where packages come from)', paths: [
    /\/\.nuget\/NuGet\/NuGet\.Config$/, /\/\.sbt\/repositories$/, /^\/usr\/(local\/)?lib\/go(-[0-9.]+)?\/go\.env$/], harmless: notPlanted },
  // Composer's global config and packages: the plugins in its global vendor dir load in every
  // composer command, its config can name the repositories packages come from.
  { id: 'composer-global', why: "Composer's global config or packages (its plugins load in every composer command)", many: 'Composer global files',
    paths: [/\/\.config\/composer\/(config\.json$|composer\.json$|vendor\/)/, /\/\.composer\/(config\.json$|composer\.json$|vendor\/)/], harmless: notPlanted },
  { id: 'pip-config', why: 'pip, setuptools or conda config (can name the index packages come from)', paths: [
    /\/\.config\/pip\/pip\.conf$/, /\/\.pip\/pip\.conf$/, /^\/etc\/(xdg\/pip\/)?pip\.conf$/, /\/\.pydistutils\.cfg$/, /condarc$/],
    harmless: (f, p) => notPlanted(f) || ((p.endsWith('.cfg') || p.endsWith('condarc')) && !HOME_PIP.test(p)) },
  // uv reads the user's and the system's uv.toml for every command, tools included; a
  // project's uv.toml is as much the project's as its pyproject.toml's [tool.uv] (not flagged).
  { id: 'uv-config', why: 'uv config (can name the index packages come from, and a Python or tool dir)', paths: [
    /\/\.config\/uv\/uv\.toml$/, /^\/etc\/(xdg\/)?uv\/uv\.toml$/], harmless: (f, p) => notPlanted(f) || (!p.startsWith('/etc/') && !HOME_UV.test(p)) },
  { id: 'js-config', why: 'yarn or pnpm user config (can name the registry and, yarnPath/yarn-path, the yarn that runs)', paths: [
    /\/\.yarnrc(\.yml)?$/, /\/\.config\/pnpm\/rc$/], harmless: (f, p) => notPlanted(f) || (!p.endsWith('/rc') && !HOME_YARN.test(p)) },
  // credsStore and credHelpers run docker-credential-NAME; cli-plugins are run as `docker NAME`.
  { id: 'docker-config', why: 'docker CLI config or plugin (credential helpers and plugins are commands it runs)', paths: [
    /\/\.docker\/(config\.json|cli-plugins\/)/, /^\/usr\/(local\/)?(lib|libexec)\/docker\/cli-plugins\//], harmless: notPlanted },
  // daemon.json's runtimes are programs dockerd runs as root; registries.conf and policy.json
  // say where images come from and which signatures they need.
  // A Kubernetes node runs its static pods' manifests as they are (a hostPath of / is root on
  // the node), and containerd, CRI-O and podman run the runtimes, OCI hooks and CNI plugins
  // their configs name, as root, at each container's start; certs.d is the CA docker trusts
  // for a registry.
  { id: 'container-config', why: 'container engine or Kubernetes node config (where images come from, their signature policy; runtimes, hooks, CNI plugins and static pods run as root)', paths: [
    /^\/etc\/docker\/(daemon\.json$|certs\.d\/)/, /^\/etc\/containers\/(registries\.conf(\.d\/|$)|registries\.d\/|policy\.json$|containers\.conf(\.d\/|$))/,
    /^\/etc\/(containerd|crio|nvidia-container-runtime|kubernetes|cni\/net\.d)\//, /^\/var\/lib\/kubelet\/config\.yaml$/, /^\/(opt\/cni\/bin|usr\/libexec\/cni|usr\/lib\/cni)\//,
    /^\/(etc|usr\/share)\/containers\/oci\/hooks\.d\//, /^\/usr\/libexec\/oci\/hooks\.d\//,
    /\/\.config\/containers\/(registries\.conf(\.d\/|$)|policy\.json$|containers\.conf$)/,
    // LXC's defaults for new containers (lxc.hook.* run at each start; as root for /etc's).
    /^\/etc\/lxc\//, /\/\.config\/lxc\/default\.conf$/, /^\/usr\/share\/lxc\/config\//], harmless: notPlanted },
  // A configuration management agent runs as root what its server sends: the server it trusts
  // (salt's master and its key, puppet's server, chef's server and certificates; chef's
  // client.rb is Ruby the agent runs) is who runs commands on this machine.
  { id: 'config-agent', why: 'configuration management agent config (the server it names runs commands here as root)', paths: [
    /^\/etc\/salt\/(minion(\.d\/|$)|pki\/minion\/)/, /^\/etc\/puppet(labs\/puppet)?\/(puppet\.conf$|ssl\/)/, /^\/etc\/chef\/(client\.(rb|d\/)|trusted_certs\/)/,
    // facter's executable facts (run as root at each puppet run), cfengine's policy.
    /^\/etc\/(puppetlabs\/)?facter\/facts\.d\//, /^\/(etc\/cfengine3|var\/cfengine\/(inputs|masterfiles))\//], harmless: notPlanted },
  // kubeconfig's users[].exec and the AWS CLI's credential_process are commands they run.
  { id: 'cloud-config', why: 'kubectl or AWS CLI config (its credential plugins are commands they run)', paths: [/\/\.kube\/config$/, /\/\.aws\/config$/],
    harmless: (f, p) => notPlanted(f) || !HOME_CLOUD.test(p) },
  // A repository's own .hg/hgrc (written by hg clone) is not here, as a clone's .git/config is not.
  { id: 'hg-config', why: 'Mercurial config (its hooks and extensions run code)', paths: [/\/\.hgrc$/, /\/\.config\/hg\/hgrc$/, /^\/etc\/mercurial\/hgrc(\.d\/|$)/],
    harmless: (f, p) => notPlanted(f) || (!p.startsWith('/etc/') && !HOME_HG.test(p)) },
  { id: 'npm-config', why: "npm's global config (can name the registry packages come from, and the shell scripts run in)", paths: [
    /^\/(etc|usr\/etc|usr\/local\/etc)\/npmrc$/], harmless: notPlanted },
  { id: 'session-env', why: 'session environment (environment.d: PATH, LD_PRELOAD for user services)', paths: [
    /\/\.config\/environment\.d\//, /^\/(etc|run|usr\/lib|usr\/local\/lib)\/environment\.d\//], harmless: notPlanted },
  // A display manager starts the chosen session's Exec= at each graphical login.
  // A thumbnailer's Exec= runs when a file manager shows a file of its type (a download too).
  { id: 'desktop-entry', why: 'desktop entry or thumbnailer (its Exec= runs when it is opened, or when a file manager shows a file of its type)', paths: [
    /\/\.local\/share\/applications\/.*\.desktop$/, /^\/usr\/(local\/)?share\/(applications|xsessions|wayland-sessions)\/.*\.desktop$/,
    /^\/usr\/(local\/)?share\/thumbnailers\//, /\/\.local\/share\/thumbnailers\//], harmless: notPlanted },
  // GNOME's settings databases and schema overrides: the command a custom key binding runs,
  // the shell extensions a login enables, whether inserted media autorun. The system's
  // (dconf's db and profile dirs, compiled by `dconf update`) apply to every user.
  { id: 'desktop-settings', why: 'desktop settings (the commands key bindings run, the shell extensions a login enables)', paths: [
    /^\/etc\/dconf\/(db|profile)\//, /\/\.config\/dconf\/user$/, /^\/usr\/(local\/)?share\/glib-2\.0\/schemas\/[^/]+\.gschema\.override$/,
    // The hotkey daemons' tables, where every binding is a command (sxhkd, xbindkeys), KDE's,
    // Xfce's and LXQt's shortcuts and sessions (the commands a login starts), Xfce's preferred
    // applications (a custom terminal is a command), SwayNC's notification scripts.
    /\/\.config\/sxhkd\/sxhkdrc$/, /\/\.xbindkeysrc(\.scm)?$/, /\/\.config\/(khotkeysrc|kglobalshortcutsrc)$/,
    /\/\.config\/xfce4\/xfconf\/xfce-perchannel-xml\/xfce4-(keyboard-shortcuts|session)\.xml$/, /\/\.config\/xfce4\/helpers\.rc$/,
    /\/\.config\/lxqt\/(globalkeyshortcuts|session)\.conf$/, /\/\.config\/swaync\/config\.json$/,
    // Text expanders and key remappers whose triggers run commands: espanso's shell
    // extensions, AutoKey's Python scripts, keyd's command() actions (as root).
    /\/\.config\/(espanso|autokey)\//, /^\/etc\/keyd\//], harmless: notPlanted },
  // What a desktop session runs at login: KDE sources plasma-workspace/env, GNOME Shell runs
  // its extensions' JavaScript, tiling window managers run their config's exec lines.
  { id: 'desktop-startup', why: 'desktop session startup (a login runs what it names: scripts, extensions, exec lines)', paths: [
    /\/\.config\/plasma-workspace\/(env|shutdown)\//, /\/\.local\/share\/gnome-shell\/extensions\//,
    /\/\.config\/(i3|sway|hypr|openbox|awesome|bspwm|qtile)\//,
    // The other sessions' and window managers' startup: LXDE's and labwc's autostart, river's
    // init (a program it runs), herbstluftwm's autostart, niri's spawn-at-startup, wayfire's
    // [autostart], Plasma 5's autostart-scripts; the bars they start run their config's exec
    // modules, dunst its rules' scripts, mako its on-notify and on-button actions (exec), conky
    // its exec and execi lines.
    /\/\.config\/(lxsession\/[^/]+\/autostart|labwc\/autostart|river\/init|herbstluftwm\/autostart|niri\/config\.kdl|wayfire\.ini|dunst\/dunstrc)$/,
    /\/\.config\/mako\/config$/, /\/\.conkyrc$/, /\/\.config\/conky\/[^/]+\.conf$/,
    // eww's widgets (its polls are commands) and AGS's config (JavaScript the shell runs).
    /\/\.config\/(eww|ags)\//,
    /\/\.config\/autostart-scripts\//, /\/\.config\/(polybar|waybar)\/config(\.ini|\.jsonc?)?$/, /^\/etc\/xdg\/(lxsession\/[^/]+\/autostart|openbox\/autostart|labwc\/autostart)$/,
    // GNOME runs each of these as Xwayland starts in the session.
    /^\/etc\/xdg\/Xwayland-session\.d\//,
    // xmonad compiles and runs its config (and lib/) at each login; dwm's, fluxbox's and
    // IceWM's startup scripts; Xfce's session script.
    /\/\.(config\/)?xmonad\//, /\/\.(dwm|local\/share\/dwm)\/autostart(_blocking)?\.sh$/, /\/\.fluxbox\/startup$/, /\/\.(icewm|config\/icewm)\/(startup|shutdown)$/,
    /\/\.config\/xfce4\/xinitrc$/, /^\/etc\/xdg\/xfce4\/xinitrc$/,
    // Plasma's widgets and Cinnamon's extensions, applets and desklets: code its shell loads.
    /\/\.local\/share\/plasma\/plasmoids\//, /\/\.local\/share\/cinnamon\/(extensions|applets|desklets)\//], harmless: notPlanted },
  // What a display manager runs as root around a login (GDM's Init, PostLogin, PreSession and
  // PostSession scripts; LightDM's and SDDM's setup scripts, which their config names; XDM's
  // Xsetup and Xstartup; Xreset, run as root as a session ends), who is logged in without a
  // password (AutomaticLogin, autologin-user), and the X server's config (ModulePath, Load:
  // modules it loads).
  { id: 'display-manager', why: 'display manager or X server config (scripts run as root around a login; modules the X server loads)', paths: [
    /^\/etc\/gdm3?\/((Init|PostLogin|PreSession|PostSession)\/|custom\.conf$|daemon\.conf$)/, /^\/usr\/share\/gdm\/greeter\/autostart\//, /^\/(etc|usr\/share)\/lightdm\/lightdm\.conf(\.d\/|$)/,
    /^\/etc\/sddm\.conf(\.d\/|$)/, /^\/usr\/(share|lib)\/sddm\/(scripts\/|sddm\.conf\.d\/)/, /^\/etc\/X11\/(xdm\/|wdm\/|xorg\.conf(\.d\/|$)|Xreset(\.d\/|$)|Xwrapper\.config$)/,
    /^\/usr\/share\/X11\/xorg\.conf\.d\//], harmless: notPlanted },
  // A terminal starts the shell its config names (kitty's shell and startup_session, Alacritty's
  // terminal.shell, foot's shell, Ghostty's command), and each includes other files of its dir
  // (kitty's themes kitten writes one its config includes); PipeWire runs its config's
  // context.exec.
  { id: 'terminal-config', why: 'terminal or audio server config (names the shell or programs it starts)', paths: [
    /\/\.config\/(kitty|alacritty|foot|ghostty|wezterm)\//,
    // Terminator's and Xfce Terminal's custom command, a Konsole profile's Command=, urxvt's
    // Perl extensions.
    /\/\.config\/(terminator\/config|xfce4\/terminal\/terminalrc|zellij\/config\.kdl)$/, /\/\.local\/share\/konsole\/[^/]+\.profile$/, /\/\.urxvt\/ext\//,
    // The daemons' own defaults in /usr/share too (the files whose context.exec they run; not
    // the rest, which every PipeWire upgrade rewrites by the dozen).
    /\/\.config\/pipewire\//, /^\/etc\/pipewire\//, /^\/usr\/share\/pipewire\/(pipewire|pipewire-pulse)\.conf$/,
    // PulseAudio's: client.conf's daemon-binary (what a client autospawns), default.pa's and
    // system.pa's modules (a TCP module with auth-anonymous lets anyone on the network listen).
    /^\/etc\/pulse\/(client\.conf(\.d\/|$)|default\.pa(\.d\/|$)|system\.pa$|daemon\.conf(\.d\/|$))/, /\/\.config\/pulse\/(client\.conf|default\.pa|daemon\.conf)$/], harmless: notPlanted },
  // A PKCS#11 module config names a library p11-kit loads into each program using it (GnuTLS's
  // and NSS's trust and token access), by any absolute path.
  { id: 'pkcs11-module', why: 'PKCS#11 module config (names a library loaded into programs using p11-kit: GnuTLS, NSS)', paths: [
    /^\/etc\/pkcs11\/(modules\/|pkcs11\.conf$)/, /^\/usr\/share\/p11-kit\/modules\//, /\/\.config\/pkcs11\/(modules\/|pkcs11\.conf$)/], harmless: notPlanted },
  // A browser's managed policies (Chrome's, Chromium's, Edge's, Brave's; Firefox's
  // policies.json) force-install extensions, add certificates and set proxies for every user; a
  // native messaging host manifest names a program the browser runs for an extension; a
  // Firefox profile's user.js sets prefs (a proxy, trusted roots) at each start.
  { id: 'browser-policy', why: 'browser policy, native messaging host or profile prefs (extensions it installs, programs it runs, proxies and certificates it trusts)', paths: [
    /^\/etc\/(opt\/(chrome|edge)|chromium|brave)\/(policies|native-messaging-hosts)\//, /^\/usr\/lib\/firefox(-esr)?\/distribution\/policies\.json$/, /^\/etc\/firefox(-esr)?\/policies\/policies\.json$/,
    /^\/usr\/lib(64)?\/mozilla\/native-messaging-hosts\//, /\/\.mozilla\/(native-messaging-hosts\/|firefox\/[^/]+\/user\.js$)/,
    /\/\.config\/(google-chrome|chromium|microsoft-edge|BraveSoftware\/Brave-Browser)\/NativeMessagingHosts\//,
    // Debian's chromium sources each file of /etc/chromium.d as shell at each start; Firefox
    // runs an autoconfig .cfg with full rights, reads Debian's /etc/firefox prefs, and a
    // profile's prefs, extensions, certificate db and PKCS#11 module list (libraries it loads).
    /^\/etc\/chromium\.d\//, /^\/usr\/lib\/firefox(-esr)?\/[^/]+\.cfg$/, /^\/etc\/firefox(-esr)?\/[^/]+\.js$/,
    /\/\.mozilla\/firefox\/[^/]+\/(prefs\.js$|extensions\/|cert[89]\.db$|pkcs11\.txt$)/,
    // The same of a Chromium-family profile: its extensions (code with access to the sites it
    // names), Preferences and Secure Preferences (which extensions load, unpacked ones by path).
    /\/\.config\/(google-chrome|chromium|microsoft-edge|BraveSoftware\/Brave-Browser|vivaldi)\/[^/]+\/(Extensions\/|Preferences$|Secure Preferences$)/,
    // Firefox's application and system extension dirs: in every profile of every user.
    /^\/usr\/lib\/firefox(-esr)?\/browser\/extensions\//, /^\/usr\/(lib|share)\/mozilla\/extensions\//], harmless: notPlanted },
  // Flatpak's overrides widen what a sandboxed app may reach (--filesystem=host, devices, sockets).
  { id: 'flatpak-override', why: 'Flatpak permission override (what a sandboxed app may reach: host files, devices, sockets)', paths: [
    /\/\.local\/share\/flatpak\/overrides\//, /^\/var\/lib\/flatpak\/overrides\//], harmless: notPlanted },
  // Terraform runs providers as programs: the CLI config's dev_overrides and plugin_cache_dir,
  // and the implied local mirrors, say which.
  { id: 'terraform-config', why: 'Terraform CLI config or local providers (the provider programs it runs)', paths: [
    /\/\.terraformrc$/, /\/\.terraform\.d\/plugins\//, /\/\.local\/share\/terraform\/plugins\//], harmless: notPlanted },
  // An editor extension is code the editor runs; VS Code's settings can name the shell and
  // environment of its terminals and the tools its extensions start, its key bindings can type
  // a command into the terminal (sendSequence). A project's settings and tasks too: opening a
  // trusted folder starts the programs they name (git.path, an interpreter, a folderOpen
  // task), and trust is not asked again when they change. The remote server (bin/, cli/) is
  // what the next remote connection runs.
  { id: 'ide-extension', why: 'editor extension or settings (VS Code runs its extensions; settings name the programs it starts)', many: 'editor extension files', paths: [
    /\/\.vscode(-server|-oss|-insiders)?\/extensions\//, /\/\.cursor\/extensions\//, /\/\.config\/(Code|Code - OSS|VSCodium|Cursor)\/User\/(settings|keybindings)\.json$/,
    /\/\.vscode\/(settings|tasks)\.json$/, /\/\.vscode-server(-insiders)?\/(bin|cli)\//, /\/\.cursor-server\/(bin|cli|extensions)\//], harmless: notPlanted },
  // What plugin managers install where the editor loads it at each start: neovim's data dir
  // (site/ is on its runtimepath; lazy.nvim's plugins), vim-plug's and Vundle's dirs, Emacs's
  // package dirs (package.el activates every one at start), Sublime Text's packages (Python),
  // JetBrains IDEs' plugins and their vmoptions (a -javaagent runs in the IDE), Zed's extensions.
  { id: 'editor-plugin', why: 'editor plugin (code the editor loads when it starts)', many: 'editor plugin files', paths: [
    /\/\.local\/share\/nvim\/(site|lazy)\//, /\/\.vim\/(plugged|bundle)\//, /\/(\.emacs\.d|\.config\/emacs)\/(elpa|straight)\//,
    /\/\.config\/sublime-text(-[0-9])?\/(Packages|Installed Packages)\//, /\/\.local\/share\/JetBrains\/[^/]+\//, /\/\.config\/JetBrains\/[^/]+\/[^/]+\.vmoptions$/,
    /\/\.local\/share\/zed\/extensions\//], harmless: notPlanted },
  // oh-my-zsh is zsh code every interactive zsh sources (its custom dir, plugins, themes).
  { id: 'zsh-framework', why: 'oh-my-zsh code (every interactive zsh sources it)', many: 'oh-my-zsh files', paths: [/\/\.oh-my-zsh\//], harmless: notPlanted },
  // The other shell frameworks and plugin managers (prezto, antigen, zplug, zinit, oh-my-bash,
  // bash-it, ble.sh), fzf's shell scripts and tmux's plugins (tpm runs them at tmux's start):
  // code the rc lines that installed them source in every interactive shell.
  { id: 'shell-plugin', why: 'shell framework or plugin code (every interactive shell, or tmux, runs it)', many: 'shell plugin files', paths: [
    /\/\.(zprezto|antigen|zplug|zinit|oh-my-bash|bash_it|fzf)\//, /\/\.local\/share\/(zinit|blesh)\//, /\/\.tmux\/plugins\//], harmless: notPlanted },
  // Each file of nvim's config dir is code it runs (init.lua, plugin/, lua/, after/); vim's
  // runtime dirs the same.
  { id: 'editor-startup', why: 'editor startup code (vim, neovim, emacs run it when they start)', paths: [
    // The system's, run for every user (root's vim too): vimrc and the runtime's plugin dirs,
    // neovim's sysinit, Emacs's site-start files. Debian's vim has /var/lib/vim/addons on its
    // runtimepath (vim-addon-manager links addons there from /usr/share/vim/addons, which is
    // not on it: a package's files there run only once linked).
    /^\/etc\/vim\//, /^\/usr\/share\/vim\/(vimrc|gvimrc)$/, /^\/usr\/share\/vim\/[^/]+\/(plugin|autoload|ftplugin|ftdetect|after|pack|syntax|indent|compiler|colors)\//,
    /^\/var\/lib\/vim\/addons\/(plugin|autoload|ftplugin|ftdetect|after|pack|syntax|indent|compiler|colors)\//,
    /^\/etc\/xdg\/nvim\//, /^\/usr\/share\/nvim\/(runtime\/plugin|site\/(plugin|pack))\//,
    /^\/etc\/emacs\/site-start\.d\//, /^\/usr\/(local\/)?share\/emacs\/site-lisp\/(site-start|default)\.elc?$/,
    /\/\.config\/nvim\//, /\/\.vim\/(vimrc|gvimrc|(plugin|autoload|ftplugin|ftdetect|after|pack|syntax|indent|compiler|colors)\/)/,
    /\/(\.emacs\.d|\.config\/emacs)\/(early-)?init\.elc?$/, /\/\.emacs\.elc?$/], harmless: (f, p) => notPlanted(f) || p.startsWith('/usr/share/vim/addons/') },
  // A project's .bundle/config is written by `bundle config set --local` (ordinary work).
  { id: 'ruby-config', why: 'RubyGems or Bundler user config (can name gem sources or a mirror)', paths: [
    /\/\.gemrc$/, /\/\.bundle\/config$/, /^\/etc\/gemrc$/], harmless: (f, p) => notPlanted(f) || (p !== '/etc/gemrc' && !HOME_RUBY.test(p)) },
  // wgetrc: output_document, dir_prefix and use_askpass (a command); curlrc: output, proxy, insecure.
  { id: 'fetch-config', why: 'wget or curl config (can name files they write, a proxy, a command: use_askpass)', paths: [
    /\/\.wgetrc$/, /\/\.curlrc$/, /^\/etc\/wgetrc$/], harmless: (f, p) => notPlanted(f) || (p !== '/etc/wgetrc' && !HOME_FETCH.test(p)) },
  // gpg-agent's pinentry-program, gpg's photo-viewer are commands; trust-model and keyserver
  // options decide what a signature check accepts.
  // Its keyrings and trust db too: a key added or trusted there makes a later `gpg --verify`
  // (or gpgv's trustedkeys) report a good signature on what its holder signed.
  { id: 'gnupg-config', why: "GnuPG config or keyring (programs it runs: pinentry, photo viewer; the keys and trust its signature checks accept)", paths: [
    /\/\.gnupg\/(gpg|gpg-agent|dirmngr|scdaemon|common)\.conf$/, /\/\.gnupg\/(pubring\.(kbx|gpg)|trustedkeys\.(kbx|gpg)|trustdb\.gpg)$/], harmless: notPlanted },
  // Python's user site dir (`pip install --user`) comes before the system's installed
  // packages on sys.path: a module there shadows the one of the same name. Counted on one
  // line (many): a --user install writes a package's files by the dozen. The pattern is the
  // bare /site-packages/ and the home is asked in `harmless` (HOME_GO's shape): a pattern's
  // own text must be one the filter needs.
  { id: 'user-site', why: "Python's user site-packages (imported before the system's installed modules)", many: 'user site-packages files',
    paths: [/\/site-packages\//], harmless: (f, p) => notPlanted(f) || !HOME_SITE.test(p) },
  // The system's library trees of the interpreters root and every user run: a module written
  // or changed there runs in whatever imports it, root's cron jobs and apt's hooks too (Debian's
  // apt-listchanges, unattended-upgrades and command-not-found are Python). Any version
  // (python3.11, python3.13t), /usr/local's and lib64's, Debian's multiarch perl dirs; a new
  // package's __pycache__ bytecode with it (python-bytecode, before, takes the bytecode of a
  // host source). Counted on one line per kind and tree (many): `apt-get install python3-x`
  // or a root `pip install` writes a package's files by the hundred, so a line each would
  // teach yes unread; --all lists each. Not a deletion, a dir or a time (notPlanted).
  // Tcl sources every pkgIndex.tcl in the immediate subdirs of each auto_path dir when a script
  // requires a package it has not loaded yet (Debian's auto_path: /usr/share/tcltk and its
  // tcl8.6, /usr/lib, /usr/lib/tcltk and its multiarch and tcl8.6 dirs, /usr/local's); checked:
  // a new /usr/share/tcltk/x/pkgIndex.tcl ran at `package require` of a missing package.
  { id: 'tcl-package', why: 'Tcl package index (every Tcl script that requires a package it has not loaded yet runs it)', many: 'Tcl package indexes',
    paths: [/^\/usr\/(local\/)?(share|lib)\/tcltk\/([^/]+\/)?[^/]+\/pkgIndex\.tcl$/, /^\/usr\/lib\/[^/]+\/pkgIndex\.tcl$/], harmless: notPlanted },
  { id: 'python-library', why: "Python library code (every Python on the host that imports it runs it, root's too)", many: 'Python library files',
    paths: [/^\/usr\/(local\/)?lib(64)?\/python[0-9][^/]*\//], harmless: notPlanted },
  // The multiarch dirs (/usr/lib/x86_64-linux-gnu/perl5) in a test: a pattern's gate would be
  // `/usr/lib/` or `/usr/local/lib/`, so the filter would pass every path under /usr/local/lib
  // and each /usr/lib path would run the pattern (a 50k-path review of either: 1.5x and 6x
  // the rules' time); the test asks a regexp only of a path holding `/perl` or `/ruby/`.
  { id: 'perl-library', why: "Perl library code (every perl on the host that loads it runs it, root's too)", many: 'Perl library files',
    paths: [/^\/usr\/(local\/)?(share|lib(64)?)\/perl(5|-base)?\//], harmless: notPlanted,
    test: (_f, p) => p.startsWith('/usr/') && p.includes('/perl') && MULTIARCH_PERL.test(p) },
  // Debian's `gem install` as root installs to /var/lib/gems; RHEL's to /usr/local/share/gems.
  { id: 'ruby-library', why: "Ruby library or gem (every ruby on the host that requires it runs it, root's too)", many: 'Ruby library files',
    // site_ruby (/usr/local/lib/site_ruby, its multiarch twin) comes first on Debian's $LOAD_PATH:
    // a json.rb there is every ruby's json.
    paths: [/^\/usr\/(local\/)?(share|lib(64)?)\/(ruby|gems|rubygems-integration)\//, /^\/var\/lib\/gems\//, /^\/usr\/local\/lib\/site_ruby\//], harmless: notPlanted,
    test: (_f, p) => p.startsWith('/usr/') && p.includes('ruby/') && MULTIARCH_RUBY.test(p) },
  // `npm install -g` (its commands in PATH are symlinks into these trees: a changed file of a
  // package is flagged nowhere else), and Debian's node-* packages' dirs, on node's default path.
  { id: 'node-library', why: "Node.js global module (node and the commands installed with it run it, root's too)", many: 'Node.js module files',
    paths: [/^\/usr\/(local\/)?lib\/node_modules\//, /^\/usr\/(local\/)?(share|lib)\/nodejs\//], harmless: notPlanted },
  // apt runs its methods (http, https, gpgv, ...), solvers and planners, and apt.systemd.daily
  // (its timer), as root: every apt-get update runs a written http method.
  { id: 'apt-helper', why: "apt's helper programs (apt runs them as root)", many: 'apt helper files',
    paths: [/^\/usr\/lib\/apt\//, /^\/usr\/lib\/dpkg\/methods\//], harmless: notPlanted },
  // A library or kernel module anywhere below the lib trees (the loader dirs themselves are
  // shared-library's): GIO, GTK, Qt, GStreamer and gdk-pixbuf modules, sudo's and PAM's
  // plugins, PKCS#11 and SASL modules are loaded from their dirs by every program that uses
  // them, a kernel module by its alias. A new one counts: being there is enough.
  { id: 'plugin-library', why: 'library or kernel module below a system lib dir (programs, or the kernel, load such files from their dirs)', many: 'plugin library files',
    test: (f, p) => writesOrOpens(f) && f.type !== 'dir' && p.includes('.') && PLUGIN_NAME.test(p) && inLibTree(p) },
  // glibc's iconv loads the modules its gconv-modules files name, an absolute path as it is,
  // into any program that converts text (pkexec's GCONV_PATH exploit loaded one so).
  { id: 'gconv', why: "glibc's iconv module list (names libraries any program that converts text loads)", paths: [
    /^\/(usr\/)?lib(64)?\/([a-z0-9_]+-linux-gnu\/)?gconv\/gconv-modules(\.d\/|\.cache$|$)/], harmless: notPlanted },
  // A module cache whose modules are named by path (gdk-pixbuf, GTK input methods): a line
  // naming a library elsewhere makes every program that reads it load that file.
  { id: 'module-cache', why: 'module cache naming a library outside the lib dirs (the programs that read it load that file)',
    test: (f, p) => writesEntry(f) && p.endsWith('.cache') && inLibTree(p) && !contentIs(f, moduleCacheOk, 1 << 20) },
  // Driver and layer manifests: each names a library (any path) that the loader puts into
  // every program using the API: a Vulkan implicit layer or ICD (games, browsers, compositors),
  // an OpenCL ICD, an EGL vendor or external platform.
  { id: 'driver-manifest', why: 'graphics or compute driver manifest (names a library every Vulkan, OpenCL or EGL program loads)', paths: [
    /^\/(etc|usr\/share|usr\/local\/share)\/vulkan\/(implicit_layer|icd)\.d\//, /\/\.local\/share\/vulkan\/(implicit_layer|icd)\.d\//, /^\/etc\/OpenCL\/vendors\//,
    /^\/(etc|usr\/share)\/glvnd\/egl_vendor\.d\//, /^\/(etc|usr\/share)\/egl\/egl_external_platform\.d\//], harmless: notPlanted },
  // An existing program there changed (systemd-logind, sftp-server, git's helpers, a JVM): what
  // runs it by path (a daemon, often as root) runs this instead. A new one runs only when
  // something names it, and that unit, service or config is marked by its own rule.
  { id: 'system-program', why: 'system program changed (what runs it, often as root, runs this instead)', many: 'system program files',
    test: (f, p) => writesOrOpens(f) && f.type !== 'dir' && f.change !== 'added' && (f.type === 'symlink' || (f.perm > 0 && (f.perm & 0o111) !== 0)) && inLibTree(p) },
  // A program the host's own configuration runs, wherever it is (host-jobs.ts: cron tables,
  // systemd units, udev rules, logrotate, ifupdown, PAM, sshd, acpid, sudoers):
  // `/srv/app/backup.sh` in root's crontab runs as root at its next time, a sudoers command
  // whenever its user asks. The host's tables are read at the first host entry changed, once.
  { id: 'host-job', why: "program the host runs on its own (its cron, systemd, udev, PAM, sshd or sudo config names it; as root for most)",
    test: (f) => (f.change === 'modified' || f.change === 'replaced' || (f.change === 'metadata' && !!f.access)) && f.type !== 'dir' && f.raw !== undefined && hostJobPrograms().has(f.raw) },
  // A new header, pkg-config file or CMake config that later builds take in place of the host's
  // of its name (the first on its search path wins); system-code below marks a host one changed.
  { id: 'build-shadow', why: 'new header, pkg-config or CMake package file with the name of one the host has later on its search path (later builds take this one instead)', many: 'build files named as the host\'s',
    test: shadowsBuildFile },
  // The code of an installed program in a tree no rule above names (gcloud's Python, lintian's
  // Perl, vim's defaults.vim, CMake's modules, a header, static library or pkg-config file every
  // later build compiles or links in): a host file of that kind changed runs, or is built in,
  // where its program is next used. A new one is used only where something names it (an
  // install adds thousands); a doc's example or a man page runs nothing.
  { id: 'system-code', why: "installed program's code changed (runs, or is built in, when it is next used)", many: 'installed code files',
    test: (f, p) => f.change !== 'added' && f.type === 'file' && writes(f) && inSystemTree(p) && CODE_FILE.test(p) },
  // The same for a home's ruby, node and perl (user-site's shape: the home asked in `harmless`).
  { id: 'user-library', why: "a home's Ruby gems, Node.js or Perl modules (that user's ruby, node and perl load them)", many: 'user library files',
    paths: [/\/\.gem\//, /\/\.local\/share\/gem\//, /\/\.node_(modules|libraries)\//, /\/perl5\/lib\/perl5\//], harmless: (f, p) => notPlanted(f) || !HOME_LIB.test(p) },
  // Package managers' caches and state that a later install on the host reads without
  // checking it again (docs/security.md has each manager's source). Last in the table, so a
  // setuid file or a command in PATH there keeps its own reason. Counted on one line per
  // cache and tree (many): an ordinary install or update writes them by the hundred. Not
  // what the manager checks against state the sandbox cannot change: npm's content-v2 (read
  // back only by the hash it is filed under). Deleting or touching an entry plants nothing.
  { id: 'apt-lists', why: 'apt package lists (a later apt-get install trusts them: their signature is checked only at update)', many: 'apt list files',
    paths: [/^\/var\/lib\/apt\/lists\//], harmless: (f, p) => !writesEntry(f) || APT_LISTS_OWN.test(p) },
  // apt 2.6 hands dpkg a .deb already in archives/ whose name and size match the lists
  // without checking its hash (tried: 13,172 zero bytes named sl_5.02-1+b1_amd64.deb reached
  // dpkg; another size was fetched again), so a planted one is installed as root.
  { id: 'apt-archives', why: "apt's downloaded packages (a later apt-get install uses a .deb of the listed name and size without checking its hash)", many: 'cached .deb files',
    paths: [/^\/var\/cache\/apt\/archives\/[^/]+\.deb$/], harmless: (f) => !writesEntry(f) },
  { id: 'pip-cache', why: "pip's cache (a later pip install uses its wheels and index pages as they are)", many: 'pip cache files',
    paths: [/\/\.cache\/pip\/(wheels|http|http-v2)\//], harmless: (f) => !writesEntry(f) },
  { id: 'npm-cache', why: "npm's cache index (a later npm install trusts the integrity it names)", many: 'npm cache index entries',
    paths: [/\/\.npm\/_cacache\/index-v5\//], harmless: (f) => !writesEntry(f) },
  { id: 'npx-cache', why: "npx's installed packages (a later npx runs them as they are)", many: 'npx package files',
    paths: [/\/\.npm\/_npx\//], harmless: (f) => !writesEntry(f) },
  { id: 'cargo-cache', why: "cargo's registry and git cache (a later build uses them as they are)", many: 'cargo cache files',
    paths: [/\/\.cargo\/registry\/(index|cache|src)\//, /\/\.cargo\/git\/(db|checkouts)\//], harmless: (f) => !writesEntry(f) },
  { id: 'go-mod-cache', why: 'Go module cache (a later build uses it as it is)', many: 'Go module cache files',
    paths: [/\/go\/pkg\/mod\//], harmless: (f, p) => !writesEntry(f) || !HOME_GO.test(p) },
  { id: 'maven-repo', why: "Maven's local repository (a later build uses its artifacts as they are)", many: 'Maven repository files',
    paths: [/\/\.m2\/repository\//], harmless: (f) => !writesEntry(f) },
  // The wrapper checks a distribution's hash (distributionSha256Sum, when the project sets one)
  // only as it downloads it; one already unpacked in wrapper/dists is what ./gradlew runs.
  { id: 'gradle-cache', why: "Gradle's wrapper distributions and dependency cache (./gradlew runs the one it finds; a later build uses the artifacts as they are)", many: 'Gradle cache files',
    paths: [/\/\.gradle\/(wrapper\/dists|caches\/modules-2\/files-2\.1|caches\/build-cache-1)\//], harmless: (f, p) => !writesEntry(f) || !HOME_GRADLE.test(p) },
  // uv installs from its cache without checking it again (wheels unpacked in archive-v*, built
  // ones, index pages), and runs the Pythons and tools it installed.
  { id: 'uv-cache', why: "uv's cache, Pythons and tools (a later uv install or uv run uses them as they are)", many: 'uv cache files',
    paths: [/\/\.cache\/uv\/(archive|wheels|sdists|simple|git)-v\d+\//, /\/\.local\/share\/uv\/(python|tools)\//], harmless: (f, p) => !writesEntry(f) || !HOME_UV.test(p) },
  // More package caches a later build takes as they are: Ivy's and Coursier's (sbt, mill,
  // scala-cli), NuGet's, Hex's, Dart's pub cache.
  { id: 'ivy-nuget-hex-cache', why: 'Ivy, Coursier, NuGet, Hex or pub package cache (a later build uses its packages as they are)', many: 'package cache files',
    paths: [/\/\.ivy2\/(cache|local)\//, /\/\.nuget\/packages\//, /\/\.hex\/packages\//, /\/\.cache\/coursier\/v1\//, /\/\.pub-cache\/(hosted|git)\//], harmless: (f) => !writesEntry(f) },
  // A container engine's own storage: its image layers and containers' files, which every
  // container started from them runs (docker's overlay2 dirs, containerd's content store,
  // podman's storage, a user's rootless one). Nothing inside a sandbox reaches the host's
  // engine, so an ordinary run writes none of it; a pull by a rootless podman inside counts as
  // one line per tree.
  { id: 'container-storage', why: "container engine storage (the images and containers it runs: a changed layer is in every container of that image)", many: 'container storage files',
    paths: [/^\/var\/lib\/(docker|containerd|containers\/storage)\//, /\/\.local\/share\/containers\/storage\//], harmless: (f) => !writesEntry(f) },
  // Caches a later build or run takes as they are (each tried by reading its tool's docs):
  // Go's build cache (compiled packages found by the hash of their inputs, their content not
  // checked again), yarn's, pnpm's and deno's package caches, ccache's and sccache's objects,
  // node-gyp's Node headers (every native addon compiles against them), pre-commit's hook
  // environments (run at each git commit) and model hubs' files (remote-code modules, pickled
  // weights and hubconf.py run at a later load). A download into them is ordinary work, so
  // each is one line per tree; their logs and notes are not.
  { id: 'go-build-cache', why: "Go's build cache (a later go build links the compiled packages it finds there as they are)", many: 'Go build cache files',
    paths: [/\/\.cache\/go-build\//], harmless: (f, p) => !writesEntry(f) || p.endsWith('/README') || p.endsWith('/trim.txt') },
  { id: 'js-package-cache', why: 'JavaScript package cache (yarn, pnpm, bun or deno: a later install or run uses it as it is)', many: 'JavaScript package cache files',
    paths: [/\/\.cache\/yarn\/v\d+\//, /\/\.local\/share\/pnpm\/store\//, /\/\.cache\/deno\/(deps|remote|npm)\//, /\/\.bun\/install\/cache\//, /\/\.yarn\/berry\/cache\//], harmless: (f) => !writesEntry(f) },
  { id: 'compiler-cache', why: 'compiler cache or headers (a later build reuses its objects, or compiles against them, as they are)', many: 'compiler cache files',
    paths: [/\/\.(cache\/)?ccache\//, /\/\.cache\/sccache\//, /\/\.cache\/node-gyp\/[^/]+\/include\//], harmless: (f, p) => !writesEntry(f) || p.endsWith('/stats') || p.endsWith('.log') },
  { id: 'hook-cache', why: "pre-commit's hook environments (a later git commit runs them)", many: 'pre-commit cache files',
    paths: [/\/\.cache\/pre-commit\//], harmless: (f, p) => !writesEntry(f) || p.endsWith('/pre-commit.log') },
  { id: 'model-cache', why: "model hub cache (a later load runs its code: remote-code modules, pickled weights, hubconf.py)", many: 'model cache files',
    paths: [/\/\.cache\/huggingface\/(hub|modules)\//, /\/\.cache\/torch\/hub\//], harmless: (f) => !writesEntry(f) },
  // path-dir-writable's reason for any entry: any local user can rewrite a world-writable
  // file (a script, a config) or replace what a dir holds after the commit, what the review
  // showed or not. Not a sticky dir (/tmp: each user only their own) nor a symlink (always
  // 777). Counted on one line per tree (many): `chmod -R 777` opens each entry of a tree.
  { id: 'world-writable', why: 'world-writable (any local user can change it after the commit)', many: 'world-writable entries',
    test: (f) => f.perm >= 0 && (f.perm & 0o002) !== 0 && (f.type === 'file' || (f.type === 'dir' && (f.perm & 0o1000) === 0)) && writesOrOpens(f) },
  // world-writable leaves out sticky dirs, /tmp's shape, which a sandbox may well make; but a
  // host dir made one is opened to every user: a sticky bit keeps each user from removing
  // another's entries, not from adding their own (a script in /etc/profile.d, a .pth in
  // dist-packages, a library in the loader's path), whatever code later looks there.
  { id: 'dir-opened', why: 'host directory opened to all users (sticky: anyone can add entries to it after the commit)', many: 'host directories opened to all users',
    test: (f) => !!f.opened && f.type === 'dir' && f.perm >= 0 && (f.perm & 0o1002) === 0o1002 },
  // A host dir made a symlink: whatever later writes into the dir by its name (a service's
  // log or cache dir, often as root) writes where the link points (`/var/log/app -> /etc/cron.d`).
  // Shown with its target either way; a symlink that was one, or a new one, is not this.
  { id: 'dir-symlink', why: 'directory made a symlink (what is later written into it goes where it points)',
    test: (f) => f.change === 'replaced' && f.type === 'symlink' && f.oldType === 'dir' },
  // Last: an entry an earlier rule matches keeps its reason (its line still names the owner).
  // Counted on one line per tree (many): a `chown -R` gives away each entry of a tree, though
  // only its top is flagged (owner.ts givenAway: the rest share their parent's owner), and
  // a tarball unpacked as root keeps its archive's owners on every file. An ordinary user's
  // review flags what root's commit of the sandbox would give away (owner.ts), which the
  // user's own commit cannot: its entries keep the user's ownership, as that commit warns.
  { id: 'other-owner', why: userReview() ? 'owned by another user inside (who can change it after a root commit; your own commit keeps it yours)' : 'owned by another user (who can change it after the commit)', many: 'entries of other users',
    test: (f) => !!f.givenAway },
  // The same for access granted by a POSIX ACL (`setfacl -m u:1000:rwx`, a default ACL on a
  // dir: what is made in it inherits the grant), after other-owner, whose line already names
  // the owner. Either commit applies the ACL (owner.ts aclGivesAccess), so one reason for both
  // reviews. Counted on one line per tree: `setfacl -R` gives each entry of a tree its ACL.
  { id: 'acl-grant', why: 'ACL grants another user or group access (which they keep after the commit)', many: 'entries with ACLs for other users',
    test: (f) => !!f.aclGrant },
];

// With the games dirs Debian's /etc/profile and login.defs put on every ordinary user's PATH:
// `apt-get install sl` as root (whose PATH lacks them) added /usr/games/sl unflagged.
const STANDARD_PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/games', '/usr/local/games'];

export interface SensitiveContext {
  /** Directories searched for commands: $PATH plus the standard ones. */
  pathDirs: Set<string>;
  /**
   * Where the host's environment moved a tool's dir or file, and the default the rules know
   * it by (a home's form, /root/...): [host path, default], longest host path first.
   */
  moved?: Array<[string, string]>;
  /** The dirs the host's ld.so.conf names (tests); else read from /etc/ld.so.conf once. */
  loaderDirs?: ReadonlySet<string>;
}

// The variables that move what the rules match in a home, and where each points by default.
const MOVED_BY: Array<[string, string]> = [
  ['XDG_CONFIG_HOME', '/root/.config'], ['XDG_CACHE_HOME', '/root/.cache'], ['XDG_DATA_HOME', '/root/.local/share'],
  ['PIP_CACHE_DIR', '/root/.cache/pip'], ['PIP_CONFIG_FILE', '/root/.config/pip/pip.conf'],
  ['npm_config_cache', '/root/.npm'], ['NPM_CONFIG_CACHE', '/root/.npm'], ['npm_config_userconfig', '/root/.npmrc'], ['NPM_CONFIG_USERCONFIG', '/root/.npmrc'],
  ['CARGO_HOME', '/root/.cargo'], ['GOMODCACHE', '/root/go/pkg/mod'], ['GRADLE_USER_HOME', '/root/.gradle'], ['DOCKER_CONFIG', '/root/.docker'],
  ['CONDARC', '/root/.condarc'], ['GNUPGHOME', '/root/.gnupg'], ['GEMRC', '/root/.gemrc'], ['BUNDLE_USER_CONFIG', '/root/.bundle/config'],
  ['WGETRC', '/root/.wgetrc'], ['UV_CACHE_DIR', '/root/.cache/uv'], ['UV_PYTHON_INSTALL_DIR', '/root/.local/share/uv/python'], ['UV_TOOL_DIR', '/root/.local/share/uv/tools'],
];
const HOME_FORM = /^\/(root|home\/[^/]+)$/;
const absDir = (d: string | undefined): string | null => {
  const t = d?.replace(/\/+$/, '');
  return t && t.startsWith('/') && !t.includes('/../') && !t.endsWith('/..') ? t : null;
};

export function sensitiveContext(env: NodeJS.ProcessEnv = process.env): SensitiveContext {
  const dirs = new Set(STANDARD_PATH_DIRS);
  for (const d of (env.PATH ?? '').split(':')) if (d.startsWith('/')) dirs.add(d.replace(/\/+$/, '') || '/');
  if (env.HOME) for (const d of ['.local/bin', 'bin']) dirs.add(`${env.HOME.replace(/\/+$/, '')}/${d}`);
  const moved: Array<[string, string]> = [];
  const add = (from: string | null, to: string): void => { if (from && from !== to) moved.push([from, to]); };
  // A HOME outside /root and /home/NAME (the home-anchored rules' form).
  const home = absDir(env.HOME);
  if (home && !HOME_FORM.test(home)) add(home, '/root');
  for (const [name, to] of MOVED_BY) add(absDir(env[name]), to);
  for (const d of (env.GOPATH ?? '').split(':')) add(absDir(d), '/root/go');
  // Each PYTHONPATH dir comes before the system's installed packages, as the user site does,
  // and Python imports a sitecustomize from it at every start.
  for (const d of (env.PYTHONPATH ?? '').split(':')) add(absDir(d), '/root/.local/lib/python3/site-packages');
  add(absDir(/-Dmaven\.repo\.local=(\S+)/.exec(env.MAVEN_OPTS ?? '')?.[1]), '/root/.m2/repository');
  const cr = absDir(env.CURL_HOME);
  if (cr) add(`${cr}/.curlrc`, '/root/.curlrc');
  // The system's config dirs: what each user's tools read where the user has no file of their
  // own (/etc/xdg/kitty/kitty.conf, /etc/xdg/waybar/config), so every user's.
  for (const d of (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':')) add(absDir(d), '/root/.config');
  moved.sort((a, b) => b[0].length - a[0].length);
  return moved.length ? { pathDirs: dirs, moved } : { pathDirs: dirs };
}

// The plain text every path pattern's match holds (literals.ts), as one small alternation:
// it turns away a path that holds none of it (nearly every path of a large review) with no
// pattern tried, and only the rules that test the change itself are then asked (in table
// order, so the first match still decides). A path it lets through meets each pattern's own
// texts first (a startsWith or an includes), and only a pattern whose text it holds is tried:
// V8 compiles a pattern when it is first tried, and the ~90 compiled for the first path under
// /etc or /usr/lib cost a small review ~3 ms. Reading the patterns costs ~5 ms of a cold
// start: the bundle carries the filter's source and the texts, made by this module's tsc
// output at build time (scripts/bundle.mjs).
declare const __SBX_SENSITIVE_FILTER__: string | undefined;
declare const __SBX_SENSITIVE_GATES__: string | undefined;
const PATTERNS = SENSITIVE_RULES.flatMap((r) => r.paths ?? []);
/**
 * The path filter: its regexp's source, and the texts it is made of when they are all of it
 * (null when a pattern the reader could not read is kept whole in it).
 */
export interface PathFilter { source: string; texts: { prefixes: string[]; infixes: string[] } | null }
/** The path filter, from the table (what the bundle carries). */
export function sensitiveFilter(): PathFilter {
  const parts = filterParts(PATTERNS);
  return { source: filterRegExp(parts).source, texts: parts.whole.length ? null : { prefixes: parts.prefixes, infixes: parts.infixes } };
}
/** Whether `p` starts with one of the filter's prefixes or contains one of its infixes (what its regexp matches). */
export const passesTexts = (t: NonNullable<PathFilter['texts']>, p: string): boolean =>
  t.prefixes.some((x) => p.startsWith(x)) || t.infixes.some((x) => p.includes(x));
/**
 * What a path must hold for one pattern to match it: it starts with one of `starts`, or
 * contains one of `holds`; null when nothing is known (the pattern is always tried).
 */
export type PatternGate = { starts: string[] } | { holds: string[] } | null;
/** Each path pattern's gate, in table order (what the bundle carries). */
export const sensitiveGates = (): PatternGate[] => PATTERNS.map((re) => {
  const n = neededText(re);
  return n?.prefixes ? { starts: n.prefixes } : n?.infixes ? { holds: n.infixes } : null;
});
let pathFilter: PathFilter | null = null;
let filterRe: RegExp | null = null;
let askedByTexts = 0;
// V8 compiles the filter's ~2.5 kB regexp when it first runs (~2 ms, and again to native code
// at its second run), which a review of a few changes did for its first path; the texts asked
// one by one cost ~25 us a path at first and stay ~5x slower than the compiled regexp a path
// once hot (in-process, 200k paths: ~1 s against ~0.19 s). So the first paths are asked by
// their texts, and the regexp is made for the rest.
const FIRST_BY_TEXTS = 16;
function passesFilter(p: string): boolean {
  if (filterRe === null) {
    pathFilter ??= typeof __SBX_SENSITIVE_FILTER__ === 'string' ? JSON.parse(__SBX_SENSITIVE_FILTER__) as PathFilter : sensitiveFilter();
    if (pathFilter.texts !== null && askedByTexts++ < FIRST_BY_TEXTS) return passesTexts(pathFilter.texts, p);
    filterRe = new RegExp(pathFilter.source);
  }
  return filterRe.test(p);
}
interface Gated { re: RegExp; gate: PatternGate }
/** Each rule's patterns with their gates (index for index with SENSITIVE_RULES), made when a path first gets past the filter. */
let gatedRules: Array<Gated[] | null> | null = null;
function makeGated(): Array<Gated[] | null> {
  const gates: PatternGate[] = typeof __SBX_SENSITIVE_GATES__ === 'string' ? JSON.parse(__SBX_SENSITIVE_GATES__) : sensitiveGates();
  if (gates.length !== PATTERNS.length) throw new Error("sensitive.ts: the bundle's pattern texts are not this table's");
  let k = 0;
  return SENSITIVE_RULES.map((r) => r.paths?.map((re) => ({ re, gate: gates[k++] ?? null })) ?? null);
}
/** A rule a path may match: its patterns with only the gate texts such a path can hold (none: the rule only tests). */
interface Candidate { rule: SensitiveRule; paths: Gated[] }
/**
 * The rules for paths of one stem (candidatesFor): all of them, the ones with a test, and
 * once narrowed, a regexp of every gate text they keep, whose miss leaves only the tests to
 * ask (null: not narrowed, or a pattern without texts, always tried).
 */
interface Candidates { all: Candidate[]; tests: Candidate[]; texts: RegExp | null; holds: RegExp | null; narrowed: boolean; uses: number }
const TESTS: Candidate[] = SENSITIVE_RULES.filter((r) => r.test).map((rule) => ({ rule, paths: [] }));
/** A path the filter turned away: only the rules with a test, no regexp to ask first. */
const TEST_ONLY: Candidates = { all: TESTS, tests: TESTS, texts: null, holds: null, narrowed: true, uses: 0 };
const escapeText = (x: string): string => x.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** One regexp that matches what passes any of these gates (none null); `holdsOnly`: of those that ask for a text anywhere. */
function gatesRegExp(gated: Gated[], holdsOnly = false): RegExp {
  const texts = new Set<string>();
  for (const { gate } of gated) {
    if (gate === null || (holdsOnly && 'starts' in gate)) continue;
    for (const x of 'starts' in gate ? gate.starts : gate.holds) texts.add('starts' in gate ? `^${escapeText(x)}` : escapeText(x));
  }
  return new RegExp([...texts].join('|') || '(?!)');
}
const ASCII = /^[\x00-\x7f]*$/;
const FACTS: SensitiveFacts = { change: 'added', type: 'file', perm: -1, caps: false, access: false, owner: false, givenAway: false, aclGrant: false, opened: false, upper: undefined, raw: '', layerDir: undefined, oldType: undefined };
const hasCaps = (c: Subject): boolean => !!c.xattrs?.some(([n]) => n === 'security.capability');

/** Whether path text `p` holds what `gate` asks of a path its pattern matches. */
export function passesGate(gate: PatternGate, p: string): boolean {
  if (gate === null) return true;
  // Indexed loops: a few paths run this in the interpreter, where for-of costs an iterator.
  if ('starts' in gate) {
    const t = gate.starts;
    for (let k = 0; k < t.length; k++) if (p.startsWith(t[k]!)) return true;
  } else {
    const t = gate.holds;
    for (let k = 0; k < t.length; k++) if (p.includes(t[k]!)) return true;
  }
  return false;
}

/** Whether a pattern matches p; `holds`: whether p holds any text a gate of its stem asks for anywhere (false: none of those gates passes). */
function matchesPaths(gated: Gated[], p: string, holds: boolean): boolean {
  for (let k = 0; k < gated.length; k++) {
    const gate = gated[k]!.gate;
    if ((holds || gate === null || 'starts' in gate) && passesGate(gate, p) && gated[k]!.re.test(p)) return true;
  }
  return false;
}

/**
 * The rules a path that got past the filter may match, in table order, with only the gates a
 * path of its stem can pass, and whether it has a dot dir (`/.`: a text with one in it, as
 * most of the home's are, cannot be in a path without). The stem is the path's first
 * component (a prefix text under another first dir cannot match) or, once PROMOTE_AFTER paths
 * came under that and then as many with the same first two components, those with the slash
 * after (`/usr/lib/`: a prefix text is kept when one of the two starts with the other), and
 * likewise the first three (`/usr/lib/node_modules/`) once PROMOTE_DEEP_AFTER came. A rule
 * with a test always stays. After as many paths, a stem's rules are narrowed (each gate keeps
 * only the texts its paths can hold) and their texts made one regexp: a path that holds none
 * of them (an npm cache's file, past the filter by its `/.` texts) is asked only the tests. A
 * 200k-path review of /usr/lib and cache trees asked each path ~340 texts one by one at first
 * (~1.1 s of its ~2 s; ~35 ns a text), ~100 by the first component alone; a review of a few
 * paths meets most stems once or twice, where narrowed lists and a regexp cost more than they
 * save. Deep stems are made up to STEMS_MAX, counted up to COUNTED_MAX. The third component
 * (2026-12-06): /usr/lib/'s rules kept 72 prefix texts, each a startsWith of ~50 ns that
 * shares `/usr/lib/` with the path (a 200k-change review of /usr/lib/node_modules: ~0.8 s);
 * and the texts a path may hold anywhere are asked once as one regexp before each of them.
 */
const candidatesUnder = new Map<string, Candidates>();
const deepSeen = new Map<string, number>();
const PROMOTE_AFTER = 64;
const STEMS_MAX = 2048;
const COUNTED_MAX = 16384;
const STEM_DEPTH = 3;
// A third component's narrowing (~0.1 ms) pays for itself over a few hundred paths, not 64: a
// review of 1000 dirs of 100 files each in /usr/share was ~10% slower narrowing each.
const PROMOTE_DEEP_AFTER = 256;
function candidatesFor(p: string, gated: Array<Gated[] | null>): Candidates {
  const dotted = p.includes('/.');
  const i1 = p.indexOf('/', 1);
  const top = i1 < 0 ? p : p.slice(0, i1);
  const topKey = dotted ? `${top}\0.` : top;
  let found = candidatesUnder.get(topKey);
  // Whether a path under this first component can start with x (exactly, as below).
  const canStart = (x: string): boolean => { const k = x.indexOf('/', 1); return k < 0 ? top.startsWith(x) : x.slice(0, k) === top; };
  if (!found) candidatesUnder.set(topKey, found = rulesFor(gated, dotted, canStart, false));
  else if (!found.narrowed && ++found.uses >= PROMOTE_AFTER) candidatesUnder.set(topKey, found = rulesFor(gated, dotted, canStart, true));
  if (!found.narrowed) return found;
  // Paths under a first component that came often enough: by their first two, once those did,
  // then by their first three.
  for (let i = i1, depth = 2; depth <= STEM_DEPTH; depth++) {
    const j = i < 0 ? -1 : p.indexOf('/', i + 1);
    if (j < 0) return found;
    const stem = p.slice(0, j + 1);
    const key = dotted ? `${stem}\0.` : stem;
    const deep = candidatesUnder.get(key);
    if (deep) { found = deep; i = j; continue; }
    if (candidatesUnder.size >= STEMS_MAX) return found;
    const seen = (deepSeen.get(key) ?? 0) + 1;
    if (seen < (depth === 2 ? PROMOTE_AFTER : PROMOTE_DEEP_AFTER)) {
      if (seen > 1 || deepSeen.size < COUNTED_MAX) deepSeen.set(key, seen);
      return found;
    }
    deepSeen.delete(key);
    // Whether a path of this stem can start with x (exactly: never a text it could start with left out).
    const made = rulesFor(gated, dotted, (x) => stem.startsWith(x) || x.startsWith(stem), true);
    candidatesUnder.set(key, made);
    return made;
  }
  return found;
}

/**
 * The rules whose gates a path can pass that starts as `canStart` allows and has a dot dir or
 * not, with those gates; `narrow`: each gate with only the texts such a path can hold, and
 * their regexp.
 */
function rulesFor(gated: Array<Gated[] | null>, dotted: boolean, canStart: (x: string) => boolean, narrow: boolean): Candidates {
  const canHold = (x: string): boolean => dotted || !x.includes('/.');
  const all: Candidate[] = [];
  let untexted = false;
  SENSITIVE_RULES.forEach((rule, i) => {
    const own = gated[i] ?? [];
    if (!narrow) {
      // Its gates as they are, when one can pass: what a review of a few paths asks.
      if (rule.test || own.some(({ gate }) => gate === null || ('starts' in gate ? gate.starts.some((x) => canHold(x) && canStart(x)) : gate.holds.some(canHold)))) all.push({ rule, paths: own });
      return;
    }
    const paths: Gated[] = [];
    for (const { re, gate } of own) {
      if (gate === null) { untexted = true; paths.push({ re, gate }); continue; }
      const narrowed: PatternGate = 'starts' in gate ? { starts: gate.starts.filter((x) => canHold(x) && canStart(x)) } : { holds: gate.holds.filter(canHold) };
      if (('starts' in narrowed ? narrowed.starts : narrowed.holds).length) paths.push({ re, gate: narrowed });
    }
    if (rule.test || paths.length) all.push({ rule, paths });
  });
  const gates = all.flatMap((c) => c.paths);
  return { all, tests: all.filter((c) => c.rule.test), texts: narrow && !untexted ? gatesRegExp(gates) : null, holds: narrow ? gatesRegExp(gates, true) : null, narrowed: narrow, uses: 0 };
}

function ruleAt(p: string, ctx: SensitiveContext): SensitiveRule | null {
  const c = passesFilter(p) ? candidatesFor(p, gatedRules ??= makeGated()) : TEST_ONLY;
  const list = c.texts === null || c.texts.test(p) ? c.all : c.tests;
  const holds = c.holds === null || c.holds.test(p);
  for (let k = 0; k < list.length; k++) {
    const r = list[k]!.rule;
    if ((matchesPaths(list[k]!.paths, p, holds) || (r.test !== undefined && r.test(FACTS, p, ctx))) && !r.harmless?.(FACTS, p)) return r;
  }
  return null;
}

// The rules that ask the context where PATH is: a moved dir's default form says nothing of it.
export const NOT_MOVED: ReadonlySet<string> = new Set(['sbx-install', 'path-dir-writable', 'path-dir-owner', 'path-dir-symlink', 'path-shadow', 'path-command']);

function ruleOf(raw: string, change: Change['change'], type: Change['type'], perm: number, caps: boolean, ctx: SensitiveContext, upper: string | undefined, access = false, owner = false, givenAway = false, layerDir?: string, oldType?: Change['type'], aclGrant = false, opened = false): SensitiveRule | null {
  const p = ASCII.test(raw) ? raw : toFs(raw).toString('utf8');
  const f = FACTS;
  f.change = change; f.type = type; f.perm = perm; f.caps = caps; f.upper = upper; f.access = access; f.owner = owner; f.givenAway = givenAway; f.aclGrant = aclGrant; f.opened = opened; f.raw = raw; f.layerDir = layerDir; f.oldType = oldType;
  const r = ruleAt(p, ctx);
  if (r || !ctx.moved) return r;
  // Asked again as where the tool's dir is by default (a few startsWith for an unflagged path,
  // none when the environment moved nothing).
  for (const [from, to] of ctx.moved) {
    if (p.startsWith(from) && (p.length === from.length || p.charCodeAt(from.length) === 0x2f)) {
      const m = ruleAt(to + p.slice(from.length), ctx);
      if (m && !NOT_MOVED.has(m.id)) return m;
    }
  }
  return null;
}

/** The first rule a change matches, or null. `path` is a byte string. */
export function sensitiveRule(c: Subject, ctx: SensitiveContext): SensitiveRule | null {
  const meta = c.change === 'metadata';
  return ruleOf(c.path, c.change, c.type, c.up ? c.up.perm : -1, hasCaps(c), ctx, c.upper,
    meta && !!c.details?.some((d) => d !== 'mtime'), meta && !!c.up && !!c.host && (c.up.uid !== c.host.uid || c.up.gid !== c.host.gid), !!c.givenAway, c.layerDir, c.oldType, !!c.aclGrant, meta && !!c.host && (c.host.perm & 0o002) === 0);
}

/** Why a change lands somewhere that runs code later, or null. `path` is a byte string. */
export function sensitiveReason(c: Subject, ctx: SensitiveContext): string | null {
  return reasonOf(sensitiveRule(c, ctx), c.change);
}

/**
 * sensitiveReason of a new regular file with no xattrs (the review's column entries), by its
 * byte path and mode, and its file in the upper layer when the caller has it (without it a
 * rule that reads the content keeps its mark).
 */
export function newFileReason(path: string, perm: number, ctx: SensitiveContext, upper?: string): string | null {
  return reasonOf(ruleOf(path, 'added', 'file', perm, false, ctx, upper), 'added');
}

const NEW_COMMAND = 'new command in PATH';
const NEW_LIBRARY = 'new shared library on the loader path';
// An alternatives link or record the host has none of comes with a package's new commands.
const NEW_ALTERNATIVE = 'new alternatives entry (for a name the host has no alternatives of)';
// New commands and libraries named as none the host has (path-shadow and library-shadow list
// those that are) come by the hundred with a package: counted per dir.
const MANY = new Map([...SENSITIVE_RULES.filter((r) => r.many).map((r): [string, string] => [r.why, r.many!]), [NEW_COMMAND, 'new commands'], [NEW_LIBRARY, 'new shared libraries'], [NEW_ALTERNATIVE, 'new alternatives entries']]);
/** What the summary counts a reason's entries as when it shows them on one line (SensitiveRule.many), or null. */
export const manyOf = (why: string): string | null => MANY.get(why) ?? null;
// Reasons whose entries' names say what came (`npm i -g cowsay`: cowsay and cowthink; which
// host header a new one stands in for): named each up to three to a line's dir.
const NAMED_FEW = new Set([NEW_COMMAND, NEW_LIBRARY, NEW_ALTERNATIVE, ...SENSITIVE_RULES.filter((r) => r.id === 'build-shadow' || r.id === 'new-completion' || r.id === 'toolchain-bin').map((r) => r.why)]);
/** The fewest entries of a reason the summary counts on one line: two, or four for NAMED_FEW's. */
export const manyLeast = (why: string): number => (NAMED_FEW.has(why) ? 4 : 2);

function reasonOf(r: SensitiveRule | null, change: Change['change']): string | null {
  if (!r) return null;
  if (r.id === 'path-command') return change === 'added' ? NEW_COMMAND : change === 'metadata' ? 'command in PATH: who may run or write it changed' : 'command in PATH changed';
  if (r.id === 'alternatives' && change === 'added') return NEW_ALTERNATIVE;
  if (r.id === 'shared-library' && change !== 'modified') return change === 'added' ? NEW_LIBRARY : change === 'metadata' ? 'shared library on the loader path: who may write it changed' : r.why;
  return r.why;
}
