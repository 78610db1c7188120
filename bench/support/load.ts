/**
 * A closed-loop HTTP load generator: `connections` workers over keep-alive sockets, each sending its
 * next request as soon as the previous answer has been read in full. Requests started during the
 * warm-up are not measured; every measured latency is kept (nanosecond clock), so percentiles are
 * exact rather than estimated from buckets. Any answer other than 2xx counts as an error.
 */
import { Agent, request } from 'node:http';
import { Worker } from 'node:worker_threads';

export interface LoadRequest {
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LoadOptions {
  /** http://host:port of the server. */
  readonly baseUrl: string;
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** The next request of a worker; called once per request, so it can vary (and sign) each one. */
  readonly next: (worker: number) => LoadRequest;
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Measured answers per second. */
  readonly throughput: number;
  /** The first few failures, to say what went wrong. */
  readonly errorSamples: readonly string[];
}

interface Answer {
  readonly status: number;
  /** The start of the body, kept only for failures. */
  readonly head: string;
}

function get(agent: Agent, base: URL, next: LoadRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: base.hostname, port: base.port, path: next.path, method: 'GET', headers: next.headers }, (res) => {
      const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
      // Read in full but left as bytes, as a load generator does: only a failure's start is decoded.
      const failed: Buffer[] = [];
      let kept = 0;
      res.on('data', (chunk: Buffer) => {
        if (!ok && kept < 300) {
          failed.push(chunk);
          kept += chunk.length;
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, head: Buffer.concat(failed).toString('utf8', 0, 300) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value at quantile q (nearest rank) of sorted values. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const base = new URL(options.baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const end = measureFrom + options.durationMs;
  let lastAnswer = measureFrom;
  try {
    await Promise.all(
      Array.from({ length: options.connections }, async (_, worker) => {
        while (performance.now() < end) {
          const measured = performance.now() >= measureFrom;
          const sent = process.hrtime.bigint();
          let failure: string | null = null;
          try {
            const answer = await get(agent, base, options.next(worker));
            if (answer.status < 200 || answer.status >= 300) failure = `HTTP ${answer.status}: ${answer.head}`;
          } catch (error) {
            failure = error instanceof Error ? error.message : String(error);
          }
          if (!measured) continue;
          latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
          lastAnswer = performance.now();
          if (failure !== null) {
            errors++;
            if (errorSamples.length < 5) errorSamples.push(failure);
          }
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  const sorted = Float64Array.from(latencies).sort();
  const seconds = (Math.max(lastAnswer, end) - measureFrom) / 1000;
  return {
    requests: sorted.length,
    errors,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    throughput: sorted.length / seconds,
    errorSamples,
  };
}

/** Where a worker thread finds the function that makes its requests: `module` exports `name(args)`. */
export interface RequestFactory {
  /** A file URL of the module. */
  readonly module: string;
  readonly name: string;
  /** Structured-cloneable arguments. */
  readonly args: unknown;
}

/**
 * `runLoad` in a worker thread, as a separate load generator (autocannon's kind) would: the server
 * under test keeps its event loop to itself. Rejects when the worker fails.
 */
export function runLoadInWorker(options: Omit<LoadOptions, 'next'> & { readonly factory: RequestFactory }): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./load-worker.ts', import.meta.url), { workerData: options });
    let result: LoadResult | null = null;
    worker.once('message', (message: LoadResult) => {
      result = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => (result ? resolve(result) : reject(new Error(`the load generator thread exited with code ${code} before reporting`))));
  });
}
