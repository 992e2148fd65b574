// An ordinary user's PATH usually lacks the sbin directories, yet inside the command runs as
// root, and root's tools (dpkg wants ldconfig and start-stop-daemon) live there. Like sudo's
// secure_path, root inside gets them; SBX_ROOT_PATH, when set, is root's PATH verbatim.

/** sudo's default secure_path on Debian and Fedora, minus /snap/bin. */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The PATH the command gets: the user's, with the sbin dirs it lacks appended (root only). */
export function rootPath(path: string | undefined, insideUid: number, override: string | undefined): string | undefined {
  if (insideUid !== 0) return path;
  if (override !== undefined) return override;
  const dirs = (path ?? '/usr/local/bin:/usr/bin:/bin').split(':');
  const missing = SBIN_DIRS.filter((d) => !dirs.includes(d));
  return missing.length ? [...dirs, ...missing].join(':') : path;
}
