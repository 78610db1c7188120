import { afterEach, describe, expect, it } from 'vitest';
import { seedAcme, startTestServer, testAdminToken } from './server-test-harness.ts';
import type { TestServer } from './server-test-harness.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const cookieValue = (setCookies: string[], name: string) =>
  setCookies.find((c) => c.startsWith(`${name}=`))?.split(';')[0]?.slice(name.length + 1);

const hiddenCsrf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];

/** GET /login, as a browser would, to obtain the CSRF cookie and field. */
async function openLoginPage(url: string) {
  const response = await fetch(`${url}/login?next=%2Fsettings`);
  expect(response.status).toBe(200);
  const csrf = cookieValue(response.headers.getSetCookie(), 'll_csrf');
  expect(csrf).toBeDefined();
  expect(hiddenCsrf(await response.text())).toBe(csrf);
  return csrf!;
}

function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

async function signIn(url: string) {
  const csrf = await openLoginPage(url);
  const response = await postForm(`${url}/login`, { token: testAdminToken, next: '/settings', _csrf: csrf }, { cookie: `ll_csrf=${csrf}` });
  const session = cookieValue(response.headers.getSetCookie(), 'll_session');
  return { csrf, session: session!, cookie: `ll_csrf=${csrf}; ll_session=${session}` };
}

