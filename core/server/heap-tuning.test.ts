import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const tuning = fileURLToPath(new URL('./heap-tuning.ts', import.meta.url));

/** A process that allocates 440 MB of short-lived 11 KB buffers (what panel views do), and the reasons V8 gave for starting each full collection. */
function collectionReasons(tuned: boolean): string[] {
  const script = `
    ${tuned ? `const { tuneHeapForServing } = await import(${JSON.stringify(tuning)}); tuneHeapForServing();` : ''}
    const kept = [];
    for (let i = 0; i < 40000; i++) {
      kept.push(Buffer.allocUnsafe(11000));
      if (kept.length > 100) kept.shift();
      if (i % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }`;
  const out = execFileSync(process.execPath, ['--trace-incremental-marking', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return [...out.matchAll(/\[IncrementalMarking\] Start \(([^)]+)\)/g)].map((m) => m[1]!);
}

describe('heap tuning for serving', () => {
  it('keeps short-lived buffers outside the heap from forcing full collections as external memory pressure', () => {
    expect(collectionReasons(false)).toContain('external memory pressure');
    expect(collectionReasons(true)).not.toContain('external memory pressure');
  });
});
