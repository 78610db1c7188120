/**
 * Tampering with any single entry of a chain is detected, and the first entry that does not hold
 * is named: property tests over random chains and random positions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chainEntries, entryHash, genesisHash, type LedgerEntry } from './ledger.ts';
import { verifyEntries } from './verify.ts';

const tenantId = '7d0c5b8e-6a0b-4f3e-9d55-0f0a1c2b3d4e';
const at = new Date('2026-11-23T08:00:00.000Z');

const bodies = fc.array(fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)), { maxKeys: 4 }), { minLength: 2, maxLength: 30 });
const chainOf = (items: Record<string, unknown>[]): LedgerEntry[] => chainEntries(tenantId, genesisHash, 0, items.map((body) => ({ kind: 'activity', body })), at);
/** A chain and a position in it (1-based sequence number). */
const chainAndPosition = bodies.chain((items) => fc.tuple(fc.constant(chainOf(items)), fc.integer({ min: 1, max: items.length })));

describe('ledger chain verification', () => {
  it('an untouched chain verifies whole', () => {
    fc.assert(
      fc.property(bodies, (items) => {
        const chain = chainOf(items);
        expect(verifyEntries(chain)).toMatchObject({ verified: chain.length, firstBreak: null });
      }),
    );
  });

  it("altering any entry's content is caught at that entry", () => {
    fc.assert(
      fc.property(chainAndPosition, fc.string({ minLength: 1 }), ([chain, k], value) => {
        const tampered = chain.map((e) => (e.seq === k ? { ...e, body: { ...e.body, tampered: value } } : e));
        expect(verifyEntries(tampered).firstBreak).toMatchObject({ seq: k, reason: expect.stringMatching(/altered/) });
      }),
    );
  });

  it("altering any entry's stored hash is caught at that entry (or, for its own content, the next one)", () => {
    fc.assert(
      fc.property(chainAndPosition, ([chain, k]) => {
        const tampered = chain.map((e) => (e.seq === k ? { ...e, hash: Buffer.alloc(32, 1) } : e));
        expect(verifyEntries(tampered).firstBreak?.seq).toBe(k);
      }),
    );
  });

  it('deleting any entry but the last is caught at the missing sequence number', () => {
    fc.assert(
      fc.property(chainAndPosition, ([chain, k]) => {
        fc.pre(k < chain.length);
        const tampered = chain.filter((e) => e.seq !== k);
        expect(verifyEntries(tampered).firstBreak).toMatchObject({ seq: k, reason: expect.stringMatching(/missing/) });
      }),
    );
  });

  it('swapping the places of any two neighbours is caught at the first of them', () => {
    fc.assert(
      fc.property(chainAndPosition, ([chain, k]) => {
        fc.pre(k < chain.length);
        // The rows keep their content and hashes but trade sequence numbers.
        const tampered = chain.map((e) => (e.seq === k ? { ...chain[k]!, seq: k } : e.seq === k + 1 ? { ...chain[k - 1]!, seq: k + 1 } : e));
        expect(verifyEntries(tampered).firstBreak?.seq).toBe(k);
      }),
    );
  });

  it('inserting a forged entry is caught: at the forgery when its hash is wrong, at the entry after it when the forger hashed it correctly', () => {
    fc.assert(
      fc.property(chainAndPosition, fc.boolean(), ([chain, k], forgerHashes) => {
        const prev = k === 1 ? genesisHash : chain[k - 2]!.hash;
        const forged = { tenantId, seq: k, kind: 'activity', body: { forged: true }, corrects: null, recordedAt: at.toISOString(), prevHash: prev };
        const forgery: LedgerEntry = { ...forged, hash: forgerHashes ? entryHash(prev, forged) : Buffer.alloc(32, 2) };
        const tampered = [...chain.slice(0, k - 1), forgery, ...chain.slice(k - 1).map((e) => ({ ...e, seq: e.seq + 1 }))];
        expect(verifyEntries(tampered).firstBreak?.seq).toBe(forgerHashes ? k + 1 : k);
      }),
    );
  });
});
