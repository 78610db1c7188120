/**
 * The console preview in a real browser: from the HubSpot installation's page to a contact's
 * account activity summary, which shows the same figures as the card endpoint, and its kind
 * filter. Leaves a screenshot in tmp/screenshots/ for a person to look at.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountSummary } from '../../../core/panels/summary-schema.ts';
import { chromiumMissing, launchChromium, screenshotPath } from '../../../test/support/chromium.ts';
import { start, type RunningHubspotEmulator } from '../emulator/server.ts';
import { installThroughBrowser, startStack, type Stack } from './stack.ts';

if (chromiumMissing) console.info(`[console preview] skipped: ${chromiumMissing}`);

describe.skipIf(chromiumMissing !== null)('console summary preview in Chromium', () => {
  let emulator: RunningHubspotEmulator;
  let stack: Stack;
  let browser: Browser;
  let installationId: string;

  beforeAll(async () => {
    emulator = await start({ scale: 120, timeScale: 50 });
    stack = await startStack(emulator);
    emulator.permitFetch(stack.url);
    ({ installationId } = await installThroughBrowser(stack));
    const runs = await stack.sync.engine.runNow({ installationId });
    expect(runs.map((r) => r.outcome)).toEqual(Array(9).fill('succeeded'));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await emulator?.stop();
  });

  it("goes from the installation page to a contact's summary: the figures the card gets, and a working kind filter", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${stack.url}/tenants/acme/installations/${installationId}`);
    const links = page.locator('table.previewables tbody tr').filter({ hasText: 'person' }).locator('a');
    expect(await links.count()).toBeGreaterThan(0);
    await links.first().click();
    await page.waitForSelector('h1');
    const [, , , , , , kind, objectType, externalId] = new URL(page.url()).pathname.split('/');
    expect(kind).toBe('person');

    // The card endpoint's answer for the same record, through HubSpot's signing proxy.
    const card = AccountSummary.parse(await (await emulator.appCardFetch(`${stack.url}/panels/hubspot/summary?objectType=${objectType}&objectId=${externalId}`)).json());
    expect(await page.locator('h1').textContent()).toBe(card.subject.displayName);
    const kpi = (label: string) => page.locator('.kpi').filter({ hasText: label }).locator('.kpi-value').textContent();
    expect(await kpi('Activities (period)')).toBe(card.kpis.activityCount.toLocaleString('en-US'));
    expect(await kpi('Open items')).toBe(String(card.kpis.openItems));
    expect(await kpi('Churn risk')).toBe(`${card.kpis.churnRisk.level} (${card.kpis.churnRisk.score})`);
    expect(await page.locator('table.timeline tbody tr').count()).toBe(card.timeline.length);
    expect(await page.locator('table.open-items tbody tr').count()).toBe(card.openItems.length);
    await page.screenshot({ path: screenshotPath('console-summary'), fullPage: true });

    // Filter by the kind of the newest activity.
    const newest = card.timeline[0]!.kind;
    await page.locator('nav.filters a').filter({ hasText: newest.replace('_', ' ') }).click();
    await page.waitForURL(/kind=/);
    const kinds = await Promise.all((await page.locator('table.timeline tbody tr').all()).map((row) => row.getAttribute('class')));
    expect(kinds).toEqual(card.timeline.filter((t) => t.kind === newest).map((t) => `kind-${t.kind}`));
    expect(await page.locator('nav.filters a.current').textContent()).toContain(newest.replace('_', ' '));
    expect(errors).toEqual([]);
  });
});
