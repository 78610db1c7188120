/**
 * The account activity summary as it leaves Ledgerline: one JSON shape for every host panel
 * (HubSpot cards fetch it, Zendesk and Canvas pages render it, Shopify extensions fetch it) and for
 * the console preview. The schema is the contract; the HubSpot card keeps its own copy of the type
 * (a HubSpot project uploads on its own) and `summary-contract.typetest.ts` proves the two agree.
 */
import { z } from 'zod';
import { activityKinds } from '../model/index.ts';

const IsoTime = z.iso.datetime({ offset: true });
const SummaryMoney = z.strictObject({ value: z.string(), currency: z.string() });

export const SummarySource = z.strictObject({
  platform: z.string(),
  installationId: z.string(),
  objectType: z.string(),
  externalId: z.string(),
});

export const SummaryTimelineItem = z.strictObject({
  id: z.string(),
  kind: z.enum(activityKinds),
  category: z.string(),
  occurredAt: IsoTime,
  summary: z.string(),
  actor: z.string().nullable(),
  amount: SummaryMoney.nullable(),
  source: SummarySource,
  driver: z.strictObject({ type: z.string(), objectType: z.string(), externalId: z.string() }).nullable(),
});

export const SummaryOpenItem = z.strictObject({
  type: z.string(),
  title: z.string(),
  status: z.string(),
  openedAt: IsoTime.nullable(),
  amount: SummaryMoney.nullable(),
  source: SummarySource,
});

export const SummaryAlert = z.strictObject({
  severity: z.enum(['info', 'warning', 'critical']),
  message: z.string(),
  occurredAt: IsoTime.nullable(),
});

export const ChurnRisk = z.strictObject({
  level: z.enum(['low', 'medium', 'high', 'unknown']),
  /** 0–100. */
  score: z.number().min(0).max(100),
  reasons: z.array(z.string()),
});

export const SummaryKpis = z.strictObject({
  /** Won deals and purchases minus refunds, per currency (largest first). */
  lifetimeValue: z.array(SummaryMoney),
  activityCount: z.number().int().min(0),
  openItems: z.number().int().min(0),
  lastContactAt: IsoTime.nullable(),
  churnRisk: ChurnRisk,
  rfm: z.strictObject({
    recencyDays: z.number().int().nullable(),
    frequency: z.number().int().min(0),
    monetary: z.array(SummaryMoney),
  }),
});

export const AccountSummary = z.strictObject({
  subject: z.strictObject({
    kind: z.enum(['person', 'account', 'deal', 'ticket']),
    displayName: z.string(),
    email: z.string().nullable(),
    source: SummarySource,
  }),
  period: z.strictObject({ from: IsoTime, to: IsoTime }),
  generatedAt: IsoTime,
  kpis: SummaryKpis,
  /** Activities in the period per kind, every kind present (0 when none). */
  countsByKind: z.record(z.enum(activityKinds), z.number().int().min(0)),
  /** Newest first, at most `limit` items; `timelineTruncated` says whether there were more. */
  timeline: z.array(SummaryTimelineItem),
  timelineTruncated: z.boolean(),
  openItems: z.array(SummaryOpenItem),
  alerts: z.array(SummaryAlert),
  sources: z.array(
    z.strictObject({
      platform: z.string(),
      installationId: z.string(),
      accountName: z.string(),
      lastSyncedAt: IsoTime.nullable(),
      status: z.string().nullable(),
    }),
  ),
  /** The full report in the Ledgerline console. */
  reportUrl: z.string(),
});
export type AccountSummary = z.infer<typeof AccountSummary>;
export type SummaryTimelineItem = z.infer<typeof SummaryTimelineItem>;
