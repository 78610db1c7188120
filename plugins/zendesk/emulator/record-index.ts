/**
 * Records in (modification second, id) order, the order of Zendesk's incremental exports: a sorted
 * base built once from the generated data (two typed arrays, so 200,000 tickets cost 3 MB) plus the
 * records changed while the emulator runs, kept apart and merged in while reading.
 */

export interface Position {
  readonly ts: number;
  readonly id: number;
}

export interface SortedRecords {
  readonly ts: Float64Array;
  readonly ids: Float64Array;
}

const compare = (a: Position, b: Position): number => a.ts - b.ts || a.id - b.id;

/** Sorts parallel arrays of (second, id) by second, then id. */
export function sortRecords(ts: Float64Array, ids: Float64Array): SortedRecords {
  const order = new Uint32Array(ts.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => (ts[a] ?? 0) - (ts[b] ?? 0) || (ids[a] ?? 0) - (ids[b] ?? 0));
  const sortedTs = new Float64Array(ts.length);
  const sortedIds = new Float64Array(ts.length);
  order.forEach((from, to) => {
    sortedTs[to] = ts[from] ?? 0;
    sortedIds[to] = ids[from] ?? 0;
  });
  return { ts: sortedTs, ids: sortedIds };
}

export class RecordIndex {
  private base: SortedRecords | null = null;
  private readonly build: () => SortedRecords;
  /** id → its current second, for records changed (or added) after the base was generated. */
  private readonly changed = new Map<number, number>();
  private changedSorted: Position[] | null = null;

  constructor(build: () => SortedRecords) {
    this.build = build;
  }

  /** Builds the base now rather than on the first read. */
  prepare(): void {
    this.base ??= this.build();
  }

  /** Records that a record now sits at `ts` (a change moves it to the end of the export). */
  set(id: number, ts: number): void {
    this.changed.set(id, ts);
    this.changedSorted = null;
  }

  /** Every record strictly after `from`, in order; a record changed since the base is only read at its new place. */
  *after(from: Position): Generator<Position> {
    this.prepare();
    const { ts, ids } = this.base ?? { ts: new Float64Array(0), ids: new Float64Array(0) };
    let lo = 0;
    let hi = ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare({ ts: ts[mid] ?? 0, id: ids[mid] ?? 0 }, from) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.changedSorted ??= [...this.changed].map(([id, at]) => ({ ts: at, id })).sort(compare);
    const moved = this.changedSorted;
    let j = moved.findIndex((p) => compare(p, from) > 0);
    if (j < 0) j = moved.length;
    let i = lo;
    for (;;) {
      while (i < ts.length && this.changed.has(ids[i] ?? 0)) i++;
      const b = i < ts.length ? { ts: ts[i] ?? 0, id: ids[i] ?? 0 } : null;
      const m = moved[j] ?? null;
      if (b === null && m === null) return;
      if (m !== null && (b === null || compare(m, b) < 0)) {
        yield m;
        j++;
      } else if (b !== null) {
        yield b;
        i++;
      }
    }
  }
}
