/**
 * Reports over HTTP against the real store and reports service: the JSON API's validation and
 * tenant scoping, the console editor's handling of a refused form, and the public secure-link
 * page from first visit to download.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnTestDatabases } from '../../test/support/database.ts';
import { seedReportTenant, stackAdminToken, startReportStack, type ReportStack } from '../../test/reports/report-stack.ts';

interface Session {
  readonly cookie: string;
  readonly csrf: string;
}

const bearer = { authorization: `Bearer ${stackAdminToken}` };
const october = { period: '2026-10', timeZone: 'UTC' };

function cookiesOf(response: Response): string[] {
  return response.headers.getSetCookie().map((c) => c.split(';')[0]!);
}

/** Signs in to the console the way a browser does: CSRF cookie and token from /login, then the token. */
async function signIn(url: string): Promise<Session> {
  const form = await fetch(`${url}/login`);
  const csrfCookie = cookiesOf(form).find((c) => c.startsWith('ll_csrf='))!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const login = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
    body: new URLSearchParams({ token: stackAdminToken, next: '/', _csrf: csrf }),
  });
  expect(login.status).toBe(303);
  return { cookie: [csrfCookie, ...cookiesOf(login).filter((c) => c.startsWith('ll_session='))].join('; '), csrf };
}

function postForm(url: string, session: Session, fields: Record<string, string | string[]>) {
  const body = new URLSearchParams();
  body.append('_csrf', session.csrf);
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) body.append(name, v);
  return fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session.cookie }, body });
}

function api(stack: ReportStack, path: string, init: RequestInit = {}) {
  return fetch(`${stack.url}/api/v1/tenants/${path}`, { ...init, headers: { ...bearer, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers } });
}

async function errorOf(response: Response) {
  return ((await response.json()) as { error: { code: string; field?: string; issues?: { path: string; message: string }[] } }).error;
}

