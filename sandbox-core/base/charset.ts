// Whether the terminal takes UTF-8, decided once per process from the locale, as the C library
// decides LC_CTYPE: sbx's own decorations (arrows, ellipses) are then ASCII, and the escaping
// in bpath.ts shows any other non-ASCII character as `\u{...}`, so a terminal in the C locale
// never gets bytes it cannot show.

/**
 * Is the locale's codeset UTF-8? LC_ALL overrides LC_CTYPE overrides LANG (an empty value is
 * unset, as for setlocale(LC_CTYPE, "")); none at all is the C locale. The codeset is what
 * follows the `.` (up to a `@modifier`): `C.UTF-8`, `en_US.utf8`. A name without one
 * (`en_US`, `C`, `POSIX`) is not taken as UTF-8: its default codeset is the system's to say,
 * and sbx does not read locale files for it.
 */
export function localeIsUtf8(env: NodeJS.ProcessEnv): boolean {
  const name = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  const dot = name.indexOf('.');
  if (dot < 0) return false;
  const at = name.indexOf('@', dot);
  return /^utf-?8$/i.test(name.slice(dot + 1, at < 0 ? undefined : at));
}

/** This process's answer: every decoration and the escaping ask it. */
export const UTF8 = localeIsUtf8(process.env);

/** `a → b`: a change from one state to another. */
export const ARROW = UTF8 ? '\u2192' : '->';
/** Something left out. */
export const ELLIPSIS = UTF8 ? '\u2026' : '...';
/** `×3`: how many times. */
export const TIMES = UTF8 ? '\u00d7' : 'x';
