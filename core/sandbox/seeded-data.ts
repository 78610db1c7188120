/**
 * What the sandbox emulators generate their accounts from: a seedable PRNG and the name lists, so
 * two emulators seeded alike (HubSpot's and Zendesk's) draw from the same people and companies.
 */
/** A small, fast, seedable PRNG (mulberry32) over a 32-bit hash of the inputs. */
export function random(seed: number, ...keys: (string | number)[]): () => number {
  let h = seed >>> 0;
  for (const key of keys) {
    const text = String(key);
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 2654435761) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 2246822507) >>> 0;
  }
  let a = h || 1;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(r: () => number, items: readonly T[]): T => items[Math.floor(r() * items.length)] as T;

export const firstNames = ['Ada', 'Bruno', 'Chiara', 'Dmitri', 'Elena', 'Farid', 'Greta', 'Hiro', 'Ines', 'Jonas', 'Kaito', 'Lena', 'Mateo', 'Nora', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tara', 'Umar', 'Vera', 'Wen', 'Yara', 'Zoe'];
export const lastNames = ['Almeida', 'Becker', 'Castillo', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Hansen', 'Ivanova', 'Jensen', 'Kowalski', 'Lindqvist', 'Moreau', 'Novak', 'Okafor', 'Petrov', 'Rossi', 'Schmidt', 'Tanaka', 'Urban', 'Vargas', 'Weber', 'Yilmaz', 'Zimmer'];
export const companyWords = ['Acme', 'Birch', 'Cobalt', 'Delta', 'Ember', 'Fjord', 'Granite', 'Harbor', 'Ion', 'Juniper', 'Kestrel', 'Lumen', 'Meridian', 'Nimbus', 'Orchid', 'Pinnacle'];
export const companySuffix = ['Logistics', 'Foods', 'Labs', 'Retail', 'Health', 'Energy', 'Studios', 'Systems'];
