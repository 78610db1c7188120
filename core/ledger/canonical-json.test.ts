import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize } from './canonical-json.ts';

describe('canonical JSON (RFC 8785)', () => {
  it("serialises the RFC's sample exactly (its §3.2.2 / appendix values)", () => {
    const input = JSON.parse('{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}') as unknown;
    expect(canonicalize(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('sorts member names by UTF-16 code units, not by code points or locale', () => {
    // RFC 8785 §3.2.3's example: U+20AC, U+1F600 (a surrogate pair), U+0080, "1", U+00F6 ("ö").
    const input = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    // (Read the names off the text: JSON.parse would move the integer-like "1" to the front.)
    const names = [...canonicalize(input).matchAll(/"((?:[^"\\]|\\.)*)":/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    expect(names).toEqual(['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
  });

  it('refuses what JSON cannot carry instead of changing it', () => {
    expect(() => canonicalize({ a: Number.NaN })).toThrow(/a is NaN/);
    expect(() => canonicalize({ a: [1, Infinity] })).toThrow(/a\[1\] is Infinity/);
    expect(() => canonicalize({ s: 'x\ud800' })).toThrow(/lone surrogate/);
    expect(() => canonicalize({ f: () => 1 })).toThrow(/is a function/);
    expect(() => canonicalize([1, undefined])).toThrow(/\[1\] is undefined/);
  });

  it('is a fixed point: parsing and canonicalising again gives the same text, whatever the key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalize(value);
        expect(canonicalize(JSON.parse(text))).toBe(text);
        const reversed = JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v))) as unknown;
        expect(canonicalize(reversed)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
