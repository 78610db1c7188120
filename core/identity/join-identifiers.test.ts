/**
 * The identifiers a record can be joined on (`joinIdentifiers`), which incremental resolution keeps
 * per record to find everyone a changed record could join: normalized as the resolver compares
 * them, without values no rule lets join, and never missing a join the resolver makes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joinIdentifiers, keyOf, resolveIdentities, type IdentityRecord } from './resolve.ts';

const hub = '11111111-1111-4111-8111-111111111111';
const zen = '22222222-2222-4222-8222-222222222222';

describe('join identifiers', () => {
  it('names a record by its own key and its merged-away keys, and by its normalized e-mail, phone or domain unless a rule blocks it', () => {
    const key = { installationId: hub, objectType: 'contact', externalId: '7' };
    expect(joinIdentifiers({ key, kind: 'person', email: ' Maya@Birch.Example ', emailVerified: true, phone: ' +4930 ', mergedFrom: ['8', '7'] })).toEqual([
      { rule: 'upstream-merge', value: `${hub}/contact/7` },
      { rule: 'upstream-merge', value: `${hub}/contact/8` },
      { rule: 'verified-email', value: 'maya@birch.example' },
      { rule: 'phone', value: '+4930' },
    ]);
    expect(joinIdentifiers({ key, kind: 'person', email: 'info@birch.example', phone: '+000' })).toEqual([{ rule: 'upstream-merge', value: `${hub}/contact/7` }]);
    expect(joinIdentifiers({ key, kind: 'account', domain: 'GMAIL.com' })).toEqual([{ rule: 'upstream-merge', value: `${hub}/contact/7` }]);
    expect(joinIdentifiers({ key, kind: 'account', domain: 'Birch.example', email: 'x@birch.example' })).toEqual([
      { rule: 'upstream-merge', value: `${hub}/contact/7` },
      { rule: 'domain', value: 'birch.example' },
    ]);
  });

  it('never misses a join: the members of every profile and the records of every review item are linked by shared identifiers or a manual merge', () => {
    const record = fc.record({
      installation: fc.constantFrom(hub, zen),
      kind: fc.constantFrom('person' as const, 'account' as const),
      id: fc.integer({ min: 1, max: 8 }),
      email: fc.option(fc.constantFrom('a@x.example', 'A@x.example ', 'b@x.example', 'info@x.example', 'anonymous'), { nil: null }),
      verified: fc.boolean(),
      phone: fc.option(fc.constantFrom('+4911', ' +4911', '+4922', '+000'), { nil: null }),
      domain: fc.option(fc.constantFrom('x.example', 'X.example', 'gmail.com'), { nil: null }),
      merged: fc.array(fc.integer({ min: 1, max: 10 }), { maxLength: 2 }),
    });
    const tenant = fc.uniqueArray(record, { selector: (r) => `${r.installation}/${r.kind}/${r.id}`, maxLength: 16 });
    fc.assert(
      fc.property(tenant, fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 3 }), (rows, pairs) => {
        const records: IdentityRecord[] = rows.map((r) => ({
          key: { installationId: r.installation, objectType: r.kind === 'person' ? 'contact' : 'company', externalId: String(r.id) },
          kind: r.kind,
          email: r.email,
          emailVerified: r.verified,
          phone: r.phone,
          domain: r.domain,
          mergedFrom: r.merged.map(String),
        }));
        const keys = records.map((r) => keyOf(r.key));
        const manualMerges = keys.length < 2 ? [] : pairs.map(([a, b]) => [keys[a % keys.length]!, keys[b % keys.length]!] as const);
        const { profiles, reviews } = resolveIdentities(records, { manualMerges, maxRecordsPerValue: 3 });

        // Pieces of the graph linking records that share an identifier (an e-mail verified or not is one value).
        const parent = new Map<string, string>();
        const find = (k: string): string => {
          const p = parent.get(k) ?? k;
          if (p === k) return k;
          const root = find(p);
          parent.set(k, root);
          return root;
        };
        const link = (a: string, b: string) => parent.set(find(a), find(b));
        for (const r of records) {
          for (const id of joinIdentifiers(r, { maxRecordsPerValue: 3 })) link(keyOf(r.key), `${id.rule.replace('verified-', '')}:${id.value}`);
        }
        for (const [a, b] of manualMerges) link(a, b);
        // A key is a node of its own (a merged-away id stored under no record has no other).
        const node = (k: string) => find(`upstream-merge:${k}`);
        for (const p of profiles) for (const m of p.members) expect(node(m.key)).toBe(node(p.anchor));
        for (const r of reviews) for (const k of r.records) expect(node(k)).toBe(node(r.records[0]!));
      }),
      { numRuns: 300 },
    );
  });
});
