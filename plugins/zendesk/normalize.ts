/**
 * Zendesk keeps phones, e-mails and organization domains as admins typed them; the canonical model
 * wants E.164, valid addresses and bare domains. A value that cannot be normalized stays out of the
 * canonical field (the raw value is kept in the stored payload), never guessed.
 */

/** `+49 30 123-4567` → `+49301234567`; a number without a country code is not guessed. */
export function e164(phone: string | null | undefined): string | null {
  if (!phone) return null;
  const digits = phone.trim().replace(/[\s().-]/g, '');
  const international = digits.startsWith('00') ? `+${digits.slice(2)}` : digits;
  return /^\+[1-9]\d{6,14}$/.test(international) ? international : null;
}

/** An address the canonical model accepts; Zendesk also stores placeholders such as `+491234@sms.example`. */
export function emailAddress(email: string | null | undefined): string | null {
  const value = email?.trim().toLowerCase() ?? '';
  return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value) ? value : null;
}

/** `https://www.Acme.example/about` → `acme.example`. */
export function bareDomain(domain: string | null | undefined): string | null {
  if (!domain) return null;
  const host = domain.trim().toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/[/?#].*$/, '').replace(/^www\./, '').replace(/:\d+$/, '');
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(host) ? host : null;
}

/** One line of a comment for a timeline: tags and whitespace folded, at most `max` characters. */
export function oneLine(text: string | null | undefined, max = 160): string {
  const line = (text ?? '').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}