describe('API bearer token', () => {
  it('refuses a request without a token with 401 and a Bearer challenge', async () => {
    server = await startTestServer({ adminToken: testAdminToken });
    const response = await fetch(`${server.url}/api/v1/tenants`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('LL_UNAUTHENTICATED');
  });

  it('refuses a wrong token of any length', async () => {
    server = await startTestServer({ adminToken: testAdminToken });
    for (const wrong of ['x', testAdminToken.slice(0, -1) + 'X', testAdminToken + 'extra']) {
      const response = await fetch(`${server.url}/api/v1/tenants`, { headers: { authorization: `Bearer ${wrong}` } });
      expect(response.status).toBe(401);
    }
  });

  it('accepts the right token', async () => {
    server = await startTestServer({ adminToken: testAdminToken });
    const response = await fetch(`${server.url}/api/v1/tenants`, { headers: { authorization: `Bearer ${testAdminToken}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ tenants: [] });
  });

  it('keeps /healthz, /readyz and /metrics open', async () => {
    server = await startTestServer({ adminToken: testAdminToken });
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await fetch(`${server.url}${path}`)).status).toBe(200);
  });

  it('leaves the API open, and the console says so, when no token is configured', async () => {
    server = await startTestServer();
    expect((await fetch(`${server.url}/api/v1/tenants`)).status).toBe(200);
    expect(await (await fetch(`${server.url}/`)).text()).toContain('Admin authentication is off');
  });
});

describe('console login', () => {
  it('redirects a page request without a session to /login, keeping where it was going', async () => {
    server = await startTestServer({ adminToken: testAdminToken });
    const response = await fetch(`${server.url}/plugins`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/login?next=%2Fplugins');
  });

  it('refuses a wrong token and sets no session', async () => {
    server = await startTestServer({ adminToken: testAdminToken });
    const csrf = await openLoginPage(server.url);
    const response = await postForm(`${server.url}/login`, { token: 'wrong', _csrf: csrf }, { cookie: `ll_csrf=${csrf}` });
    expect(response.status).toBe(401);
    expect(cookieValue(response.headers.getSetCookie(), 'll_session')).toBeUndefined();
    const html = await response.text();
    expect(html).toContain('That token is not valid.');
    expect(html).not.toContain('Sign out');
  });

  it('refuses an address after ten wrong tokens with 429 and Retry-After, even with the right token, and sets no session', async () => {
    server = await startTestServer({ adminToken: testAdminToken });
    const csrf = await openLoginPage(server.url);
    for (let i = 0; i < 10; i += 1) {
      expect((await postForm(`${server.url}/login`, { token: `wrong-${i}`, _csrf: csrf }, { cookie: `ll_csrf=${csrf}` })).status).toBe(401);
    }
    const refused = await postForm(`${server.url}/login`, { token: testAdminToken, _csrf: csrf }, { cookie: `ll_csrf=${csrf}` });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(800);
    expect(cookieValue(refused.headers.getSetCookie(), 'll_session')).toBeUndefined();
  });

  it('behind a trusted proxy, throttles the client the proxy names, not the proxy itself; without trust, the forwarded address is ignored', async () => {
    const failFrom = (forwardedFor: string, csrf: string) =>
      postForm(`${server!.url}/login`, { token: 'wrong', _csrf: csrf }, { cookie: `ll_csrf=${csrf}`, 'x-forwarded-for': forwardedFor });
    server = await startTestServer({ adminToken: testAdminToken, trustProxy: 1 });
    let csrf = await openLoginPage(server.url);
    for (let i = 0; i < 10; i += 1) expect((await failFrom('198.51.100.7', csrf)).status).toBe(401);
    expect((await failFrom('198.51.100.7', csrf)).status).toBe(429);
    expect((await failFrom('198.51.100.8', csrf)).status).toBe(401);
    await server.close();
    server = await startTestServer({ adminToken: testAdminToken });
    csrf = await openLoginPage(server.url);
    for (let i = 0; i < 10; i += 1) expect((await failFrom(`198.51.100.${i}`, csrf)).status).toBe(401);
    // Every attempt came from the same TCP peer, whatever the header said.
    expect((await failFrom('198.51.100.200', csrf)).status).toBe(429);
  });

  it('sets an HttpOnly, SameSite=Strict session cookie for the right token and lets the console in', async () => {
    server = await startTestServer({ adminToken: testAdminToken });
    const csrf = await openLoginPage(server.url);
    const response = await postForm(`${server.url}/login`, { token: testAdminToken, next: '/settings', _csrf: csrf }, { cookie: `ll_csrf=${csrf}` });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/settings');
    const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('ll_session='))!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toMatch(/Secure/);
    expect(setCookie).not.toContain(testAdminToken);
    const session = cookieValue([setCookie], 'll_session');
    const page = await fetch(`${server.url}/settings`, { headers: { cookie: `ll_session=${session}` }, redirect: 'manual' });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toContain('Admin authentication is off');
    expect(html).toContain('Sign out');
  });

  it('marks the session cookie Secure when the public URL is https', async () => {
    server = await startTestServer({ adminToken: testAdminToken, publicUrl: 'https://ledgerline.example.com' });
    const csrf = await openLoginPage(server.url);
    const response = await postForm(`${server.url}/login`, { token: testAdminToken, _csrf: csrf }, { cookie: `ll_csrf=${csrf}` });
    expect(response.headers.getSetCookie().find((c) => c.startsWith('ll_session='))).toMatch(/; Secure/);
  });

  it('signs out: the session cookie is cleared', async () => {
    server = await startTestServer({ adminToken: testAdminToken });
    const { cookie, csrf } = await signIn(server.url);
    const response = await postForm(`${server.url}/logout`, { _csrf: csrf }, { cookie });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/login');
    expect(response.headers.getSetCookie().find((c) => c.startsWith('ll_session='))).toMatch(/^ll_session=;.*Expires=Thu, 01 Jan 1970/);
  });

  it('never redirects off-site after login', async () => {
    server = await startTestServer({ adminToken: testAdminToken });
    const csrf = await openLoginPage(server.url);
    const response = await postForm(`${server.url}/login`, { token: testAdminToken, next: '//evil.example/x', _csrf: csrf }, { cookie: `ll_csrf=${csrf}` });
    expect(response.headers.get('location')).toBe('/');
  });
});

describe('CSRF on console forms', () => {
  it('refuses a login post without the CSRF token', async () => {
    server = await startTestServer({ adminToken: testAdminToken });
    const response = await postForm(`${server.url}/login`, { token: testAdminToken });
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie().some((c) => c.startsWith('ll_session='))).toBe(false);
  });

  it('refuses an uninstall whose form token does not match the cookie, and changes nothing', async () => {
    server = await startTestServer({ adminToken: testAdminToken });
    const { zendesk } = await seedAcme(server);
    const { cookie } = await signIn(server.url);
    const response = await postForm(`${server.url}/tenants/acme/installations/${zendesk.id}/uninstall`, { _csrf: 'forged-token-forged-token-forged-token' }, { cookie });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('LL_FORBIDDEN');
    expect((await server.installations.find(zendesk.tenantId, zendesk.id))?.status).toBe('active');
  });

  it('refuses a post from another origin even with a valid token', async () => {
    server = await startTestServer({ adminToken: testAdminToken });
    const { zendesk } = await seedAcme(server);
    const { cookie, csrf } = await signIn(server.url);
    const response = await postForm(`${server.url}/tenants/acme/installations/${zendesk.id}/uninstall`, { _csrf: csrf }, { cookie, origin: 'https://evil.example' });
    expect(response.status).toBe(403);
    expect((await server.installations.find(zendesk.tenantId, zendesk.id))?.status).toBe('active');
  });

  it('refuses a post without a session even with a valid CSRF token', async () => {
    server = await startTestServer({ adminToken: testAdminToken });
    const { zendesk } = await seedAcme(server);
    const { csrf } = await signIn(server.url);
    const response = await postForm(`${server.url}/tenants/acme/installations/${zendesk.id}/uninstall`, { _csrf: csrf }, { cookie: `ll_csrf=${csrf}` });
    expect(response.status).toBe(401);
  });

  it('accepts a same-origin post with session and matching token', async () => {
    server = await startTestServer({ adminToken: testAdminToken });
    const { zendesk } = await seedAcme(server);
    const { cookie, csrf } = await signIn(server.url);
    const response = await postForm(`${server.url}/tenants/acme/installations/${zendesk.id}/uninstall`, { _csrf: csrf }, { cookie, origin: server.url });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`/tenants/acme/installations/${zendesk.id}`);
    expect((await server.installations.find(zendesk.tenantId, zendesk.id))?.status).toBe('uninstalled');
  });
});
