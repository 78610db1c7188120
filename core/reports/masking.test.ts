import { describe, expect, it } from 'vitest';
import { maskEmail, maskIp, maskName, maskPhone, maskReportData, scrubContacts } from './masking.ts';
import type { ReportData, SectionData } from './report-model.ts';
import { renderReport } from './render/index.ts';
import { fixturePeople, personalLeaks as leaks, personalStrings, reportFixture } from './render/report-fixture.ts';

type Of<T extends SectionData['type']> = Extract<SectionData, { type: T }>;
const section = <T extends SectionData['type']>(data: ReportData, type: T, n = 0): Of<T> => data.sections.filter((s): s is Of<T> => s.type === type)[n]!;
const summary = (data: ReportData, name: string): Of<'summary'> => data.sections.find((s): s is Of<'summary'> => s.type === 'summary' && s.summary === name)!;

describe('masking primitives', () => {
  it('masks names word by word, e-mails keeping the domain, phones keeping two digits', () => {
    expect(maskName('Jane Doe')).toBe('J*** D***');
    expect(maskName('  Óscar   Martínez ')).toBe('Ó*** M***');
    expect(maskName('jane@example.org')).toBe('j***@example.org');
    expect(maskEmail('jane.doe@example.org')).toBe('j***@example.org');
    expect(maskPhone('+49 30 1234567')).toBe('+** ** *****67');
    expect(maskPhone('(030) 555-0142')).toBe('(***) ***-**42');
  });

  it('keeps the network part of IP addresses', () => {
    expect(maskIp('203.0.113.42')).toBe('203.0.113.x');
    expect(maskIp('2001:db8:85a3::8a2e:370:7334')).toBe('2001:db8:x:x:x:x:x:x');
    expect(maskIp('fe80::1')).toBe('fe80:0:x:x:x:x:x:x');
    expect(maskIp('::1')).toBe('0:0:x:x:x:x:x:x');
  });

  it('finds contacts in free text and leaves dates, amounts, times and reference numbers alone', () => {
    expect(scrubContacts('Mail jane.doe@example.org, call +1 415 555 0199 or (030) 555-0142, from 198.51.100.7 and 2001:db8::1.')).toBe(
      'Mail j***@example.org, call +* *** *** **99 or (***) ***-**42, from 198.51.100.x and 2001:db8:x:x:x:x:x:x.',
    );
    const harmless = 'Invoice INV-2026-0042 of 2026-10-05 at 14:30:00, order #10023456, 1.234,50 € on 05.10.2026, ticket 4711';
    expect(scrubContacts(harmless)).toBe(harmless);
  });
});

