import { afterEach, describe, expect, it } from 'vitest';
import { seedAcme, startTestServer, testAdminToken } from './server-test-harness.ts';
import { loggablePath } from './request-observer.ts';
import type { TestServer } from './server-test-harness.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function start(...args: Parameters<typeof startTestServer>) {
  const server = await startTestServer(...args);
  servers.push(server);
  return server;
}

describe('/metrics', () => {
  it('exposes process metrics and request counts labelled by route pattern, not raw path', async () => {
    const server = await start();
    const { zendesk, hubspot } = await seedAcme(server);
    await fetch(`${server.url}/api/v1/tenants/acme/installations/${zendesk.id}`);
    await fetch(`${server.url}/api/v1/tenants/acme/installations/${hubspot.id}`);
    await fetch(`${server.url}/no/such/${zendesk.id}`);
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain(
      'ledgerline_http_requests_total{method="GET",route="/api/v1/tenants/:tenant/installations/:id",status="200"} 2',
    );
    expect(text).toContain('ledgerline_http_requests_total{method="GET",route="unmatched",status="404"} 1');
    expect(text).toContain('ledgerline_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/v1/tenants/:tenant/installations/:id",status="200"}');
    expect(text).not.toContain(zendesk.id);
  });

  it('keeps each server’s counts in its own registry', async () => {
    const first = await start();
    const second = await start();
    await fetch(`${first.url}/healthz`);
    await fetch(`${first.url}/healthz`);
    const text = await (await fetch(`${second.url}/metrics`)).text();
    expect(text).not.toContain('route="/healthz"');
  });
});

describe('request log', () => {
  it('writes method, path, route, status and duration, without query strings or auth headers', async () => {
    const server = await start({ adminToken: testAdminToken });
    await fetch(`${server.url}/api/v1/tenants?access_token=leaky-query-secret`, {
      headers: { authorization: `Bearer ${testAdminToken}`, cookie: 'll_session=leaky-cookie' },
    });
    const lines = server.logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const entry = lines.find((l) => l.msg === 'request' && l.path === '/api/v1/tenants');
    expect(entry).toMatchObject({ method: 'GET', path: '/api/v1/tenants', route: '/api/v1/tenants', status: 200 });
    expect(entry?.durationMs).toEqual(expect.any(Number));
    const all = server.logLines.join('');
    for (const secret of ['leaky-query-secret', testAdminToken, 'leaky-cookie', 'access_token']) expect(all).not.toContain(secret);
  });
});

describe('logged paths', () => {
  it('redact secure report link tokens and long random segments, and keep ids', () => {
    expect(loggablePath('/reports/links/abc')).toBe('/reports/links/[redacted]');
    expect(loggablePath('/reports/links/q2V8xYl0n3Hc1vQ9w7Zk5pR4tU6aB8cD0eF2gH4iJ6k')).toBe('/reports/links/[redacted]');
    expect(loggablePath('/panels/assets/q2V8xYl0n3Hc1vQ9w7Zk5pR4tU6aB8cD0eF2gH4iJ6k.js')).toBe('/panels/assets/[redacted]');
    expect(loggablePath('/api/v1/tenants/acme/installations/0b6f4c1e-9d7a-4e0b-8a55-3c2f1e0d9b7a')).toBe('/api/v1/tenants/acme/installations/0b6f4c1e-9d7a-4e0b-8a55-3c2f1e0d9b7a');
    expect(loggablePath('/tenants/acme/reports')).toBe('/tenants/acme/reports');
  });
});
