// `sbx --version`: sbx's version, then the helper's and whether it is the one this sbx was
// built with. Checked by reading the helper binary, not by starting it, so that --version
// costs what Node's start costs; only a mismatch starts the helper to ask its version. Written
// to stdout as it is (not through cli/output.ts): what a file or the helper says goes through
// displayText here.
import { expectedHelperVersion, findHelper, helperBuildRecord, helperMatches, helperVersionOf, markStale } from '../sandbox-core/helper.js';
import { VERSION } from './version.js';
import { displayText } from '../sandbox-core/base/bpath.js';

export function versionText(): string {
  const want = expectedHelperVersion();
  let h = findHelper();
  let line: string;
  // Each check reads the binary up to its version string (~700 KB into the static helper):
  // once per helper, not once per question.
  let matches = h !== null && helperMatches(h.path);
  if (h && h.origin === 'package' && !matches) {
    // The package's helper is from another build: the cached one is what a run would use.
    const other = helperVersionOf(h.path);
    markStale(h);
    const cached = findHelper();
    if (cached && helperMatches(cached.path)) { h = cached; matches = true; }
    else {
      line = `helper ${displayText(other ?? 'unknown')} does not match ${want} (${displayText(h.path)}): the next run rebuilds it into your cache`;
      return `sbx ${VERSION}\n${line}\n`;
    }
  }
  if (!h) line = `helper ${want} not built yet: the first run builds it (sbx doctor builds and checks it now)`;
  else if (matches) {
    const rec = helperBuildRecord(h.path);
    line = `helper ${want}, matches (${displayText(h.path)}${rec ? `, built by ${displayText(rec.by)}` : ''})`;
  } else {
    line = `helper ${displayText(helperVersionOf(h.path) ?? 'unknown')} does not match ${want} (${displayText(h.path)}): rebuild it (npm run build) or remove it`;
  }
  return `sbx ${VERSION}\n${line}\n`;
}
