/**
 * HubSpot keeps phones, countries, domains and amounts as free text; the canonical model wants
 * E.164, ISO 3166 codes, bare domains and decimal strings. Anything that cannot be normalized is
 * left out of the canonical field (the raw value stays in the stored payload), never guessed.
 */

/** `+49 (30) 123-4567` → `+49301234567`; numbers without a country code are not guessed. */
export function e164(phone: string | null): string | null {
  if (phone === null) return null;
  const trimmed = phone.trim();
  const digits = trimmed.replace(/[\s().-]/g, '');
  const international = digits.startsWith('00') ? `+${digits.slice(2)}` : digits;
  return /^\+[1-9]\d{6,14}$/.test(international) ? international : null;
}

let regionByName: Map<string, string> | null = null;

/** English region names → ISO 3166-1 alpha-2, from the runtime's own CLDR data. */
function regions(): Map<string, string> {
  if (regionByName) return regionByName;
  const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
  const map = new Map<string, string>();
  for (let a = 65; a <= 90; a++) {
    for (let b = 65; b <= 90; b++) {
      const code = String.fromCharCode(a, b);
      const name = names.of(code);
      // First code wins: FR before FX ("Metropolitan France" is also named France by some data).
      if (name !== undefined && name !== code && !map.has(name.toLowerCase())) map.set(name.toLowerCase(), code);
    }
  }
  for (const [alias, code] of [['usa', 'US'], ['united states of america', 'US'], ['uk', 'GB'], ['england', 'GB'], ['deutschland', 'DE'], ['españa', 'ES']] as const) map.set(alias, code);
  regionByName = map;
  return map;
}

export function countryCode(country: string | null): string | null {
  if (country === null) return null;
  const value = country.trim();
  if (/^[A-Za-z]{2}$/.test(value)) {
    const code = value.toUpperCase();
    return [...regions().values()].includes(code) ? code : null;
  }
  return regions().get(value.toLowerCase()) ?? null;
}

/** `https://www.Acme.example/about` → `acme.example`. */
export function bareDomain(domain: string | null): string | null {
  if (domain === null) return null;
  const host = domain.trim().toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/[/?#].*$/, '').replace(/^www\./, '').replace(/:\d+$/, '');
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(host) ? host : null;
}

/** `1200.5` → `1200.5`; `1,200.50` or `abc` → null (HubSpot number properties are plain decimals). */
export function decimal(amount: string | null): string | null {
  if (amount === null) return null;
  const value = amount.trim();
  if (!/^-?\d{1,16}(\.\d+)?$/.test(value)) return null;
  const [whole, fraction] = value.split('.');
  if (fraction === undefined) return whole ?? null;
  const kept = fraction.slice(0, 4).replace(/0+$/, '');
  return kept === '' ? (whole ?? null) : `${whole}.${kept}`;
}

export function currencyCode(code: string | null): string | null {
  return code !== null && /^[A-Za-z]{3}$/.test(code.trim()) ? code.trim().toUpperCase() : null;
}
