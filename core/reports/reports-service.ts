/**
 * Everything the reports offer to the console, the API, the CLI and the workers, in one value:
 * templates, segments, spend, on-demand runs, and the request-to-delivery workflow with schedules.
 */
import type { Transporter } from 'nodemailer';
import type { Logger } from '../log/index.ts';
import type { SubjectKeyring } from '../privacy/index.ts';
import type { Config } from '../config/index.ts';
import type { SqlSession } from '../store/sql-session.ts';
import { createReportGenerator } from './generate.ts';
import { createPdfPrinter, type PdfPrinter } from './render/index.ts';
import type { ReportGenerator, ReportTemplate } from './report-model.ts';
import { createSegmentStore, type SavedSegment } from './segments.ts';
import { importSpendCsv, listSpend, recordSpend } from './spend.ts';
import { createTemplateStore } from './templates.ts';
import { createReportWorkflow, type ReportWorkflow } from './workflow/index.ts';

export interface TemplateStore {
  /** The built-in library first, then the tenant's own templates. */
  list(tenantId: string): Promise<readonly ReportTemplate[]>;
  get(tenantId: string, slug: string): Promise<ReportTemplate | null>;
  /** Validates `input` (TemplateDefinition); a built-in slug cannot be overwritten (LL_CONFLICT). */
  save(tenantId: string, slug: string, input: unknown, by: string): Promise<ReportTemplate>;
  remove(tenantId: string, slug: string, by: string): Promise<void>;
}

export interface SegmentStore {
  list(tenantId: string): Promise<readonly SavedSegment[]>;
  get(tenantId: string, slug: string): Promise<SavedSegment | null>;
  save(tenantId: string, slug: string, input: unknown, by: string): Promise<SavedSegment>;
  remove(tenantId: string, slug: string, by: string): Promise<void>;
  /** How many customers match now. */
  size(tenantId: string, slug: string): Promise<number>;
}

export interface SpendEntry {
  readonly spentOn: string;
  readonly channel: string;
  readonly currency: string;
  readonly amount: string;
}

export interface SpendBook {
  importCsv(tenantId: string, csv: string, by: string): Promise<{ rows: number; replaced: number }>;
  record(tenantId: string, entry: SpendEntry, by: string): Promise<void>;
  list(tenantId: string, range?: { from?: Date; to?: Date }): Promise<readonly (SpendEntry & { importedAt: Date; importedBy: string })[]>;
}

export interface ReportsService {
  readonly templates: TemplateStore;
  readonly segments: SegmentStore;
  readonly spend: SpendBook;
  /** Collect → mask → render, on demand (console preview, CLI). */
  readonly generate: ReportGenerator;
  readonly workflow: ReportWorkflow;
  /** Name and e-mail of a synced person record (where a summary sent on their behalf goes); null when never synced. */
  contactOf(tenantId: string, installationId: string, objectType: string, externalId: string): Promise<{ readonly name: string | null; readonly email: string | null } | null>;
  /** Stops the PDF printer (Chromium) if one was started. */
  close(): Promise<void>;
}

export interface ReportsServiceOptions {
  readonly sql: SqlSession;
  readonly keyring: SubjectKeyring;
  /** SMTP transport for e-mailed reports; null fails e-mail deliveries visibly (see the workflow). */
  readonly mail: Transporter | null;
  readonly mailFrom: string;
  /** Where secure links and the portal point. */
  readonly publicUrl: string;
  readonly log: Logger;
  /** Chromium for PDFs (CHROMIUM_PATH, else /usr/bin/chromium, when omitted). */
  readonly chromiumPath?: string;
  /** Hours to deliver a requested report and to acknowledge a delivered one before each escalates. */
  readonly sla?: { readonly generateHours?: number; readonly acknowledgeHours?: number };
  readonly linkTtlHours?: number;
  readonly now?: () => Date;
}

export function createReportsService(options: ReportsServiceOptions): ReportsService {
  const { sql } = options;
  const templates = createTemplateStore(sql);
  const segments = createSegmentStore(sql);
  const spend: SpendBook = {
    importCsv: (tenantId, csv, by) => importSpendCsv(sql, tenantId, csv, by),
    record: (tenantId, entry, by) => recordSpend(sql, tenantId, entry, by),
    list: (tenantId, range) => listSpend(sql, tenantId, range),
  };
  // Chromium starts on the first PDF only, once: concurrent runs wait for the same start.
  let printer: Promise<PdfPrinter> | null = null;
  const startPrinter = (): Promise<PdfPrinter> => {
    printer ??= createPdfPrinter(options.chromiumPath ? { executablePath: options.chromiumPath } : {}).catch((error: unknown) => {
      printer = null;
      throw error;
    });
    return printer;
  };
  const generate = createReportGenerator({ sql, keyring: options.keyring, templates, segments, printer: startPrinter, ...(options.now ? { now: options.now } : {}) });
  const workflow = createReportWorkflow({
    sql,
    generate,
    mail: options.mail,
    mailFrom: options.mailFrom,
    publicUrl: options.publicUrl,
    log: options.log,
    ...(options.sla ? { sla: options.sla } : {}),
    ...(options.linkTtlHours ? { linkTtlHours: options.linkTtlHours } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    templates,
    segments,
    spend,
    generate,
    workflow,
    async contactOf(tenantId, installationId, objectType, externalId) {
      const [row] = await sql.query<{ name: string | null; email: string | null }>(
        `select coalesce(canonical -> 'persons' -> 0 ->> 'displayName', nullif(concat_ws(' ', canonical -> 'persons' -> 0 ->> 'firstName', canonical -> 'persons' -> 0 ->> 'lastName'), '')) as name,
                canonical -> 'persons' -> 0 ->> 'email' as email
           from source_record where tenant_id = $1 and installation_id = $2 and object_type = $3 and external_id = $4 and deleted_at is null`,
        [tenantId, installationId, objectType, externalId],
      );
      return row ?? null;
    },
    async close() {
      const started = printer;
      printer = null;
      if (started) await (await started.catch(() => null))?.close();
    },
  };
}

/** The reports' settings of a configuration (SMTP comes from deliveryOptionsFrom). */
export const reportsOptionsFrom = (config: Pick<Config, 'publicUrl' | 'mailFrom' | 'chromiumPath' | 'reportSla' | 'reportLinkTtlHours'>) => ({
  publicUrl: config.publicUrl,
  mailFrom: config.mailFrom,
  chromiumPath: config.chromiumPath,
  sla: config.reportSla,
  linkTtlHours: config.reportLinkTtlHours,
});
