/**
 * The Zendesk sidebar in a real browser, with the console's harness playing Zendesk: HubSpot synced
 * from its emulator, Zendesk people sharing HubSpot's e-mails, identities resolved; from the
 * Zendesk installation's page to the harness for a shared person, whose sidebar — signed first
 * load, ZAF SDK handshake, `ticket.requester.id` from the host, history fetched with the panel
 * session — shows one timeline from both platforms, narrows it with a filter, and resizes its
 * iframe through the SDK. Leaves a screenshot in tmp/screenshots/ for a person to look at.
 */
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEntries } from '../../../core/ledger/ledger.ts';
import { chromiumMissing, launchChromium, screenshotPath } from '../../../test/support/chromium.ts';
import { startCrossSystemStack, type CrossSystemStack } from './cross-system-stack.ts';

if (chromiumMissing) console.info(`[zendesk sidebar] skipped: ${chromiumMissing}`);

describe.skipIf(chromiumMissing !== null)('Zendesk sidebar in Chromium, through the console harness', () => {
  let stack: CrossSystemStack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startCrossSystemStack();
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  const platformsShown = async (frame: Frame) => Promise.all((await frame.locator('ol.timeline li.item').all()).map((item) => item.getAttribute('data-platform')));

  function collectErrors(page: Page): string[] {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    return errors;
  }

  it("shows a shared person's history from HubSpot and Zendesk beside a ticket, filters it, and fits the iframe through the SDK", async () => {
    const person = stack.sharedPeople[0];
    expect(person, 'a Zendesk requester who is also a HubSpot contact with activity').toBeDefined();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = collectErrors(page);

    // The installation's page links each Zendesk user to the harness.
    await page.goto(`${stack.url}/tenants/acme/installations/${stack.zendeskInstallationId}`);
    const link = page.locator(`a.harness-link[href*="objectId=${person!.zendeskUserId}"]`);
    expect(await link.count()).toBe(1);
    await link.click();
    await page.waitForURL(/zendesk-harness/);

    const iframe = page.locator('#zendesk-app-frame');
    const frame = page.frames().find((f) => f.name() === 'zendesk-app');
    expect(frame).toBeDefined();
    const sidebar = frame!;
    await sidebar.locator('article.history').waitFor({ timeout: 20_000 });
    await page.locator('#harness-frame-height').filter({ hasText: /^\d+px$/ }).waitFor();

    // The host answered the SDK, the page fetched the history of the requester, from both platforms.
    expect(await sidebar.locator('article.history h1').textContent()).toBe(person!.name);
    const all = await platformsShown(sidebar);
    expect(new Set(all)).toEqual(new Set(['hubspot', 'zendesk']));
    expect(await sidebar.locator('ol.timeline .platform').allTextContents()).toEqual(expect.arrayContaining(['HubSpot', 'Zendesk']));
    const log = await page.locator('#harness-log li').allTextContents();
    expect(log.some((line) => line.includes('handshake from the app'))).toBe(true);
    expect(log.some((line) => line.includes(`get ticket.requester.id → ${person!.zendeskUserId}`))).toBe(true);

    // resize: the SDK's invoke reached the host, which sized the iframe to the page's content.
    const fitted = async () => {
      const said = Number((await page.locator('#harness-frame-height').textContent())!.replace('px', ''));
      const box = await iframe.boundingBox();
      // The page's own height, whatever the iframe's: the body's box (its margins are 0).
      const body = await sidebar.locator('body').boundingBox();
      return { said, actual: Math.round(box!.height), content: Math.ceil(body!.height) };
    };
    const first = await fitted();
    expect(first.said).toBeGreaterThan(120);
    expect(first.actual).toBe(first.said);
    expect(first.content).toBe(first.said);
    expect(log.some((line) => line.includes('invoke resize'))).toBe(true);
    await page.screenshot({ path: screenshotPath('zendesk-sidebar-harness'), fullPage: true });

    // Filter by source: only Zendesk items remain, fetched again, and the iframe follows.
    await sidebar.locator('button[data-filter="source"][data-value="zendesk"]').click();
    await sidebar.locator('button[data-filter="source"][data-value="zendesk"][aria-pressed="true"]').waitFor();
    const zendeskOnly = await platformsShown(sidebar);
    expect(zendeskOnly.length).toBeGreaterThan(0);
    expect(zendeskOnly.length).toBeLessThan(all.length);
    expect(new Set(zendeskOnly)).toEqual(new Set(['zendesk']));
    // The shorter list shrinks the iframe too (a second resize, to the new content height).
    await expect.poll(async () => {
      const now = await fitted();
      return now.actual === now.content && now.said === now.content && now.content < first.content;
    }).toBe(true);
    await page.screenshot({ path: screenshotPath('zendesk-sidebar-harness-filtered'), fullPage: true });

    // Every fetch was recorded: the session opened once, then one view per history answer.
    const entries = (await listEntries((s, p) => stack.db.sql.query(s, p), stack.tenantId, { limit: 5000 })).filter((e) => e.kind.startsWith('panel.'));
    expect(entries.map((e) => e.kind)).toEqual(['panel.session_opened', 'panel.viewed', 'panel.viewed']);
    expect(entries[1]!.body).toMatchObject({ location: 'ticket_sidebar', subject: { kind: 'person', objectType: 'user', externalId: person!.zendeskUserId } });
    expect(errors).toEqual([]);
  });
});
