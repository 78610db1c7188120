/**
 * A real Ledgerline server for the reports tests: the store on a test database, the reports
 * service as `ledgerline serve` wires it, an admin token, and a tenant with a small October 2026
 * of activity and a fresh sync. Sent mail is kept in memory (nodemailer's JSON transport) so a
 * test can read the secure link and one-time code a recipient would get.
 */
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { SendMailOptions, SentMessageInfo, Transporter } from 'nodemailer';
import { createLogger } from '../../core/log/index.ts';
import type { ActivityRecord } from '../../core/model/index.ts';
import { createReportsService } from '../../core/reports/reports-service.ts';
import type { ReportsService } from '../../core/reports/reports-service.ts';
import { startServer, storeBackedDeps } from '../../core/server/index.ts';
import type { RunningServer, ServerConfig } from '../../core/server/index.ts';
import { ingestBatch } from '../../core/store/index.ts';
import { seedInstallation, testKeyring, type TestDatabase } from '../support/database.ts';

export const stackAdminToken = 'report-stack-admin-token-0123456789';

export interface SentMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export interface ReportStack {
  readonly url: string;
  readonly reports: ReportsService;
  readonly mail: SentMail[];
  readonly logLines: string[];
  close(): Promise<void>;
}

export interface SeededTenant {
  readonly tenantId: string;
  readonly slug: string;
  readonly installationId: string;
  /** What the seed puts in October 2026: the figures a report of that month must show. */
  readonly october: { readonly activities: number; readonly customers: number; readonly revenueEur: string };
}

/** Addresses and bodies as nodemailer was given them (a string here; a Buffer or address object is shown as such). */
function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return value === undefined ? '' : JSON.stringify(value);
}

/** A mail transport that delivers into `box`: nodemailer builds the message, nothing leaves the process. */
function capturingTransport(box: SentMail[]): Transporter {
  const transport = nodemailer.createTransport({ jsonTransport: true });
  const send = transport.sendMail.bind(transport);
  const capture = async (message: SendMailOptions): Promise<SentMessageInfo> => {
    const info: SentMessageInfo = await send(message);
    box.push({ to: asText(message.to), subject: asText(message.subject), text: asText(message.text), html: asText(message.html) });
    return info;
  };
  return Object.assign(transport, { sendMail: capture });
}

export async function startReportStack(db: TestDatabase, options: { adminToken?: string } = {}): Promise<ReportStack> {
  const logLines: string[] = [];
  const log = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } });
  const mail: SentMail[] = [];
  const config: ServerConfig = { env: 'test', adminToken: options.adminToken ?? stackAdminToken, publicUrl: 'http://localhost:3000', environment: {}, encryptionKeySource: 'environment' };
  const reports = createReportsService({ sql: db.sql, keyring: testKeyring, mail: capturingTransport(mail), mailFrom: 'reports@ledgerline.test', publicUrl: config.publicUrl, log });
  let server: RunningServer;
  try {
    server = await startServer({ ...storeBackedDeps({ config, log, database: db, plugins: [], frameAncestors: [] }), reports }, { port: 0, host: '127.0.0.1' });
  } catch (error) {
    await reports.close();
    throw error;
  }
  return {
    url: server.url,
    reports,
    mail,
    logLines,
    async close() {
      await server.close();
      await reports.close();
    },
  };
}

function activity(person: string, kind: ActivityRecord['kind'], category: string, at: string, amount: string | null): ActivityRecord {
  return {
    kind,
    category,
    occurredAt: new Date(at),
    subject: { kind: 'person', objectType: 'customer', externalId: person },
    driver: null,
    source: { objectType: 'event', externalId: randomUUID() },
    discriminator: 'main',
    amount: amount === null ? null : { value: amount, currency: 'EUR' },
    summary: `${category.replaceAll('_', ' ')} by ${person}`,
    attributes: {},
  };
}

/**
 * A tenant with one Shopify installation synced a minute ago and, in October 2026, 9 activities of
 * 3 customers: purchases of 120.00 + 80.50 + 40.00 EUR less a 20.50 EUR refund = 220.00 EUR.
 */
export async function seedReportTenant(db: TestDatabase, slug: string): Promise<SeededTenant> {
  const { tenantId, installationId } = await seedInstallation(db, { slug, platform: 'shopify' });
  const activities = [
    activity('ada', 'login', 'login', '2026-10-02T08:15:00Z', null),
    activity('ada', 'transaction', 'purchase', '2026-10-03T10:00:00Z', '120.00'),
    activity('ada', 'transaction', 'refund', '2026-10-20T10:00:00Z', '20.50'),
    activity('ben', 'transaction', 'purchase', '2026-10-07T14:30:00Z', '80.50'),
    activity('ben', 'interaction', 'email', '2026-10-08T09:00:00Z', null),
    activity('ben', 'security_alert', 'failed_login', '2026-10-09T23:10:00Z', null),
    activity('cyd', 'login', 'login', '2026-10-12T07:45:00Z', null),
    activity('cyd', 'transaction', 'purchase', '2026-10-15T16:00:00Z', '40.00'),
    activity('cyd', 'notification', 'receipt', '2026-10-15T16:01:00Z', null),
  ];
  await db.sql.transaction((tx) => ingestBatch((s, p) => tx.query(s, p), { tenantId, installationId, sourceRecords: [], activities, keyring: testKeyring }));
  // A fresh successful sync: the quality check passes the source as current.
  await db.sql.query(`insert into sync_state (tenant_id, installation_id, stream, status, last_success_at) values ($1, $2, 'orders', 'idle', now() - interval '1 minute')`, [tenantId, installationId]);
  return { tenantId, slug, installationId, october: { activities: activities.length, customers: 3, revenueEur: '220.00' } };
}
