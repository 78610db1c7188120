/**
 * The app card rendered with HubSpot's own testing renderer, fetching through `hubspot.fetch` as
 * HubSpot runs it (the emulator's app-card proxy: viewer and portal appended, signature v3) from a
 * Ledgerline that synced the emulator's portal. What the card shows is what the endpoint answered.
 */
import { Alert, Button, EmptyState, ErrorState, Heading, Link, LoadingSpinner, StatisticsItem, TableBody, TableCell, TableRow, Tag, Text } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountSummary as AccountSummarySchema } from '../../../core/panels/summary-schema.ts';
import { start, type RunningHubspotEmulator } from '../../../plugins/hubspot/emulator/server.ts';
import { installThroughBrowser, startStack, type Stack } from '../../../plugins/hubspot/test/stack.ts';
import { SummaryCard, summaryUrl, type CardContext } from '../src/app/cards/summary-card.tsx';
import type { AccountSummary } from '../src/app/cards/summary-types.ts';

describe('HubSpot app card', () => {
  let emulator: RunningHubspotEmulator;
  let stack: Stack;
  let contactId: string;
  let summary: AccountSummary;
  const previousSelf = (globalThis as { self?: unknown }).self;

  const contextFor = (objectTypeId: string, objectId: string): CardContext => {
    const { mocks } = createRenderer('crm.record.tab');
    return { ...mocks.context, crm: { objectTypeId, objectId: Number(objectId) }, portal: { ...mocks.context.portal, timezone: 'Europe/Berlin' }, user: { ...mocks.context.user, locale: 'en-US' } };
  };

  beforeAll(async () => {
    emulator = await start({ scale: 120, timeScale: 50 });
    stack = await startStack(emulator);
    emulator.permitFetch(stack.url);
    // hubspot.fetch is `self.hsFetch` inside HubSpot's extension worker.
    (globalThis as { self?: unknown }).self = { hsFetch: (url: string, options?: { method?: string; timeout?: number }) => emulator.appCardFetch(url, options) };
    const { installationId } = await installThroughBrowser(stack);
    const runs = await stack.sync.engine.runNow({ installationId });
    expect(runs.map((r) => r.outcome)).toEqual(Array(9).fill('succeeded'));
    // The contact with the most kinds of activity, so the filters have something to do.
    let best = { id: '', kinds: -1 };
    for (const id of [...emulator.portal.ids('contacts')].slice(0, 40)) {
      const response = await emulator.appCardFetch(summaryUrl(stack.url, '0-1', id)!);
      if (response.status !== 200) continue;
      const candidate = AccountSummarySchema.parse(await response.json());
      const kinds = Object.values(candidate.countsByKind).filter((n) => n > 0).length;
      if (kinds > best.kinds && candidate.openItems.length > 0) {
        best = { id, kinds };
        summary = candidate;
      }
    }
    contactId = best.id;
    expect(best.kinds).toBeGreaterThanOrEqual(2);
  });
  afterAll(async () => {
    (globalThis as { self?: unknown }).self = previousSelf;
    await stack?.close();
    await emulator?.stop();
  });

  it('shows the loading state, then the KPIs, alerts, open items and timeline the endpoint answered', async () => {
    const { render, find, findAll, maybeFind, waitFor } = createRenderer('crm.record.tab');
    render(<SummaryCard context={contextFor('0-1', contactId)} compact={false} baseUrl={stack.url} />);
    expect(maybeFind(LoadingSpinner)).not.toBeNull();
    await waitFor(() => expect(maybeFind(Heading)).not.toBeNull(), { timeoutInMs: 10_000 });

    const title = summary.subject.email ? `${summary.subject.displayName} · ${summary.subject.email}` : summary.subject.displayName;
    expect(findAll(Heading).map((h) => h.text)).toEqual([title, 'Open items', 'Timeline']);
    const stat = (label: string) => find(StatisticsItem, { label }).props.number;
    expect(stat('Activities')).toBe(summary.kpis.activityCount);
    expect(stat('Open items')).toBe(summary.kpis.openItems);
    expect(stat('Lifetime value')).toBe(
      summary.kpis.lifetimeValue.length === 0 ? '—' : new Intl.NumberFormat('en-US', { style: 'currency', currency: summary.kpis.lifetimeValue[0]!.currency }).format(Number(summary.kpis.lifetimeValue[0]!.value)) + (summary.kpis.lifetimeValue.length > 1 ? ` +${summary.kpis.lifetimeValue.length - 1} more` : ''),
    );
    expect(findAll(Alert)).toHaveLength(summary.alerts.length);
    // Two tables: open items, then the timeline, one row per item.
    const bodies = findAll(TableBody);
    expect(bodies).toHaveLength(2);
    expect(bodies[0]!.findAll(TableRow).map((r) => r.findAll(TableCell).map((c) => c.text))).toEqual(
      summary.openItems.map((item) => [item.title, item.status, expect.any(String), item.amount ? new Intl.NumberFormat('en-US', { style: 'currency', currency: item.amount.currency }).format(Number(item.amount.value)) : '—']),
    );
    expect(bodies[1]!.findAll(TableRow)).toHaveLength(summary.timeline.length);
    expect(bodies[1]!.findAll(Tag).map((t) => t.text)).toEqual(summary.timeline.map((item) => item.category));
    expect(find(Link).props.href).toBe(summary.reportUrl);
  });

  it('filters the timeline by kind: each button shows its count, and a click keeps only that kind', async () => {
    const { render, find, findAll, maybeFind, waitFor } = createRenderer('crm.record.tab');
    render(<SummaryCard context={contextFor('0-1', contactId)} compact={false} baseUrl={stack.url} />);
    await waitFor(() => expect(maybeFind(Heading)).not.toBeNull(), { timeoutInMs: 10_000 });
    const present = Object.entries(summary.countsByKind).filter(([, n]) => n > 0);
    const buttons = findAll(Button).map((b) => b.text);
    expect(buttons[0]).toBe(`All (${summary.kpis.activityCount})`);
    expect(buttons).toHaveLength(present.length + 1);
    const kind = summary.timeline.find((item) => item.kind !== summary.timeline[0]!.kind)?.kind ?? summary.timeline[0]!.kind;
    const button = find(Button, (b) => b.text !== null && b.text.endsWith(`(${summary.countsByKind[kind]})`) && !b.text.startsWith('All'));
    button.trigger('onClick');
    await waitFor(() => expect(find(Button, (b) => b.text === button.text).props.variant).toBe('primary'));
    const rows = findAll(TableBody)[1]!.findAll(Tag).map((t) => t.text);
    expect(rows).toEqual(summary.timeline.filter((item) => item.kind === kind).map((item) => item.category));
  });

  it('the sidebar card is compact: four KPIs, at most five activities and three open items, no filters', async () => {
    const { render, findAll, maybeFind, waitFor } = createRenderer('crm.record.sidebar');
    render(<SummaryCard context={contextFor('0-1', contactId)} compact={true} baseUrl={stack.url} />);
    await waitFor(() => expect(maybeFind(Link)).not.toBeNull(), { timeoutInMs: 10_000 });
    expect(findAll(StatisticsItem).map((s) => s.props.label)).toEqual(['Lifetime value', 'Activities', 'Open items', 'Last contact']);
    expect(findAll(Button)).toEqual([]);
    const bodies = findAll(TableBody);
    expect(bodies[0]!.findAll(TableRow)).toHaveLength(Math.min(3, summary.openItems.length));
    expect(bodies.at(-1)!.findAll(TableRow)).toHaveLength(Math.min(5, summary.timeline.length));
  });

  it('a record Ledgerline has not synced shows why, and Try again fetches again', async () => {
    const { render, find, maybeFind, waitFor } = createRenderer('crm.record.tab');
    const fetched: string[] = [];
    const counting = (url: string) => {
      fetched.push(url);
      return emulator.appCardFetch(url);
    };
    render(<SummaryCard context={contextFor('0-1', '1999999')} compact={false} baseUrl={stack.url} fetcher={counting} />);
    await waitFor(() => expect(maybeFind(Button)).not.toBeNull(), { timeoutInMs: 10_000 });
    expect(find(ErrorState).props.title).toBe('Not synced yet');
    expect(find(ErrorState).find(Text).text).toContain('contact 1999999 has not been synced from this installation yet');
    find(Button, (b) => b.text === 'Try again').trigger('onClick');
    await waitFor(() => expect(fetched).toHaveLength(2), { timeoutInMs: 10_000 });
  });

  it('a record type without a summary says so and fetches nothing', () => {
    const { render, find } = createRenderer('crm.record.tab');
    let calls = 0;
    render(<SummaryCard context={contextFor('2-123456', '5')} compact={false} baseUrl={stack.url} fetcher={() => Promise.reject(new Error(`called ${++calls}`))} />);
    expect(find(EmptyState).props.title).toBe('Not available here');
    expect(calls).toBe(0);
  });
});
