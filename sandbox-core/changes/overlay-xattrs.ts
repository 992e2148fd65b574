// Which xattr names are data a change is made of (not overlayfs's own, not a security label):
// a module of its own so that the run's check for an empty answer (empty-scan.ts) reads them
// without loading the xattr helper's calls.

/** overlayfs's own bookkeeping attributes: never user data, never compared or committed. */
function isOverlayXattr(name: string): boolean {
  return name.startsWith('user.overlay.') || name.startsWith('trusted.overlay.') || name.startsWith('user.fuseoverlayfs.');
}

/**
 * An attribute the change list compares and a commit writes: not overlayfs's own, and not a
 * security module's label (security.selinux, security.SMACK64*, security.ima, ...). The host's
 * policy labels what it holds; a label set inside (root there may, where the kernel lets it:
 * security.selinux here) would be `sbx commit` relabelling a host file, as root, which the
 * review listed only as `(xattrs)` until 2026-12-06 (docs/security.md). File capabilities
 * stay: they are shown, flagged, and kept only with --keep-setuid.
 */
export function isDataXattr(name: string): boolean {
  return !isOverlayXattr(name) && (!name.startsWith('security.') || name === 'security.capability');
}
