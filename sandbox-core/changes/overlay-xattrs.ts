// Which xattr names are overlayfs's own: a module of its own so that the run's check for an
// empty answer (empty-scan.ts) reads them without loading the xattr helper's calls.

/** overlayfs's own bookkeeping attributes: never user data, never compared or committed. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('user.overlay.') || name.startsWith('trusted.overlay.') || name.startsWith('user.fuseoverlayfs.');
}
