// Writes dist/man/sbx.1 from the command definitions (package.json's `man` field installs it).
// Runs after tsc, from the compiled cli/.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { allDefinitions, manPage } = await import(join(root, 'dist/cli/man-page.js'));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// SOURCE_DATE_EPOCH (reproducible builds) when set, else today.
const date = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? 0) * 1000 || Date.now()).toISOString().slice(0, 10);
mkdirSync(join(root, 'dist', 'man'), { recursive: true });
writeFileSync(join(root, 'dist', 'man', 'sbx.1'), manPage(await allDefinitions(), version, date));
