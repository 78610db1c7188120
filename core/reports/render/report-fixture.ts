/**
 * A hand-built report for the renderer and masking tests: every section type, three currencies,
 * a heat map, and a login table long enough to run over several PDF pages. The people in it, and
 * every personal string that masking must remove, are listed in `fixturePeople`.
 */
import type { ReportData, ReportLocale, ReportRow, MaskingMode } from '../report-model.ts';

export const fixturePeople = [
  { name: 'Jane Doe', email: 'jane.doe@example.org', phone: '+49 30 1234567', ip: '203.0.113.42' },
  { name: 'Óscar Martínez', email: 'oscar.martinez@example.net', phone: '(030) 555-0142', ip: '2001:db8:85a3::8a2e:370:7334' },
  { name: 'Liang Wei', email: 'liang@example.com', phone: '+1 415 555 0199', ip: '198.51.100.7' },
  { name: 'Ruth Ackermann', email: 'ruth.ackermann@example.de', phone: '+49 151 23456789', ip: '192.0.2.150' },
] as const;

export const fixtureAgents = ['Marta Ruiz', 'Tom Becker'] as const;

/** Every string masking must remove from every rendered format. */
export const personalStrings: readonly string[] = [
  ...fixturePeople.flatMap((p) => [p.name, ...p.name.split(' '), p.email, p.phone, p.ip]),
  ...fixtureAgents.flatMap((a) => [a, ...a.split(' ')]),
];

/** The personal strings found in `text` as whole words (so "Tom" does not match inside "Bottom"). */
export function personalLeaks(text: string): string[] {
  return personalStrings.filter((s) => new RegExp(`(?<![\\p{L}\\p{N}])${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}])`, 'u').test(text));
}

const loginRows: ReportRow[] = Array.from({ length: 64 }, (_, i) => {
  const person = fixturePeople[i % fixturePeople.length]!;
  const failed = i % 5 === 0;
  const day = 31 - Math.floor(i / 3);
  return {
    occurredAt: `2026-10-${String(day).padStart(2, '0')}T${String(8 + (i % 10)).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}:00.000Z`,
    platform: i % 2 === 0 ? 'shopify' : 'hubspot',
    kind: 'login',
    category: failed ? 'login_failed' : 'login_succeeded',
    summary: failed ? `Failed login for ${person.email} from ${person.ip}` : `${person.name.split(' ')[0]} signed in`,
    actor: person.name,
    customer: { name: person.name, email: person.email },
    amount: null,
    details: { ip: person.ip, device: i % 3 === 0 ? 'Firefox on Linux' : 'Safari on iPhone', location: 'Berlin, DE', ...(failed ? { failureReason: 'wrong password' } : {}) },
  };
});

const [jane, oscar, liang, ruth] = fixturePeople;

const transactionRows: ReportRow[] = [
  { occurredAt: '2026-10-30T15:20:00.000Z', platform: 'shopify', kind: 'transaction', category: 'purchase', summary: 'Order #1043 paid', actor: null, customer: { name: jane.name, email: jane.email }, amount: { currency: 'EUR', value: '1234.50' }, details: {} },
  { occurredAt: '2026-10-21T09:05:00.000Z', platform: 'shopify', kind: 'transaction', category: 'refund', summary: `Refund for Óscar, call back on ${oscar.phone}`, actor: fixtureAgents[0], customer: { name: oscar.name, email: oscar.email }, amount: { currency: 'EUR', value: '-89.90' }, details: {} },
  { occurredAt: '2026-10-12T18:45:00.000Z', platform: 'salesforce', kind: 'transaction', category: 'purchase', summary: 'Renewal invoice INV-2026-0042', actor: null, customer: { name: liang.name, email: liang.email }, amount: { currency: 'USD', value: '18250.00' }, details: {} },
  { occurredAt: '2026-10-02T14:05:00.000Z', platform: 'shopify', kind: 'transaction', category: 'purchase', summary: 'Order #1002 paid', actor: null, customer: { name: ruth.name, email: ruth.email }, amount: { currency: 'JPY', value: '125000' }, details: {} },
];

const interactionRows: ReportRow[] = [
  { occurredAt: '2026-10-29T10:00:00.000Z', platform: 'zendesk', kind: 'interaction', category: 'ticket', summary: `Ticket: ${ruth.name} cannot reach ${ruth.phone}`, actor: fixtureAgents[1], customer: { name: ruth.name, email: ruth.email }, amount: null, details: {} },
  { occurredAt: '2026-10-15T11:30:00.000Z', platform: 'hubspot', kind: 'interaction', category: 'email', summary: `Jane wrote from ${jane.email} about her invoice`, actor: fixtureAgents[0], customer: { name: jane.name, email: jane.email }, amount: null, details: {} },
];

