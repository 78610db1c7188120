import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer } from './server-test-harness.ts';
import type { TestServer } from './server-test-harness.ts';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer({ adminToken: 'an-admin-token-that-is-long-enough' });
});
afterEach(() => server.close());

describe('/healthz', () => {
  it('answers 200 ok while the process is alive, without auth, even when the database is down', async () => {
    server.readiness.databaseUp = false;
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });
});

describe('/readyz', () => {
  it('answers 200 when the database pings and no migrations are pending', async () => {
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok' } });
  });

  it('answers 503 LL_UNAVAILABLE naming the database check, without the driver error text', async () => {
    server.readiness.databaseUp = false;
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      error: { code: 'LL_UNAVAILABLE', message: 'The database does not answer.', field: 'database' },
      checks: { database: 'failed', migrations: 'skipped' },
    });
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('ECONNREFUSED');
  });

  it('answers 503 LL_UNAVAILABLE naming the migrations check when migrations are pending', async () => {
    server.readiness.pending = ['Migration20261122000000', 'Migration20261123000000'];
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      error: { code: 'LL_UNAVAILABLE', message: '2 database migrations are pending.', field: 'migrations' },
      checks: { database: 'ok', migrations: 'failed' },
    });
  });

  it('calls the database down when the ping hangs past the timeout', async () => {
    server.readiness.ping = () => new Promise(() => {});
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(503);
    expect(((await response.json()) as { checks: unknown }).checks).toEqual({ database: 'failed', migrations: 'skipped' });
  });
});
