/**
 * What the workflow's tests share: a hand-written report (data and files) behind a generator
 * stand-in, a real SMTP server on loopback that keeps every message it accepts (and refuses the
 * recipients a test names), and a small MIME reader for the raw messages.
 */
import type { AddressInfo } from 'node:net';
import nodemailer, { type Transporter } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import type { Logger } from '../../contract/index.ts';
import type { RenderedFile, ReportData, ReportGenerator } from '../report-model.ts';

export const silentLog: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** A consistent report: control totals agree with every section, the one source synced an hour before `generatedAt`. */
export function reportData(overrides: Partial<ReportData> = {}): ReportData {
  return {
    template: { slug: 'monthly-activity', title: 'Monthly activity', description: 'What happened last month' },
    tenant: { id: '00000000-0000-4000-8000-000000000001', name: 'Acme' },
    period: { from: '2026-10-01T00:00:00.000Z', to: '2026-11-01T00:00:00.000Z', text: '2026-10' },
    generatedAt: '2026-11-02T06:00:00.000Z',
    locale: 'en',
    timeZone: 'UTC',
    masking: 'none',
    segment: null,
    subject: null,
    sections: [
      { type: 'kpis', title: null, metrics: [{ metric: 'activities', kind: 'count', value: 9 }, { metric: 'revenue', kind: 'money', value: [{ currency: 'EUR', value: '250.00' }] }] },
      {
        type: 'summary',
        title: 'Payments',
        summary: 'transaction_history',
        filters: { categories: [], platforms: [] },
        total: 3,
        byCategory: [{ category: 'purchase', count: 2 }, { category: 'refund', count: 1 }],
        amounts: [{ currency: 'EUR', value: '230.00' }, { currency: 'USD', value: '15.5' }],
        rows: [],
        truncated: false,
      },
      { type: 'summary', title: 'Sign-ins', summary: 'login_history', filters: { categories: [], platforms: [] }, total: 4, byCategory: [{ category: 'login', count: 4 }], amounts: [], rows: [], truncated: false },
      { type: 'summary', title: null, summary: 'periodic_summary', filters: { categories: [], platforms: [] }, total: 2, byCategory: [{ category: 'note', count: 2 }], amounts: [], rows: [], truncated: false },
    ],
    sources: [{ installationId: '00000000-0000-4000-8000-000000000002', platform: 'shopify', accountName: 'acme-store', lastSyncedAt: '2026-11-02T05:00:00.000Z', gaps: [] }],
    control: { activitiesByKind: { transaction: 3, login: 4, custom: 2 }, revenue: [{ currency: 'EUR', value: '230' }, { currency: 'USD', value: '15.50' }], transactionAmounts: [{ currency: 'EUR', value: '230' }, { currency: 'USD', value: '15.50' }] },
    freshnessHours: 26,
    ...overrides,
  };
}

/** Enough of a PDF for a mail client: header, one empty page, trailer. */
const pdfBytes = Buffer.from(
  '%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n',
  'latin1',
);

export function reportFiles(data: ReportData, formats: readonly RenderedFile['format'][]): RenderedFile[] {
  const base = `${data.template.slug}-${data.period.text}`;
  const all: Record<RenderedFile['format'], RenderedFile> = {
    html: { format: 'html', contentType: 'text/html; charset=utf-8', fileName: `${base}.html`, body: Buffer.from(`<!doctype html><html><body><h1>${data.template.title}</h1><p>Period ${data.period.text}</p></body></html>`) },
    pdf: { format: 'pdf', contentType: 'application/pdf', fileName: `${base}.pdf`, body: pdfBytes },
    csv: { format: 'csv', contentType: 'text/csv; charset=utf-8', fileName: `${base}.csv`, body: Buffer.from('section,total\ntransaction_history,3\nlogin_history,4\n') },
    json: { format: 'json', contentType: 'application/json', fileName: `${base}.json`, body: Buffer.from(JSON.stringify(data)) },
  };
  return formats.map((format) => all[format]);
}

export interface FixtureGenerator {
  readonly generate: ReportGenerator;
  readonly calls: { templateSlug: string; period: string; timeZone: string; formats: readonly string[] }[];
}

/** Answers with `data()` (evaluated per run); throws `failures` times first, then succeeds. */
export function fixtureGenerator(options: { data?: () => ReportData; failures?: number } = {}): FixtureGenerator {
  const calls: FixtureGenerator['calls'] = [];
  let failuresLeft = options.failures ?? 0;
  const generate: ReportGenerator = ({ templateSlug, parameters, formats }) => {
    calls.push({ templateSlug, period: parameters.period, timeZone: parameters.timeZone, formats });
    if (failuresLeft > 0) {
      failuresLeft -= 1;
      return Promise.reject(new Error('the PDF printer stopped unexpectedly'));
    }
    const data = options.data ? options.data() : reportData();
    return Promise.resolve({ data, files: reportFiles(data, formats) });
  };
  return { generate, calls };
}

export interface CapturedMail {
  readonly to: string[];
  readonly raw: string;
}

export interface MailCapture {
  readonly mails: CapturedMail[];
  readonly transport: Transporter;
  /** Recipients refused with this SMTP reply code. */
  readonly refuse: Map<string, number>;
  close(): Promise<void>;
}

export async function startMailCapture(): Promise<MailCapture> {
  const mails: CapturedMail[] = [];
  const refuse = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onRcptTo(address, _session, callback) {
      const code = refuse.get(address.address);
      if (code === undefined) return callback();
      callback(Object.assign(new Error(code >= 500 ? 'mailbox unavailable' : 'try again later'), { responseCode: code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('latin1') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  return {
    mails,
    transport,
    refuse,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface MimePart {
  readonly headers: Readonly<Record<string, string>>;
  /** The decoded content of a leaf part. */
  readonly body: Buffer;
  readonly parts: readonly MimePart[];
}

function parseHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function decodeBody(body: string, encoding: string | undefined): Buffer {
  if (encoding?.toLowerCase() === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (encoding?.toLowerCase() === 'quoted-printable') {
    return Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
  }
  return Buffer.from(body, 'latin1');
}

/** Reads a raw message into its parts (multipart bodies recursively); enough for nodemailer's output. */
export function parseMime(raw: string): MimePart {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = parseHeaders(raw.slice(0, split));
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (!boundary || !(headers['content-type'] ?? '').toLowerCase().startsWith('multipart/')) {
    return { headers, body: decodeBody(body.replace(/\r?\n$/, ''), headers['content-transfer-encoding']), parts: [] };
  }
  const sections = body.split(`--${boundary}`).slice(1, -1);
  return { headers, body: Buffer.alloc(0), parts: sections.map((section) => parseMime(section.replace(/^\r?\n/, '').replace(/\r?\n$/, ''))) };
}

/** Every leaf part, depth first. */
export function leafParts(part: MimePart): MimePart[] {
  return part.parts.length === 0 ? [part] : part.parts.flatMap(leafParts);
}

/** The decoded text of a message's first text/plain part. */
export function plainText(raw: string): string {
  const text = leafParts(parseMime(raw)).find((p) => (p.headers['content-type'] ?? '').startsWith('text/plain'));
  return text ? text.body.toString('utf8') : '';
}
