import { afterEach, describe, expect, it } from 'vitest';
import { seedAcme, startTestServer } from './server-test-harness.ts';
import type { TestServer } from './server-test-harness.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function page(path: string) {
  const response = await fetch(`${server!.url}${path}`);
  return { status: response.status, html: await response.text(), headers: response.headers };
}

describe('console pages', () => {
  it('lists tenants and installation rows with platform, account, status, install time and sync state', async () => {
    server = await startTestServer();
    const { zendesk, hubspot } = await seedAcme(server);
    const { status, html } = await page('/');
    expect(status).toBe(200);
    expect(html).toContain('Acme Corp');
    expect(html.match(/<tr class="installation">/g)).toHaveLength(2);
    expect(html).toContain(`href="/tenants/acme/installations/${zendesk.id}"`);
    expect(html).toContain(`href="/tenants/acme/installations/${hubspot.id}"`);
    expect(html).toContain('Acme Support');
    expect(html).toContain('2026-10-01 09:30 UTC');
    expect(html).toContain('never synced');
    expect(html).toContain('succeeded · 2026-11-20 08:00 UTC');
  });

  it('renders with the production view cache on, twice in a row', async () => {
    server = await startTestServer({ env: 'production' });
    await seedAcme(server);
    for (const _ of [1, 2]) {
      const { status, html } = await page('/');
      expect(status).toBe(200);
      expect(html).toContain('Acme Support');
    }
  });

  it('serves the stylesheet with a long cache, and pages with no inline script or style', async () => {
    server = await startTestServer();
    const { html } = await page('/');
    const href = /<link rel="stylesheet" href="([^"]+)">/.exec(html)?.[1];
    expect(href).toMatch(/^\/public\/console\.css\?v=[0-9a-f]{12}$/);
    const css = await fetch(`${server.url}${href}`);
    expect(css.status).toBe(200);
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(html).not.toMatch(/<script|style=/);
  });

  it('escapes what it shows', async () => {
    server = await startTestServer();
    await server.tenants.create({ slug: 'evil', name: '<script>alert(1)</script>' });
    const { html } = await page('/');
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('shows an installation with an uninstall form carrying the CSRF token', async () => {
    server = await startTestServer();
    const { zendesk } = await seedAcme(server);
    const { status, html } = await page(`/tenants/acme/installations/${zendesk.id}`);
    expect(status).toBe(200);
    expect(html).toContain('acme.zendesk.com');
    expect(html).toContain('Zendesk Support');
    expect(html).toContain(`action="/tenants/acme/installations/${zendesk.id}/uninstall"`);
    expect(html).toMatch(/name="_csrf" value="[A-Za-z0-9_-]{43}"/);
  });

  it('lists plugins with scopes, panel locations and settings state', async () => {
    server = await startTestServer({ frameAncestors: ['https://*.zendesk.com'] });
    const { status, html } = await page('/plugins');
    expect(status).toBe(200);
    expect(html).toContain('tickets:read');
    expect(html).toContain('ticket_sidebar');
    expect(html).toMatch(/ZENDESK_CLIENT_SECRET<\/code> <span class="state state-missing">missing/);
    expect(html).toContain('https://*.zendesk.com');
  });

  it('lists every setting and whether it is set, never a secret value', async () => {
    const secretKey = Buffer.alloc(32, 7).toString('base64');
    server = await startTestServer({
      environment: { LOG_LEVEL: 'debug', LEDGERLINE_ENCRYPTION_KEY: secretKey, DATABASE_URL: 'postgres://app:pa55word@db/ledgerline' },
    });
    const { status, html } = await page('/settings');
    expect(status).toBe(200);
    expect(html).toContain('LEDGERLINE_ADMIN_TOKEN');
    expect(html).toMatch(/LOG_LEVEL<\/code><\/td>\s*<td><span class="state state-set">set<\/span><\/td>\s*<td><code>debug<\/code>/);
    expect(html).toMatch(/LEDGERLINE_ENCRYPTION_KEY<\/code><\/td>\s*<td><span class="state state-set">set<\/span><\/td>\s*<td><span class="muted">hidden/);
    expect(html).toMatch(/LEDGERLINE_ADMIN_TOKEN<\/code><\/td>\s*<td><span class="state state-not-set">not set/);
    expect(html).not.toContain(secretKey);
    expect(html).not.toContain('pa55word');
  });

  it('uninstalls through the form in development (no admin token) with the CSRF cookie', async () => {
    server = await startTestServer();
    const { zendesk } = await seedAcme(server);
    const detail = await fetch(`${server.url}/tenants/acme/installations/${zendesk.id}`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await detail.text())?.[1] ?? '';
    const cookie = detail.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const response = await fetch(`${server.url}/tenants/acme/installations/${zendesk.id}/uninstall`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({ _csrf: csrf }).toString(),
    });
    expect(response.status).toBe(303);
    const after = await page(`/tenants/acme/installations/${zendesk.id}`);
    expect(after.html).toContain('status-uninstalled');
    expect(after.html).not.toContain('action="/tenants/acme/installations');
  });
});