describeOnTestDatabases('reports over HTTP', (db) => {
  let stack: ReportStack;
  // One server and two tenants for the file: each test only adds to them.
  beforeAll(async () => {
    stack = await startReportStack(db());
    await seedReportTenant(db(), 'acme');
    await seedReportTenant(db(), 'other');
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('answers 401 without the admin token and 400 naming the path of a bad template section', async () => {
    expect((await fetch(`${stack.url}/api/v1/tenants/acme/reports/templates`)).status).toBe(401);
    const bad = await api(stack, 'acme/reports/templates/quarterly', { method: 'PUT', body: JSON.stringify({ title: 'Quarterly', sections: [{ type: 'kpis' }, { type: 'chart', chart: 'pie_of_everything' }] }) });
    expect(bad.status).toBe(400);
    const error = await errorOf(bad);
    expect(error.code).toBe('LL_INVALID_INPUT');
    expect(error.issues?.map((i) => i.path)).toContain('sections.1.chart');
    const asText = await api(stack, 'acme/reports/templates/quarterly', { method: 'PUT', body: 'title=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(asText.status).toBe(415);
  });

  it("saves a custom template for one tenant that another tenant's API does not see", async () => {
    const saved = await api(stack, 'acme/reports/templates/kpi-only', { method: 'PUT', body: JSON.stringify({ title: 'KPIs only', sections: [{ type: 'kpis' }] }) });
    expect(saved.status).toBe(200);
    const listed = (await (await api(stack, 'acme/reports/templates')).json()) as { templates: { slug: string; builtIn: boolean }[] };
    expect(listed.templates.filter((t) => !t.builtIn).map((t) => t.slug)).toEqual(['kpi-only']);
    expect(listed.templates.some((t) => t.slug === 'account-activity' && t.builtIn)).toBe(true);
    expect((await api(stack, 'other/reports/templates/kpi-only')).status).toBe(404);
    expect((await api(stack, 'other/reports/templates/kpi-only', { method: 'DELETE' })).status).toBe(404);
    expect((await api(stack, 'acme/reports/templates/account-activity', { method: 'PUT', body: JSON.stringify({ title: 'Mine now', sections: [{ type: 'kpis' }] }) })).status).toBe(409);
  });

  it('runs a report as a CSV download with its file name', async () => {
    const run = await api(stack, 'acme/reports/runs', { method: 'POST', body: JSON.stringify({ template: 'account-activity', parameters: october, format: 'csv' }) });
    expect(run.status).toBe(200);
    expect(run.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(run.headers.get('content-disposition')).toContain('attachment; filename="account-activity-2026-10.csv"');
    expect(run.headers.get('cache-control')).toBe('no-store');
    expect(await run.text()).toContain('220');
    const badPeriod = await api(stack, 'acme/reports/runs', { method: 'POST', body: JSON.stringify({ template: 'account-activity', parameters: { period: 'October' }, format: 'csv' }) });
    expect(badPeriod.status).toBe(400);
    expect((await errorOf(badPeriod)).issues?.map((i) => i.path)).toContain('parameters.period');
  });

  it("keeps a report request inside its tenant: another tenant's id is 404 everywhere", async () => {
    const created = await api(stack, 'acme/reports/requests', { method: 'POST', body: JSON.stringify({ template: 'account-activity', parameters: october, format: 'html', delivery: 'portal' }) });
    expect(created.status).toBe(201);
    const { request } = (await created.json()) as { request: { id: string; status: string } };
    expect(request.status).toBe('requested');
    expect((await api(stack, `acme/reports/requests/${request.id}`)).status).toBe(200);
    expect((await api(stack, `other/reports/requests/${request.id}`)).status).toBe(404);
    expect((await api(stack, `other/reports/requests/${request.id}/acknowledge`, { method: 'POST', body: JSON.stringify({ by: 'someone' }) })).status).toBe(404);
    expect((await api(stack, `other/reports/requests/${request.id}/files/html`)).status).toBe(404);
    const listed = (await (await api(stack, 'other/reports/requests')).json()) as { requests: { id: string }[] };
    expect(listed.requests.map((r) => r.id)).not.toContain(request.id);
    const session = await signIn(stack.url);
    const consoleDownload = await fetch(`${stack.url}/tenants/other/reports/requests/${request.id}/files/html`, { headers: { cookie: session.cookie } });
    expect(consoleDownload.status).toBe(404);
  });

  it('imports spend as text/csv, names the line of a bad row, and refuses text/plain', async () => {
    const csv = (body: string, type = 'text/csv') => api(stack, 'acme/reports/spend', { method: 'POST', body, headers: { 'content-type': type } });
    const imported = await csv('date,channel,currency,amount\r\n2026-10-01,search,EUR,300\r\n2026-10-02,social,EUR,150.25\r\n');
    expect(imported.status).toBe(200);
    expect(await imported.json()).toMatchObject({ rows: 2 });
    const bad = await csv('date,channel,currency,amount\n2026-10-03,search,EUR,12\n2026-13-01,search,EUR,5\n');
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toBe('LL_INVALID_INPUT');
    expect((await csv('date,channel\n', 'text/plain')).status).toBe(415);
    const listed = (await (await api(stack, 'acme/reports/spend')).json()) as { spend: { channel: string }[] };
    expect(listed.spend.map((s) => s.channel).sort()).toEqual(['search', 'social']);
  });

  it('template editor: a broken sections JSON comes back with the input kept and the error next to the field', async () => {
    const session = await signIn(stack.url);
    const fields = { slug: 'board-pack', title: 'Board pack <Q4>', description: '', lostKind: 'inactive', lostDays: '60', maskingDefault: 'none', freshnessHours: '26', defaultMetrics: ['revenue', 'churn_rate'] };
    const broken = await postForm(`${stack.url}/tenants/acme/reports/templates`, session, { ...fields, sections: '[{"type": "kpis"},' });
    expect(broken.status).toBe(400);
    const html = await broken.text();
    expect(html).toMatch(/<ul class="field-errors" id="sections-errors"><li>sections: not valid JSON/);
    expect(html).toContain('[{&#34;type&#34;: &#34;kpis&#34;},</textarea>');
    expect(html).toContain('value="Board pack &lt;Q4&gt;"');
    expect(html).toMatch(/value="churn_rate" checked/);

    const wrongType = await postForm(`${stack.url}/tenants/acme/reports/templates`, session, { ...fields, sections: JSON.stringify([{ type: 'kpis' }, { type: 'summary', summary: 'gossip' }]) });
    expect(wrongType.status).toBe(400);
    expect(await wrongType.text()).toMatch(/id="sections-errors"><li>sections\.1\.summary: /);

    const saved = await postForm(`${stack.url}/tenants/acme/reports/templates`, session, { ...fields, sections: JSON.stringify([{ type: 'kpis' }]) });
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe('/tenants/acme/reports?notice=template-saved&subject=board-pack');
    const template = (await (await api(stack, 'acme/reports/templates/board-pack')).json()) as { template: { definition: { title: string; lost: unknown } } };
    expect(template.template.definition).toMatchObject({ title: 'Board pack <Q4>', lost: { kind: 'inactive', days: 60 } });

    const withoutToken = await fetch(`${stack.url}/tenants/acme/reports/templates`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session.cookie },
      body: new URLSearchParams({ ...fields, defaultMetrics: 'revenue', sections: '[{"type":"kpis"}]', slug: 'sneaky' }),
    });
    expect(withoutToken.status).toBe(403);
  });

  it('console segments, spend and schedules: refused forms keep the input, saved ones redirect with a notice', async () => {
    const session = await signIn(stack.url);
    const base = `${stack.url}/tenants/acme/reports`;
    const badSegment = await postForm(`${base}/segments`, session, { slug: 'dach', name: 'DACH', match: 'all', conditions: JSON.stringify([{ type: 'country', countries: ['de'] }]) });
    expect(badSegment.status).toBe(400);
    const segmentPage = await badSegment.text();
    expect(segmentPage).toMatch(/id="conditions-errors"><li>conditions\.0\.countries\.0: /);
    expect(segmentPage).toContain('&#34;de&#34;');
    const segment = await postForm(`${base}/segments`, session, { slug: 'dach', name: 'DACH', match: 'any', conditions: JSON.stringify([{ type: 'activity', kind: 'transaction', days: 3650 }]) });
    expect(segment.headers.get('location')).toBe('/tenants/acme/reports/segments?notice=segment-saved&subject=dach');
    const segments = await (await fetch(`${base}/segments`, { headers: { cookie: session.cookie } })).text();
    // The three seeded customers each bought something.
    expect(segments).toMatch(/<tr class="segment" data-slug="dach">[\s\S]*?<td class="number">3<\/td>/);

    const badCsv = 'date,channel,currency,amount\n2026-10-01,search,EUR,10\n2026-10-02,search,EURO,5\n';
    const spend = await postForm(`${base}/spend/import`, session, { csv: badCsv });
    expect(spend.status).toBe(400);
    const spendPage = await spend.text();
    expect(spendPage).toContain(`${badCsv}</textarea>`);
    expect(spendPage).toMatch(/id="csv-errors"><li>[^<]*3/);
    const entry = await postForm(`${base}/spend`, session, { spentOn: '2026-10-05', channel: 'events', currency: 'eur', amount: '99.90' });
    expect(entry.status).toBe(303);
    expect(await (await fetch(`${base}/spend`, { headers: { cookie: session.cookie } })).text()).toMatch(/<td>events<\/td><td class="number">99\.9\d* EUR<\/td>/);

    const schedule = { templateSlug: 'account-activity', segment: '', recipient: 'board@example.org', delivery: 'attachment', format: 'pdf', locale: 'de', role: 'analyst', cadence: 'monthly', weekday: '1', dayOfMonth: '2', localTime: '07:30', timeZone: 'Europe/Berlin' };
    const badZone = await postForm(`${base}/schedules`, session, { ...schedule, timeZone: 'Mars/Olympus' });
    expect(badZone.status).toBe(400);
    const zonePage = await badZone.text();
    expect(zonePage).toMatch(/id="timeZone-errors"><li>timeZone: /);
    expect(zonePage).toContain('value="board@example.org"');
    const created = await postForm(`${base}/schedules`, session, schedule);
    expect(created.status).toBe(303);
    const schedules = await (await fetch(`${base}/schedules`, { headers: { cookie: session.cookie } })).text();
    const id = /<tr class="schedule" data-id="([0-9a-f-]{36})">/.exec(schedules)?.[1];
    expect(schedules).toContain('monthly on day 2 at 07:30');
    expect((await postForm(`${base}/schedules/${id}/remove`, session, {})).status).toBe(303);
    expect(await (await fetch(`${base}/schedules`, { headers: { cookie: session.cookie } })).text()).not.toContain(`data-id="${id}"`);
  });

  it('console requests: delivered to the portal, downloaded, acknowledged, then disputed with a reason', async () => {
    const session = await signIn(stack.url);
    const base = `${stack.url}/tenants/acme/reports`;
    const requested = await postForm(`${base}/requests`, session, { template: 'account-activity', period: '2026-10', segment: '', locale: 'en', timeZone: 'UTC', role: 'admin', format: 'json', recipient: '', delivery: 'portal' });
    expect(requested.status).toBe(303);
    const id = /subject=([0-9a-f-]{36})/.exec(requested.headers.get('location') ?? '')![1]!;
    await stack.reports.workflow.processDue();
    const row = async () => {
      const html = await (await fetch(`${base}/requests`, { headers: { cookie: session.cookie } })).text();
      return /<tr class="request" data-id="([^"]+)" data-status="([a-z]+)">([\s\S]*?)<\/tr>/g.exec(html.slice(html.indexOf(`data-id="${id}"`) - 30)) ?? [];
    };
    const [, , delivered, cells] = await row();
    expect(delivered).toBe('delivered');
    expect(cells).toContain(`href="/tenants/acme/reports/requests/${id}/files/json"`);
    const file = await fetch(`${base}/requests/${id}/files/json`, { headers: { cookie: session.cookie } });
    expect(file.headers.get('content-disposition')).toContain('filename="account-activity-2026-10.json"');
    expect((await postForm(`${base}/requests/${id}/acknowledge`, session, {})).status).toBe(303);
    expect((await row())[2]).toBe('acknowledged');
    const noReason = await postForm(`${base}/requests/${id}/dispute`, session, { reason: ' ' });
    expect(noReason.status).toBe(400);
    expect(await noReason.text()).toContain('class="form-errors"');
    expect((await postForm(`${base}/requests/${id}/dispute`, session, { reason: 'Refunds are missing' })).status).toBe(303);
    const [, , disputed, disputedCells] = await row();
    expect(disputed).toBe('disputed');
    expect(disputedCells).toContain('disputed: Refunds are missing');
  });

  it('secure link: asks for the code, counts a wrong one, downloads with the right one; unknown links get one neutral 404', async () => {
    const created = await api(stack, 'acme/reports/requests', {
      method: 'POST',
      body: JSON.stringify({ template: 'account-activity', parameters: october, format: 'csv', delivery: 'link', recipient: 'reader@example.org', requireCode: true }),
    });
    expect(created.status).toBe(201);
    const { request } = (await created.json()) as { request: { id: string } };
    await stack.reports.workflow.processDue();
    const view = (await (await api(stack, `acme/reports/requests/${request.id}`)).json()) as { request: { status: string; statusReason: string | null } };
    expect(view.request).toMatchObject({ status: 'delivered' });
    const sent = stack.mail.filter((m) => m.to === 'reader@example.org');
    const token = sent.map((m) => /\/reports\/links\/([A-Za-z0-9_-]+)/.exec(m.text + m.html)?.[1]).find((t) => t !== undefined)!;
    const code = sent.map((m) => /\b(\d{6})\b/.exec(m.text)?.[1]).find((c) => c !== undefined)!;
    expect(token).toBeDefined();
    expect(code).toBeDefined();

    const link = `${stack.url}/reports/links/${token}`;
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await page.text()).toContain('name="code"');

    const wrongCode = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const wrong = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ code: wrongCode }) });
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).toContain('4 attempts are left');

    const right = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ code }) });
    expect(right.status).toBe(200);
    expect(right.headers.get('content-disposition')).toContain('attachment; filename="account-activity-2026-10.csv"');
    expect(right.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await right.text()).toContain('220');

    const unknown = await fetch(`${stack.url}/reports/links/${'A'.repeat(43)}`);
    const malformed = await fetch(`${stack.url}/reports/links/not-a-token`);
    expect([unknown.status, malformed.status]).toEqual([404, 404]);
    expect(await unknown.text()).toBe(await malformed.text());
  });
});
