/**
 * The load generator's thread: runs `runLoad` with the request factory named in its worker data,
 * so the generator never shares an event loop with the server it measures.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runLoad, type LoadOptions, type LoadRequest, type RequestFactory } from './load.ts';

interface WorkerInput extends Omit<LoadOptions, 'next'> {
  readonly factory: RequestFactory;
}

const input = workerData as WorkerInput;
const factories = (await import(input.factory.module)) as Record<string, unknown>;
const make = factories[input.factory.name];
if (typeof make !== 'function') throw new Error(`${input.factory.module} exports no request factory '${input.factory.name}'`);
const next = (make as (args: unknown) => () => LoadRequest)(input.factory.args);
const { factory: _factory, ...options } = input;
parentPort!.postMessage(await runLoad({ ...options, next }));
