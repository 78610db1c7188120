/**
 * The incremental reader against the emulator's search: more than 10,000 changes in one run,
 * hundreds of records on one timestamp, and interruptions at any page — every record exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamPage } from '../../../core/contract/index.ts';
import { start, type RunningHubspotEmulator } from '../emulator/server.ts';
import type { HubspotCursor } from '../object-stream.ts';
import { contacts, deals } from '../streams.ts';
import { emulatorContext, emulatorToken } from './stream-context.ts';

describe('HubSpot incremental windows over search', () => {
  let emulator: RunningHubspotEmulator;
  let token: string;
  beforeAll(async () => {
    // 12,000 contacts; every 41st shares one modification instant, so ~290 tie: more than a page.
    emulator = await start({ scale: 12_000, rateLimits: { searchPerSecond: 10_000, tenSecondly: 100_000 } });
    token = await emulatorToken(emulator);
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  const liveContacts = (): string[] => [...emulator.portal.ids('contacts')].filter((id) => emulator.portal.get('contacts', id)?.archivedAt === null);
  const fromStart: HubspotCursor = { phase: 'search', since: 0, takenAtSince: [], tieAfterId: null, archivedUpTo: 0 };

  async function readAll(cursor: HubspotCursor, stopAfterPages = Number.POSITIVE_INFINITY) {
    const pages: StreamPage<HubspotCursor>[] = [];
    for await (const page of contacts.read(emulatorContext(emulator, token), cursor)) {
      pages.push(page);
      if (pages.length >= stopAfterPages) break;
    }
    return pages;
  }

  it('reads past the 10,000-result search cap with every contact exactly once', async () => {
    const pages = await readAll(fromStart);
    const ids = pages.flatMap((p) => p.records.map((r) => (r as { id: string }).id));
    expect(ids.length).toBe(new Set(ids).size);
    expect(ids.sort()).toEqual(liveContacts().sort());
    expect(ids.length).toBeGreaterThan(10_000);
    // The last page is the archived sweep: the archived contacts, as deletions.
    const deleted = pages.flatMap((p) => p.deleted ?? []).map((d) => d.externalId);
    const archived = [...emulator.portal.ids('contacts')].filter((id) => emulator.portal.get('contacts', id)?.archivedAt !== null);
    expect(deleted.sort()).toEqual(archived.sort());
  });

  it('walks a crowded instant by id and resumes from any checkpoint without repeating or losing a contact', async () => {
    const seen: string[] = [];
    let cursor: HubspotCursor = fromStart;
    let usedTieWalk = false;
    for (let round = 0; round < 500; round++) {
      const pages = await readAll(cursor, 3);
      for (const page of pages) {
        seen.push(...page.records.map((r) => (r as { id: string }).id));
        if (page.checkpoint.phase === 'search' && page.checkpoint.tieAfterId !== null) usedTieWalk = true;
      }
      const last = pages.at(-1);
      // Reaching the archived sweep (pages with `deleted`) means the windows are done.
      if (!last || pages.length < 3 || pages.some((p) => p.deleted !== undefined)) break;
      cursor = last.checkpoint;
    }
    expect(usedTieWalk).toBe(true);
    expect(seen.length).toBe(new Set(seen).size);
    expect(seen.sort()).toEqual(liveContacts().sort());
  });

  it('picks up a change made after the window and skips what it already took at the same instant', async () => {
    const pages = await readAll(fromStart);
    const checkpoint = pages.at(-1)!.checkpoint;
    const later = await readAll(checkpoint);
    expect(later.flatMap((p) => p.records)).toEqual([]);
    // The reader's window ends a minute before now; a change now is the next run's, after that minute.
    const changed = emulator.updateObject('contacts', '1000007', { lifecyclestage: 'customer' });
    const inAMinute = () => new Date(changed.updatedAt + 61_000);
    const next: StreamPage<HubspotCursor>[] = [];
    for await (const page of contacts.read(emulatorContext(emulator, token, inAMinute), checkpoint)) next.push(page);
    expect(next.flatMap((p) => p.records.map((r) => (r as { id: string }).id))).toEqual(['1000007']);
  });

  it('adds associations from the v4 batch endpoint to search results, in the list shape', async () => {
    const pages: StreamPage<HubspotCursor>[] = [];
    for await (const page of deals.read(emulatorContext(emulator, token), fromStart)) pages.push(page);
    const fromSearch = pages.flatMap((p) => p.records as { id: string; associations?: Record<string, { results: { id: string }[] }> }[]);
    const sample = fromSearch[0]!;
    const stored = emulator.portal.get('deals', sample.id)!;
    expect(sample.associations?.contacts?.results.map((r) => r.id)).toEqual(stored.associations.contacts);
    expect(sample.associations?.companies?.results.map((r) => r.id)).toEqual(stored.associations.companies);
  });
});