describe('maskReportData', () => {
  it('returns the data untouched when the mode is none', () => {
    const data = reportFixture();
    expect(maskReportData(data)).toBe(data);
  });

  it('masks every personal field and free text when the mode is masked', () => {
    const masked = maskReportData(reportFixture({ masking: 'masked' }));
    const logins = summary(masked, 'login_history');
    expect(logins.rows[0]).toMatchObject({
      summary: 'Failed login for j***@example.org from 203.0.113.x',
      actor: 'J*** D***',
      customer: { name: 'J*** D***', email: 'j***@example.org' },
      details: { ip: '203.0.113.x', device: 'Firefox on Linux', location: 'Berlin, DE' },
    });
    expect(logins.rows[1]!.summary).toBe('Ó*** signed in');
    expect(logins.rows[5]!.summary).toBe('Failed login for o***@example.net from 2001:db8:x:x:x:x:x:x');
    const transactions = summary(masked, 'transaction_history');
    expect(transactions.rows[1]).toMatchObject({ summary: 'Refund for Ó***, call back on (***) ***-**42', actor: 'M*** R***' });
    expect(transactions.rows[2]!.summary).toBe('Renewal invoice INV-2026-0042');
    expect(summary(masked, 'interaction_log').rows[0]!.summary).toBe('Ticket: R*** A*** cannot reach +** *** ******89');
    expect(section(masked, 'customers').rows.map((r) => [r.name, r.email])).toEqual([
      ['L*** W***', 'l***@example.com'],
      ['J*** D***', 'j***@example.org'],
      ['Ó*** M***', 'o***@example.net'],
      ['R*** A***', null],
    ]);
    expect(section(masked, 'drill_down').customers[1]).toEqual({ customer: 'profile:91d0', name: 'Ó*** M***', email: 'o***@example.net' });
    expect(section(masked, 'text').text).toBe('Questions go to T*** B***.\n\nFigures are in the source currencies; nothing is converted.');
    expect(masked.sources[1]!.gaps[0]!.reason).toBe('token of r***@example.de expired');
    // Figures are not personal and stay as they were.
    expect(section(masked, 'kpis')).toEqual(section(reportFixture(), 'kpis'));
  });

  it('gives each customer one pseudonym everywhere, numbered in order of first appearance', () => {
    const anonymized = maskReportData(reportFixture({ masking: 'anonymized' }));
    const [jane, oscar, liang, ruth] = ['Customer 1', 'Customer 2', 'Customer 3', 'Customer 4'];
    // Transactions come first in the fixture: Jane, Óscar, Liang, Ruth.
    expect(summary(anonymized, 'transaction_history').rows.map((r) => r.customer)).toEqual([jane, oscar, liang, ruth].map((name) => ({ name, email: null })));
    expect(summary(anonymized, 'login_history').rows.slice(0, 4).map((r) => r.customer.name)).toEqual([jane, oscar, liang, ruth]);
    expect(section(anonymized, 'customers').rows.map((r) => [r.customer, r.name, r.email])).toEqual([
      [liang, liang, null],
      [jane, jane, null],
      [oscar, oscar, null],
      [ruth, ruth, null],
    ]);
    expect(section(anonymized, 'drill_down').customers.map((c) => c.name)).toEqual([jane, oscar]);
  });

  it('names agents "Agent N", keeps a customer acting on their own account, and scrubs free text', () => {
    const anonymized = maskReportData(reportFixture({ masking: 'anonymized' }));
    const transactions = summary(anonymized, 'transaction_history');
    expect(transactions.rows[1]).toMatchObject({ summary: 'Refund for Customer 2, call back on (***) ***-**42', actor: 'Agent 1' });
    const interactions = summary(anonymized, 'interaction_log');
    expect(interactions.rows.map((r) => [r.summary, r.actor])).toEqual([
      ['Ticket: Customer 4 cannot reach +** *** ******89', 'Agent 2'],
      ['Customer 1 wrote from j***@example.org about her invoice', 'Agent 1'],
    ]);
    expect(summary(anonymized, 'login_history').rows[2]).toMatchObject({ summary: 'Customer 3 signed in', actor: 'Customer 3' });
    expect(section(anonymized, 'text').text).toContain('Questions go to Agent 2.');
    expect(anonymized.masking).toBe('anonymized');
  });

  it('masks the subject of a single-customer report and the text that names them', () => {
    const [jane] = fixturePeople;
    const base = reportFixture({ masking: 'masked' });
    const data: ReportData = { ...base, subject: { name: jane.name, email: jane.email }, sections: [{ type: 'text', title: null, text: `Summary for ${jane.name} (${jane.phone})` }] };
    expect(maskReportData(data).subject).toEqual({ name: 'J*** D***', email: 'j***@example.org' });
    expect(section(maskReportData(data), 'text').text).toBe('Summary for J*** D*** (+** ** *****67)');
    expect(maskReportData({ ...data, masking: 'anonymized' }).subject).toEqual({ name: 'Customer 1', email: null });
  });

  for (const masking of ['masked', 'anonymized'] as const) {
    it(`leaves no name, e-mail, phone or address in any ${masking} HTML, CSV or JSON`, async () => {
      expect(leaks(JSON.stringify(reportFixture()))).toEqual(personalStrings);
      const data = maskReportData(reportFixture({ masking }));
      for (const format of ['html', 'csv', 'json'] as const) {
        const body = (await renderReport(data, format)).body.toString('utf8');
        expect({ format, leaks: leaks(body) }).toEqual({ format, leaks: [] });
      }
    });
  }
});
