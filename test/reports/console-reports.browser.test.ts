/**
 * Reports in the console, in a real browser: sign in, run the account activity report for a month
 * of seeded activity and read its figures and charts in the page, then copy the built-in template
 * to a custom one, change its title and drop a section in the JSON, save, reopen, and run the copy.
 * Leaves tmp/screenshots/console-report.png for a person to look at.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium, screenshotPath } from '../support/chromium.ts';
import { openPgliteTestDatabase, openPostgresTestDatabase, type TestDatabase } from '../support/database.ts';
import { seedReportTenant, stackAdminToken, startReportStack, type ReportStack, type SeededTenant } from './report-stack.ts';

if (chromiumMissing) console.info(`[console reports] skipped: ${chromiumMissing}`);

describe.skipIf(chromiumMissing !== null)('reports in the console, in Chromium', () => {
  let db: TestDatabase;
  let stack: ReportStack;
  let tenant: SeededTenant;
  let browser: Browser;

  beforeAll(async () => {
    db = process.env.DATABASE_URL ? await openPostgresTestDatabase() : await openPgliteTestDatabase();
    stack = await startReportStack(db);
    tenant = await seedReportTenant(db, 'acme');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.close();
  });

  async function runReport(page: Page, template: string): Promise<void> {
    await page.goto(`${stack.url}/tenants/acme/reports?template=${template}#run`);
    await page.selectOption('#run-template', template);
    await page.fill('#run-period', '2026-10');
    await page.selectOption('#run-format', 'html');
    await page.click('#run button[type="submit"]');
    await page.waitForSelector('.report-embed .ll-report');
  }

  it('runs account-activity with its figures and charts, and round-trips a copied template through the editor', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });

    // The nav's Reports link needs a session; with one tenant it goes straight to its reports.
    await page.goto(`${stack.url}/reports`);
    await page.fill('#token', stackAdminToken);
    await page.click('form.login button[type="submit"]');
    await page.waitForURL(/\/tenants\/acme\/reports$/);
    expect(await page.locator('table.templates tr.template[data-slug="account-activity"]').count()).toBe(1);

    await runReport(page, 'account-activity');
    const kpi = (label: string) => page.locator('.report-embed .ll-kpi').filter({ has: page.locator('.ll-kpi-label', { hasText: new RegExp(`^${label}$`) }) }).locator('.ll-kpi-value');
    expect(await kpi('Activities').allTextContents()).toEqual([String(tenant.october.activities)]);
    expect(await kpi('Active customers').allTextContents()).toEqual([String(tenant.october.customers)]);
    expect((await kpi('Revenue').allTextContents()).join(' ')).toContain('220.00');
    const charts = await page.locator('.report-embed svg').count();
    expect(charts).toBeGreaterThanOrEqual(2);
    // The embedded report is styled by its own stylesheet (the CSP allows no inline style): KPI tiles sit side by side.
    const [first, second] = await Promise.all([0, 1].map((i) => page.locator('.report-embed .ll-kpi').nth(i).boundingBox()));
    expect(second!.y).toBe(first!.y);
    expect(second!.x).toBeGreaterThan(first!.x + first!.width);
    await page.screenshot({ path: screenshotPath('console-report'), fullPage: true });

    // Copy the built-in, rename it and drop its heat map.
    await page.goto(`${stack.url}/tenants/acme/reports`);
    await page.screenshot({ path: screenshotPath('console-reports-home'), fullPage: true });
    await page.locator('tr.template[data-slug="account-activity"] a', { hasText: 'Copy' }).click();
    await page.waitForSelector('#template-sections');
    await page.fill('#template-slug', 'board-activity');
    await page.fill('#template-title', 'Board activity pack');
    await page.screenshot({ path: screenshotPath('console-report-editor'), fullPage: true });
    const sections = JSON.parse(await page.inputValue('#template-sections')) as { type: string; chart?: string }[];
    const kept = sections.filter((s) => s.chart !== 'activity_heat_map');
    expect(kept).toHaveLength(sections.length - 1);
    await page.fill('#template-sections', JSON.stringify(kept, null, 2));
    await page.click('form.template-editor button[type="submit"]');
    await page.waitForURL(/notice=template-saved/);
    expect(await page.locator('.notice').textContent()).toBe('Template board-activity saved.');
    expect(await page.locator('tr.template[data-slug="board-activity"] .status').textContent()).toBe('custom');

    await page.locator('tr.template[data-slug="board-activity"] a', { hasText: 'Edit' }).click();
    await page.waitForSelector('#template-sections');
    expect(await page.inputValue('#template-title')).toBe('Board activity pack');
    const reopened = JSON.parse(await page.inputValue('#template-sections')) as { chart?: string }[];
    expect(reopened).toHaveLength(kept.length);
    expect(reopened.some((s) => s.chart === 'activity_heat_map')).toBe(false);

    await runReport(page, 'board-activity');
    expect(await page.locator('.report-embed .ll-report h1').textContent()).toBe('Board activity pack');
    expect(await page.locator('main > h1').textContent()).toContain('Board activity pack');
    expect(await page.locator('.report-embed svg').count()).toBe(charts - 1);

    // Request its delivery to the portal; once processed, the file is there to download.
    await page.selectOption('#request-delivery', 'portal');
    await page.selectOption('#request-format', 'csv');
    await page.click('#request button[type="submit"]');
    await page.waitForURL(/\/requests\?notice=request-created/);
    const row = page.locator('tr.request').first();
    expect(await row.getAttribute('data-status')).toBe('requested');
    await stack.reports.workflow.processDue();
    await page.reload();
    expect(await row.getAttribute('data-status')).toBe('delivered');
    expect(await row.locator('td.files a').textContent()).toBe('CSV');
    expect(await row.locator('form[action$="/acknowledge"] button').count()).toBe(1);
    await page.screenshot({ path: screenshotPath('console-report-requests'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
