/**
 * `npm run bench [-- NAME...]`: runs every bench/*.bench.ts (or those whose name contains one of
 * the given words) one after another, each printing its own p50/p99 table.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = (await readdir(dir))
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();

let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file} ===`);
  const started = performance.now();
  // Each benchmark starts without the previous one's garbage (npm run bench exposes gc).
  (globalThis as { gc?: () => void }).gc?.();
  try {
    const module = (await import(pathToFileURL(path.join(dir, file)).href)) as { run: () => Promise<void> };
    await module.run();
  } catch (error) {
    failed += 1;
    console.error(`${file} failed: ${(error as Error).stack ?? error}`);
  }
  console.log(`(${file}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
process.exit(failed > 0 ? 1 : 0);
