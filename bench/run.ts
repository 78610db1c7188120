/**
 * `npm run bench -- <name> [options]`: runs one benchmark. Each prints progress on stderr and, as
 * its last line on stdout, one JSON object: {bench, metric, value, baseline, baselineValue, ratio}.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchResult {
  readonly bench: string;
  readonly metric: string;
  readonly value: number;
  readonly baseline: string;
  readonly baselineValue: number;
  readonly ratio: number;
  readonly [extra: string]: unknown;
}

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`Usage: npm run bench -- <name> [options]\nBenchmarks: ${available.join(', ') || '(none yet)'}`);
  process.exit(name ? 64 : 0);
}
const module = (await import(join(here, `${name}.bench.ts`))) as { run(args: string[]): Promise<BenchResult> };
const result = await module.run(args);
console.log(JSON.stringify(result));
