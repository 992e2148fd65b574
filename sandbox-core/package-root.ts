// Where this sbx is installed, for the helper's build and the review's rule for sbx's own files.
import { fileURLToPath } from 'node:url';

/**
 * The package's root, no trailing slash. Both layouts keep this module two directories deep:
 * the tsc output (dist/sandbox-core/package-root.js) and the bundle (dist/bin/*.js).
 */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/+$/, '') || '/';
