/**
 * What every part of the report workflow shares: the database, the generator, the mail transport,
 * the clock and the settings (SLA hours, link lifetime, retries) — validated once when the
 * workflow is created — plus the one way the parts append to the ledger.
 */
import type { Transporter } from 'nodemailer';
import { z } from 'zod';
import type { Logger } from '../../contract/index.ts';
import { invalidInput } from '../../errors/index.ts';
import { appendEntries, type LedgerEntryInput, type LedgerExecutor } from '../../ledger/ledger.ts';
import type { SqlSession } from '../../store/sql-session.ts';
import type { ReportGenerator } from '../report-model.ts';

export interface ReportWorkflowOptions {
  readonly sql: SqlSession;
  /** Collect → mask → render (core/reports/generate.ts). */
  readonly generate: ReportGenerator;
  /** SMTP transport; without one, e-mail deliveries fail with that reason (portal delivery works). */
  readonly mail: Transporter | null;
  readonly mailFrom: string;
  /** Where Ledgerline is reached from outside: secure links point here. */
  readonly publicUrl: string;
  readonly log: Logger;
  readonly now?: () => Date;
  readonly sla?: { readonly generateHours?: number; readonly acknowledgeHours?: number };
  readonly linkTtlHours?: number;
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
}

const Settings = z.strictObject({
  mailFrom: z.string().trim().min(3).max(320),
  publicUrl: z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, '')),
  generateHours: z.number().positive().max(24 * 90).default(4),
  acknowledgeHours: z.number().positive().max(24 * 365).default(72),
  linkTtlHours: z.number().positive().max(24 * 90).default(72),
  maxAttempts: z.number().int().min(1).max(50).default(5),
  retryBaseMs: z.number().int().min(0).max(86_400_000).default(60_000),
});
export type WorkflowSettings = z.infer<typeof Settings>;

export interface WorkflowContext {
  readonly sql: SqlSession;
  readonly generate: ReportGenerator;
  readonly mail: Transporter | null;
  readonly log: Logger;
  readonly now: () => Date;
  readonly settings: WorkflowSettings;
}

export function workflowContext(options: ReportWorkflowOptions): WorkflowContext {
  const settings = Settings.safeParse({
    mailFrom: options.mailFrom,
    publicUrl: options.publicUrl,
    generateHours: options.sla?.generateHours,
    acknowledgeHours: options.sla?.acknowledgeHours,
    linkTtlHours: options.linkTtlHours,
    maxAttempts: options.maxAttempts,
    retryBaseMs: options.retryBaseMs,
  });
  if (!settings.success) throw invalidInput('report workflow settings', settings.error.issues);
  return { sql: options.sql, generate: options.generate, mail: options.mail, log: options.log, now: options.now ?? (() => new Date()), settings: settings.data };
}

export const executor =
  (tx: Pick<SqlSession, 'query'>): LedgerExecutor =>
  (sql, params) =>
    tx.query(sql, params);

/** Appends inside the caller's transaction, so the entry and the state change commit together. */
export async function record(tx: SqlSession, tenantId: string, entries: readonly LedgerEntryInput[], now: Date): Promise<void> {
  await appendEntries(executor(tx), tenantId, entries, now);
}

export const hoursAfter = (at: Date, hours: number): Date => new Date(at.getTime() + hours * 3_600_000);

/** How the ledger names a recipient: enough to recognise, not an address to harvest. */
export function maskEmail(address: string | null): string | null {
  if (address === null) return null;
  const at = address.lastIndexOf('@');
  if (at < 1) return '***';
  return `${address.slice(0, 1)}***${address.slice(at)}`;
}
