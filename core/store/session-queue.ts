/**
 * The order in which the embedded database serves its connections' protocol messages.
 *
 * PGlite is one PostgreSQL session. pglite-socket hands it every frontend message as it arrives,
 * first come first served, keeping a connection to itself only while PGlite is inside an explicit
 * transaction. That is not enough for the extended query protocol: node-postgres sends Parse, Bind,
 * Describe, Execute and Sync as separate messages, and two connections' messages interleaved on
 * one session bind one query's parameters to the other's unnamed statement ("bind message supplies
 * 4 parameters, but prepared statement \"\" requires 7"). This queue gives the session to one
 * connection from its first message until the message that ends its exchange (Sync, a simple
 * Query, Terminate, or the startup packet) has been answered outside a transaction.
 */
import type { PGlite } from '@electric-sql/pglite';

interface Pending {
  readonly handlerId: number;
  readonly message: Uint8Array;
  readonly onData: (data: Uint8Array) => void;
  readonly resolve: (bytes: number) => void;
  readonly reject: (error: unknown) => void;
}

/** Frontend message types after which the connection gets a ReadyForQuery. */
const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'

function endsExchange(message: Uint8Array): boolean {
  const type = message[0];
  // Untyped packets (startup, SSL and cancel requests) start with their length's high byte, 0.
  return type === SYNC || type === QUERY || type === TERMINATE || type === 0;
}

/** The interface pglite-socket's connection handlers call. */
export class SessionQueue {
  private readonly queue: Pending[] = [];
  private processing = false;
  /** The connection the session belongs to until its exchange ends; null when free. */
  private owner: number | null = null;

  private readonly db: PGlite;

  constructor(db: PGlite) {
    this.db = db;
  }

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.processQueue();
    });
  }

  private next(): Pending | undefined {
    if (this.owner === null) return this.queue.shift();
    const index = this.queue.findIndex((p) => p.handlerId === this.owner);
    return index === -1 ? undefined : this.queue.splice(index, 1)[0];
  }

  async processQueue(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      for (let item = this.next(); item; item = this.next()) {
        this.owner = item.handlerId;
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
        } catch (error) {
          // The connection gets the error and is closed by its handler, which frees the session.
          item.reject(error);
          continue;
        }
        if (endsExchange(item.message) && !this.db.isInTransaction()) this.owner = null;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const item = this.queue[i]!;
      if (item.handlerId !== handlerId) continue;
      this.queue.splice(i, 1);
      item.reject(new Error('Handler disconnected'));
    }
  }

  /** A connection went away: roll back what it left open and give the session to the others. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    this.owner = null;
    await this.processQueue();
  }
}
