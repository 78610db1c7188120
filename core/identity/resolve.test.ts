import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blockedReason, resolveIdentities, type IdentityRecord } from './resolve.ts';

const hub = '11111111-1111-4111-8111-111111111111';
const zen = '22222222-2222-4222-8222-222222222222';
const shop = '33333333-3333-4333-8333-333333333333';
const person = (installationId: string, objectType: string, externalId: string, more: Partial<IdentityRecord> = {}): IdentityRecord => ({ key: { installationId, objectType, externalId }, kind: 'person', ...more });

describe('identity resolution', () => {
  it('joins one person across three systems by e-mail and phone, naming the rule and the evidence', () => {
    const { profiles, reviews } = resolveIdentities([
      person(hub, 'contact', '1001', { email: 'Maya@Birch.example', phone: '+4930123456' }),
      person(zen, 'user', '77', { email: 'maya@birch.example', emailVerified: true }),
      person(shop, 'customer', '9', { phone: '+4930123456' }),
      person(hub, 'contact', '1002', { email: 'someone@else.example' }),
    ]);
    expect(reviews).toEqual([]);
    expect(profiles).toEqual([
      {
        kind: 'person',
        anchor: `${hub}/contact/1001`,
        members: [
          { key: `${hub}/contact/1001`, evidence: null },
          { key: `${zen}/user/77`, evidence: { rule: 'verified-email', value: 'maya@birch.example', with: `${hub}/contact/1001` } },
          { key: `${shop}/customer/9`, evidence: { rule: 'phone', value: '+4930123456', with: `${hub}/contact/1001` } },
        ],
      },
      { kind: 'person', anchor: `${hub}/contact/1002`, members: [{ key: `${hub}/contact/1002`, evidence: null }] },
    ]);
  });

  it('never joins on placeholder, role or all-zero values, nor on a value too many records share', () => {
    const { profiles, reviews } = resolveIdentities(
      [
        person(hub, 'contact', '1', { email: 'info@birch.example' }),
        person(zen, 'user', '1', { email: 'info@birch.example' }),
        person(hub, 'contact', '2', { phone: '+000000' }),
        person(zen, 'user', '2', { phone: '+000000' }),
        person(hub, 'contact', '3', { email: 'anonymous' }),
        person(zen, 'user', '3', { email: 'anonymous' }),
        ...['a', 'b', 'c'].map((id) => person(shop, `customer-${id}`, id, { email: 'shared@birch.example' })),
      ],
      { maxRecordsPerValue: 2 },
    );
    expect(profiles.every((p) => p.members.length === 1)).toBe(true);
    expect(reviews).toEqual([{ kind: 'person', rule: 'email', value: 'shared@birch.example', records: [`${shop}/customer-a/a`, `${shop}/customer-b/b`, `${shop}/customer-c/c`], reason: 'held by 3 records, more than 2: it identifies no one person' }]);
    expect(blockedReason('email', 'noreply@x.example')).toMatch(/role address/);
    expect(blockedReason('domain', 'gmail.com')).toMatch(/free-mail/);
  });

  it('does not join two records the platform keeps apart, even through a third system: a review item instead', () => {
    const { profiles, reviews } = resolveIdentities([
      person(hub, 'contact', '1', { email: 'pat@birch.example' }),
      person(hub, 'contact', '2', { phone: '+4940999' }),
      person(zen, 'user', '5', { email: 'pat@birch.example', phone: '+4940999' }),
    ]);
    // E-mail joins first (stronger): contact 1 and user 5; the phone would add contact 2 to them.
    expect(profiles.map((p) => p.members.map((m) => m.key))).toEqual([[`${hub}/contact/1`, `${zen}/user/5`], [`${hub}/contact/2`]]);
    expect(reviews).toEqual([{ kind: 'person', rule: 'phone', value: '+4940999', records: [`${hub}/contact/2`, `${zen}/user/5`], reason: expect.stringMatching(/keeps apart/) }]);
  });

  it("carries the platform's own merges: merged-away ids are members of the survivor's profile", () => {
    const { profiles } = resolveIdentities([person(hub, 'contact', '10', { mergedFrom: ['11', '12'] })]);
    expect(profiles).toEqual([
      {
        kind: 'person',
        anchor: `${hub}/contact/10`,
        members: [
          { key: `${hub}/contact/10`, evidence: null },
          { key: `${hub}/contact/11`, evidence: { rule: 'upstream-merge', value: '11', with: `${hub}/contact/10` } },
          { key: `${hub}/contact/12`, evidence: { rule: 'upstream-merge', value: '12', with: `${hub}/contact/10` } },
        ],
      },
    ]);
  });

  it("an admin's merge joins what no identifier does, and an admin's separation keeps apart what identifiers would join", () => {
    const records = [
      person(hub, 'contact', '1', { email: 'sam@birch.example' }),
      person(zen, 'user', '2', { email: 'sam@birch.example' }),
      person(shop, 'customer', '3', { email: 'samuel@home.example' }),
    ];
    const [h, z, s] = [`${hub}/contact/1`, `${zen}/user/2`, `${shop}/customer/3`];
    const merged = resolveIdentities(records, { manualMerges: [[s, h]] });
    expect(merged.profiles).toHaveLength(1);
    expect(merged.profiles[0]!.members.find((m) => m.key === s)!.evidence).toEqual({ rule: 'manual-merge', value: `${h}+${s}`, with: h });
    const separated = resolveIdentities(records, { manualSeparations: [[z, h]] });
    expect(separated.profiles.map((p) => p.members.map((m) => m.key))).toEqual([[h], [z], [s]]);
    expect(separated.reviews).toEqual([]);
    // Never a person with an account, even by hand.
    const company: IdentityRecord = { key: { installationId: hub, objectType: 'company', externalId: '9' }, kind: 'account', domain: 'birch.example' };
    const crossed = resolveIdentities([...records, company], { manualMerges: [[h, `${hub}/company/9`]] });
    expect(crossed.profiles.find((p) => p.members.some((m) => m.key === `${hub}/company/9`))!.members.map((m) => m.key)).toEqual([`${hub}/company/9`]);
  });

  it('gives the same profiles, evidence and review items whatever order the records come in', () => {
    const installations = [hub, zen, shop];
    const records = fc.uniqueArray(
      fc.record({
        installation: fc.constantFrom(...installations),
        id: fc.integer({ min: 1, max: 12 }),
        email: fc.option(fc.constantFrom('a@x.example', 'b@x.example', 'info@x.example', 'c@y.example'), { nil: null }),
        verified: fc.boolean(),
        phone: fc.option(fc.constantFrom('+4911', '+4922', '+000'), { nil: null }),
        merged: fc.option(fc.integer({ min: 13, max: 15 }), { nil: null }),
      }),
      { selector: (r) => `${r.installation}/${r.id}`, maxLength: 18 },
    );
    fc.assert(
      fc.property(
        records.chain((rs) => fc.tuple(fc.constant(rs), fc.shuffledSubarray(rs, { minLength: rs.length, maxLength: rs.length }))),
        ([original, shuffled]) => {
          const toRecord = (r: (typeof original)[number]): IdentityRecord =>
            person(r.installation, 'contact', String(r.id), { email: r.email, emailVerified: r.verified, phone: r.phone, mergedFrom: r.merged === null ? [] : [String(r.merged)] });
          expect(resolveIdentities(shuffled.map(toRecord), { maxRecordsPerValue: 4 })).toEqual(resolveIdentities(original.map(toRecord), { maxRecordsPerValue: 4 }));
        },
      ),
      { numRuns: 300 },
    );
  });
});