const securityRows: ReportRow[] = [
  { occurredAt: '2026-10-18T03:12:00.000Z', platform: 'shopify', kind: 'security_alert', category: 'suspicious_login', summary: `Unusual sign-in for Liang from ${liang.ip}`, actor: null, customer: { name: liang.name, email: liang.email }, amount: null, details: { ip: liang.ip, location: 'Lagos, NG' } },
];

const profileRows: ReportRow[] = [
  { occurredAt: '2026-10-20T08:15:00.000Z', platform: 'hubspot', kind: 'profile_change', category: 'phone_changed', summary: `Phone changed to ${jane.phone}`, actor: jane.name, customer: { name: jane.name, email: jane.email }, amount: null, details: {} },
  { occurredAt: '2026-10-08T16:40:00.000Z', platform: 'salesforce', kind: 'profile_change', category: 'phone_changed', summary: `Mobile ${liang.phone} added by Marta`, actor: fixtureAgents[0], customer: { name: liang.name, email: liang.email }, amount: null, details: {} },
];

const heat = Array.from({ length: 7 }, (_, day) => Array.from({ length: 24 }, (_, hour) => (hour >= 8 && hour <= 18 ? ((day * 7 + hour * 3) % 11) + (day < 5 ? 6 : 1) : (hour + day) % 3 === 0 ? 1 : 0)));

