/**
 * Listening and stopping. close() stops accepting, ends idle keep-alive connections (fetch keeps
 * them open) and waits for in-flight requests, so tests and graceful shutdown do not hang.
 */
import type { AddressInfo } from 'node:net';
import { createApp } from './create-app.ts';
import type { AppOptions } from './create-app.ts';
import type { ServerDeps } from './server-deps.ts';

export interface RunningServer {
  /** http://host:port with the port actually bound (useful with port 0). */
  readonly url: string;
  close(): Promise<void>;
}

export interface ListenOptions extends AppOptions {
  readonly port: number;
  readonly host: string;
}

export async function startServer(deps: ServerDeps, options: ListenOptions): Promise<RunningServer> {
  const app = createApp(deps, options);
  const server = await new Promise<ReturnType<typeof app.listen>>((resolve, reject) => {
    const listening = app.listen(options.port, options.host, (error?: Error) => {
      if (error) reject(error);
      else resolve(listening);
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  deps.log.info({ url: `http://${host}:${address.port}` }, 'server listening');
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
