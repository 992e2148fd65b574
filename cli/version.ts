export { VERSION } from '../sandbox-core/version.js';
