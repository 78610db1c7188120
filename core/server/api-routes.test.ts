import { afterEach, describe, expect, it } from 'vitest';
import { errorCodes } from '../errors/index.ts';
import { samplePlugins, seedAcme, startTestServer } from './server-test-harness.ts';
import type { TestServer } from './server-test-harness.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Listed {
  readonly id: string;
  readonly slug: string;
}

/** Response bodies are read loosely here: the assertions are the schema. */
async function getJson(path: string, init?: RequestInit) {
  const response = await fetch(`${server!.url}${path}`, init);
  const body = (await response.json()) as {
    tenants: Listed[];
    installations: Listed[];
    installation: { status: string; uninstalledAt: string | null };
    error: { code: string; field?: string };
    errors: unknown[];
  };
  return { status: response.status, body };
}

describe('tenants', () => {
  it('creates a tenant and lists it', async () => {
    server = await startTestServer();
    const created = await fetch(`${server.url}/api/v1/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ slug: 'acme', name: '  Acme Corp  ' }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/tenants/acme');
    const { tenant } = (await created.json()) as { tenant: { slug: string; name: string; createdAt: string } };
    expect(tenant).toMatchObject({ slug: 'acme', name: 'Acme Corp' });
    expect(new Date(tenant.createdAt).toISOString()).toBe(tenant.createdAt);
    const listed = await getJson('/api/v1/tenants');
    expect(listed.body.tenants.map((t) => t.slug)).toEqual(['acme']);
  });
});

describe('installations are scoped by tenant', () => {
  it('lists only the tenant’s installations', async () => {
    server = await startTestServer();
    const { zendesk, hubspot } = await seedAcme(server);
    const other = await server.tenants.create({ slug: 'globex', name: 'Globex' });
    server.installations.add({ tenantId: other.id, platform: 'shopify', platformAccountId: 'globex.myshopify.com', accountName: null, scopes: [] });
    const { status, body } = await getJson('/api/v1/tenants/acme/installations');
    expect(status).toBe(200);
    expect(body.installations.map((i) => i.id).sort()).toEqual([zendesk.id, hubspot.id].sort());
  });

  it('returns one installation with its sync state, "never synced" being nulls', async () => {
    server = await startTestServer();
    const { zendesk } = await seedAcme(server);
    const { status, body } = await getJson(`/api/v1/tenants/acme/installations/${zendesk.id}`);
    expect(status).toBe(200);
    expect(body).toEqual({
      tenant: 'acme',
      installation: {
        id: zendesk.id,
        platform: 'zendesk',
        platformAccountId: 'acme.zendesk.com',
        accountName: 'Acme Support',
        status: 'active',
        installedAt: '2026-10-01T09:30:00.000Z',
        uninstalledAt: null,
        scopes: ['read'],
        sync: { status: null, lastSyncedAt: null },
      },
    });
  });

  it('answers 404 LL_NOT_FOUND for another tenant’s installation, exactly as for an unknown one', async () => {
    server = await startTestServer();
    const { zendesk } = await seedAcme(server);
    await server.tenants.create({ slug: 'globex', name: 'Globex' });
    const foreign = await getJson(`/api/v1/tenants/globex/installations/${zendesk.id}`);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('LL_NOT_FOUND');
    const foreignUninstall = await getJson(`/api/v1/tenants/globex/installations/${zendesk.id}/uninstall`, { method: 'POST' });
    expect(foreignUninstall.status).toBe(404);
    expect((await server.installations.find(zendesk.tenantId, zendesk.id))?.status).toBe('active');
  });

  it('answers 404 for an unknown tenant and 400 for a malformed slug', async () => {
    server = await startTestServer();
    expect((await getJson('/api/v1/tenants/nobody/installations')).status).toBe(404);
    const bad = await getJson('/api/v1/tenants/Not_A_Slug/installations');
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('tenant');
    await server.tenants.create({ slug: 'acme', name: 'Acme' });
    const badId = await getJson('/api/v1/tenants/acme/installations/not-a-uuid');
    expect(badId.status).toBe(400);
    expect(badId.body.error.field).toBe('id');
  });

  it('uninstalls, idempotently', async () => {
    server = await startTestServer();
    const { zendesk } = await seedAcme(server);
    const first = await getJson(`/api/v1/tenants/acme/installations/${zendesk.id}/uninstall`, { method: 'POST' });
    expect(first.status).toBe(200);
    expect(first.body.installation.status).toBe('uninstalled');
    expect(first.body.installation.uninstalledAt).toEqual(expect.any(String));
    const again = await getJson(`/api/v1/tenants/acme/installations/${zendesk.id}/uninstall`, { method: 'POST' });
    expect(again.body.installation.uninstalledAt).toBe(first.body.installation.uninstalledAt);
  });
});

describe('reference endpoints', () => {
  it('lists the loaded plugins', async () => {
    server = await startTestServer({ frameAncestors: ['https://*.zendesk.com'] });
    const { body } = await getJson('/api/v1/plugins');
    expect(body).toEqual({ plugins: samplePlugins, frameAncestors: ['https://*.zendesk.com'] });
  });

  it('publishes the error taxonomy', async () => {
    server = await startTestServer();
    const { body } = await getJson('/api/v1/errors');
    expect(body.errors).toHaveLength(Object.keys(errorCodes).length);
    expect(body.errors).toContainEqual({
      code: 'LL_NOT_FOUND',
      status: 404,
      retryable: false,
      summary: errorCodes.LL_NOT_FOUND.summary,
    });
  });
});
