import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryTenants } from './in-memory-directories.ts';
import { startTestServer } from './server-test-harness.ts';
import type { TestServer } from './server-test-harness.ts';

let server: TestServer | undefined;
afterEach(() => server?.close());

const json = { 'content-type': 'application/json' };

/** A directory whose list() fails the way a driver does: an internal message with a stack. */
class BrokenTenants extends InMemoryTenants {
  override list(): never {
    throw new TypeError('relation "tenant" does not exist (host=db.internal password=hunter2)');
  }
}

/** What pg throws when the server goes away mid-request. */
class DroppedConnectionTenants extends InMemoryTenants {
  override list(): never {
    throw Object.assign(new Error('Connection terminated unexpectedly (10.0.0.5:5432)'), { code: '08006' });
  }
}

describe('error mapping on /api/v1', () => {
  it('maps a malformed JSON body to 400 LL_INVALID_INPUT', async () => {
    server = await startTestServer();
    const response = await fetch(`${server.url}/api/v1/tenants`, { method: 'POST', headers: json, body: '{"slug": "acme",' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { code: 'LL_INVALID_INPUT', message: 'The request body is not valid JSON.' } });
  });

  it('maps a zod failure to 400 LL_INVALID_INPUT with the field and the issues', async () => {
    server = await startTestServer();
    const response = await fetch(`${server.url}/api/v1/tenants`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ slug: 'Not A Slug', name: 'Acme' }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; field: string; issues: { path: string }[]; message: string } };
    expect(body.error.code).toBe('LL_INVALID_INPUT');
    expect(body.error.field).toBe('slug');
    expect(body.error.issues.map((i) => i.path)).toEqual(['slug']);
    expect(body.error.message).toMatch(/^Request body: slug: /);
  });

  it('refuses unknown fields in a strict body', async () => {
    server = await startTestServer();
    const response = await fetch(`${server.url}/api/v1/tenants`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ slug: 'acme', name: 'Acme', admin: true }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('LL_INVALID_INPUT');
  });

  it('maps an unknown route to 404 LL_NOT_FOUND, inside and outside the API', async () => {
    server = await startTestServer();
    for (const path of ['/api/v1/nothing-here', '/no/such/page']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('LL_NOT_FOUND');
    }
  });

  it('maps a duplicate tenant slug to 409 LL_CONFLICT', async () => {
    server = await startTestServer();
    const create = () =>
      fetch(`${server!.url}/api/v1/tenants`, { method: 'POST', headers: json, body: JSON.stringify({ slug: 'acme', name: 'Acme' }) });
    expect((await create()).status).toBe(201);
    const second = await create();
    expect(second.status).toBe(409);
    expect(await second.json()).toEqual({ error: { code: 'LL_CONFLICT', message: 'Tenant acme already exists.', field: 'slug' } });
  });

  it('maps a body over the limit to 413 LL_PAYLOAD_TOO_LARGE', async () => {
    server = await startTestServer({ jsonBodyLimit: '1kb' });
    const response = await fetch(`${server.url}/api/v1/tenants`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ slug: 'acme', name: 'x'.repeat(5000) }),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('LL_PAYLOAD_TOO_LARGE');
  });

  it('maps a non-JSON content type to 415 LL_UNSUPPORTED_MEDIA_TYPE', async () => {
    server = await startTestServer();
    const response = await fetch(`${server.url}/api/v1/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'slug=acme',
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('LL_UNSUPPORTED_MEDIA_TYPE');
  });

  it('maps a dropped database connection to 503 LL_UNAVAILABLE without the driver message', async () => {
    server = await startTestServer({ tenants: new DroppedConnectionTenants() });
    const response = await fetch(`${server.url}/api/v1/tenants`);
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'LL_UNAVAILABLE', message: 'A dependency (database, migrations) is not ready.' } });
    expect(text).not.toContain('10.0.0.5');
  });

  it('turns a thrown non-Ledgerline error into 500 LL_INTERNAL without its message or stack, and logs it', async () => {
    server = await startTestServer({ tenants: new BrokenTenants() });
    const response = await fetch(`${server.url}/api/v1/tenants`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'LL_INTERNAL', message: 'An unexpected internal error.' } });
    for (const leak of ['relation', 'hunter2', 'TypeError', 'at ', '.ts:']) expect(text).not.toContain(leak);
    const logged = server.logLines.join('');
    expect(logged).toContain('relation \\"tenant\\" does not exist');
    expect(logged).toContain('"stack"');
  });
});

describe('error pages on console routes', () => {
  it('renders an HTML error page, not JSON, for a missing installation', async () => {
    server = await startTestServer();
    await server.tenants.create({ slug: 'acme', name: 'Acme' });
    const missing = randomUUID();
    const response = await fetch(`${server.url}/tenants/acme/installations/${missing}`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('LL_NOT_FOUND');
    expect(html).toContain(`No installation ${missing} in tenant acme.`);
  });

  it('renders the error page for an unknown path when a browser asks for HTML', async () => {
    server = await startTestServer();
    const response = await fetch(`${server.url}/nowhere`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('<h1>404 — LL_NOT_FOUND</h1>');
  });

  it('renders a generic message for an internal error on a page', async () => {
    server = await startTestServer({ tenants: new BrokenTenants() });
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(500);
    const html = await response.text();
    expect(html).toContain('An unexpected internal error.');
    expect(html).not.toContain('hunter2');
  });
});
