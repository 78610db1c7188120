/**
 * The account activity summary as Ledgerline's `GET /panels/hubspot/summary` answers it. A HubSpot
 * project is uploaded on its own, so the card carries this copy of the type;
 * `core/panels/summary-contract.typetest.ts` in Ledgerline fails to compile if the two drift.
 */
export type ActivityKind = 'login' | 'transaction' | 'interaction' | 'subscription' | 'profile_change' | 'notification' | 'security_alert' | 'custom';

export const activityKinds: readonly ActivityKind[] = ['login', 'transaction', 'interaction', 'subscription', 'profile_change', 'notification', 'security_alert', 'custom'];

export interface Money {
  value: string;
  currency: string;
}

export interface SummarySource {
  platform: string;
  installationId: string;
  objectType: string;
  externalId: string;
}

export interface TimelineItem {
  id: string;
  kind: ActivityKind;
  category: string;
  occurredAt: string;
  summary: string;
  actor: string | null;
  amount: Money | null;
  source: SummarySource;
  driver: { type: string; objectType: string; externalId: string } | null;
}

export interface OpenItem {
  type: string;
  title: string;
  status: string;
  openedAt: string | null;
  amount: Money | null;
  source: SummarySource;
}

export interface SummaryAlert {
  severity: 'info' | 'warning' | 'critical';
  message: string;
  occurredAt: string | null;
}

export interface AccountSummary {
  subject: { kind: 'person' | 'account' | 'deal' | 'ticket'; displayName: string; email: string | null; source: SummarySource };
  period: { from: string; to: string };
  generatedAt: string;
  kpis: {
    lifetimeValue: Money[];
    activityCount: number;
    openItems: number;
    lastContactAt: string | null;
    churnRisk: { level: 'low' | 'medium' | 'high' | 'unknown'; score: number; reasons: string[] };
    rfm: { recencyDays: number | null; frequency: number; monetary: Money[] };
  };
  countsByKind: Record<ActivityKind, number>;
  timeline: TimelineItem[];
  timelineTruncated: boolean;
  openItems: OpenItem[];
  alerts: SummaryAlert[];
  sources: { platform: string; installationId: string; accountName: string; lastSyncedAt: string | null; status: string | null }[];
  reportUrl: string;
}

/** Ledgerline's error body (`{ error: { code, message } }`). */
export interface LedgerlineErrorBody {
  error: { code: string; message: string };
}
