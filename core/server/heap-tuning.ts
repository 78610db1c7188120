/**
 * How V8 schedules full garbage collections in every Ledgerline command that opens the runtime
 * (serve and worker above all).
 *
 * Every panel view allocates memory outside the JavaScript heap: the zlib stream that inflates its
 * snapshot, socket reads, buffers of a few kilobytes. By default V8 starts a full mark-compact
 * whenever such external memory has grown by 64 MB since the last one, whatever the heap's size; at
 * a few thousand views a second that was one every half second, each stalling every request in
 * flight for 50-140 ms (while the concurrent marker also takes a core from PostgreSQL). Counting
 * external memory toward the same growing limit as the heap's own objects keeps those collections
 * as rare as the heap's size warrants (`npm run bench -- panel`: its p99 fell by a third).
 */
import { setFlagsFromString } from 'node:v8';

/** Call once, first thing, in a process that serves or works (before the heap grows). */
export function tuneHeapForServing(): void {
  setFlagsFromString('--external-memory-accounted-in-global-limit');
}