export function reportFixture(overrides: { locale?: ReportLocale; masking?: MaskingMode; timeZone?: string } = {}): ReportData {
  return {
    template: { slug: 'account-activity', title: 'Account activity report', description: 'Everything customers did in the period.' },
    tenant: { id: '0d4f6a52-2b1e-4c3a-9d77-5a1f0e2b9c11', name: 'Nordlicht Handels GmbH' },
    period: { from: '2026-09-30T22:00:00.000Z', to: '2026-10-31T23:00:00.000Z', text: '2026-10' },
    generatedAt: '2026-11-01T07:30:00.000Z',
    locale: overrides.locale ?? 'en',
    timeZone: overrides.timeZone ?? 'Europe/Berlin',
    masking: overrides.masking ?? 'none',
    segment: { slug: 'vip', name: 'VIP customers', customers: 4 },
    subject: null,
    sections: [
      {
        type: 'kpis',
        title: null,
        metrics: [
          { metric: 'activities', kind: 'count', value: 1234 },
          { metric: 'active_customers', kind: 'count', value: 4 },
          { metric: 'revenue', kind: 'money', value: [{ currency: 'EUR', value: '1234.50' }, { currency: 'USD', value: '18250.00' }, { currency: 'JPY', value: '125000' }] },
          { metric: 'refunds', kind: 'money', value: [{ currency: 'EUR', value: '-89.90' }] },
          { metric: 'churn_rate', kind: 'ratio', value: 0.125 },
          { metric: 'cac', kind: 'money', value: [] },
        ],
      },
      {
        type: 'chart',
        title: null,
        chart: 'activity_over_time',
        series: ['login', 'transaction', 'interaction'].map((kind, k) => ({ label: kind, points: Array.from({ length: 31 }, (_, d) => ({ x: `2026-10-${String(d + 1).padStart(2, '0')}`, y: ((d * (k + 3)) % 9) + (k === 0 ? 6 : 1) })) })),
      },
      { type: 'chart', title: null, chart: 'revenue_over_time', series: [{ label: 'EUR', points: [{ x: '2026-08', y: 900 }, { x: '2026-09', y: 1500.25 }, { x: '2026-10', y: 1144.6 }] }, { label: 'USD', points: [{ x: '2026-08', y: 0 }, { x: '2026-09', y: 0 }, { x: '2026-10', y: 18250 }] }] },
      { type: 'chart', title: null, chart: 'activity_by_kind', series: [{ label: 'activities', points: [{ x: 'login', y: 64 }, { x: 'transaction', y: 4 }, { x: 'interaction', y: 2 }, { x: 'security_alert', y: 1 }] }] },
      { type: 'chart', title: null, chart: 'activity_heat_map', series: [], heat },
      { type: 'summary', title: null, summary: 'transaction_history', filters: { categories: [], platforms: [] }, total: 4, byCategory: [{ category: 'purchase', count: 3 }, { category: 'refund', count: 1 }], amounts: [{ currency: 'EUR', value: '1144.60' }, { currency: 'USD', value: '18250.00' }, { currency: 'JPY', value: '125000' }], rows: transactionRows, truncated: false },
      { type: 'summary', title: null, summary: 'login_history', filters: { categories: [], platforms: [] }, total: 80, byCategory: [{ category: 'login_succeeded', count: 66 }, { category: 'login_failed', count: 14 }], amounts: [], rows: loginRows, truncated: true },
      { type: 'summary', title: null, summary: 'interaction_log', filters: { categories: [], platforms: [] }, total: 2, byCategory: [{ category: 'ticket', count: 1 }, { category: 'email', count: 1 }], amounts: [], rows: interactionRows, truncated: false },
      { type: 'summary', title: null, summary: 'security_alerts', filters: { categories: [], platforms: [] }, total: 1, byCategory: [{ category: 'suspicious_login', count: 1 }], amounts: [], rows: securityRows, truncated: false },
      { type: 'summary', title: null, summary: 'profile_changes', filters: { categories: [], platforms: [] }, total: 2, byCategory: [{ category: 'phone_changed', count: 2 }], amounts: [], rows: profileRows, truncated: false },
      { type: 'summary', title: null, summary: 'notifications', filters: { categories: [], platforms: [] }, total: 0, byCategory: [], amounts: [], rows: [], truncated: false },
      {
        type: 'customers',
        title: null,
        sort: 'monetary',
        rows: [
          { customer: 'profile:7c1e', name: liang.name, email: liang.email, country: 'US', recencyDays: 3, frequency: 21, monetary: [{ currency: 'USD', value: '18250.00' }], rfm: { r: 5, f: 4, m: 5 }, churnRisk: { level: 'low', score: 10, reasons: ['no recent complaints'] } },
          { customer: 'profile:2a9b', name: jane.name, email: jane.email, country: 'DE', recencyDays: 1, frequency: 30, monetary: [{ currency: 'EUR', value: '1234.50' }], rfm: { r: 5, f: 5, m: 4 }, churnRisk: { level: 'low', score: 0, reasons: [] } },
          { customer: 'profile:91d0', name: oscar.name, email: oscar.email, country: 'ES', recencyDays: 45, frequency: 3, monetary: [{ currency: 'EUR', value: '-89.90' }], rfm: { r: 2, f: 1, m: 1 }, churnRisk: { level: 'high', score: 70, reasons: ['refund in the period', 'no activity for 45 days'] } },
          { customer: 'profile:55f3', name: ruth.name, email: null, country: null, recencyDays: null, frequency: 0, monetary: [], rfm: null, churnRisk: { level: 'unknown', score: 0, reasons: ['no activity recorded yet'] } },
        ],
      },
      {
        type: 'segment_comparison',
        title: null,
        columns: [
          { segment: 'vip', name: 'VIP customers', customers: 4, metrics: [{ metric: 'active_customers', kind: 'count', value: 4 }, { metric: 'revenue', kind: 'money', value: [{ currency: 'EUR', value: '1144.60' }, { currency: 'USD', value: '18250.00' }] }, { metric: 'churn_rate', kind: 'ratio', value: 0.25 }] },
          { segment: 'spain', name: 'Customers in Spain', customers: 1, metrics: [{ metric: 'active_customers', kind: 'count', value: 1 }, { metric: 'revenue', kind: 'money', value: [{ currency: 'EUR', value: '-89.90' }] }, { metric: 'churn_rate', kind: 'ratio', value: null }] },
        ],
      },
      { type: 'chart', title: null, chart: 'segment_share', series: [{ label: 'customers', points: [{ x: 'VIP customers', y: 4 }, { x: 'Customers in Spain', y: 1 }] }] },
      { type: 'drill_down', title: null, metric: 'new_customers', customers: [{ customer: 'profile:2a9b', name: jane.name, email: jane.email }, { customer: 'profile:91d0', name: oscar.name, email: oscar.email }], truncated: false },
      { type: 'text', title: 'About this report', text: `Questions go to ${fixtureAgents[1]}.\n\nFigures are in the source currencies; nothing is converted.` },
    ],
    sources: [
      { installationId: '6b0b8f0e-3f7e-4f63-9a53-3f1f4a9a1001', platform: 'shopify', accountName: 'nordlicht.myshopify.com', lastSyncedAt: '2026-11-01T06:00:00.000Z', gaps: [] },
      { installationId: '6b0b8f0e-3f7e-4f63-9a53-3f1f4a9a1002', platform: 'zendesk', accountName: 'nordlicht.zendesk.com', lastSyncedAt: null, gaps: [{ stream: 'tickets', status: 'failed', since: '2026-10-31T12:00:00.000Z', reason: `token of ${ruth.email} expired` }] },
    ],
    control: { activitiesByKind: { login: 80, transaction: 4, interaction: 2, security_alert: 1 }, revenue: [{ currency: 'EUR', value: '1234.50' }, { currency: 'USD', value: '18250.00' }, { currency: 'JPY', value: '125000' }], transactionAmounts: [{ currency: 'EUR', value: '1144.60' }, { currency: 'USD', value: '18250.00' }, { currency: 'JPY', value: '125000' }] },
    freshnessHours: 26,
  };
}
