/**
 * The account activity summary on a HubSpot record: fetched from Ledgerline with `hubspot.fetch`
 * (HubSpot signs the request and adds the viewer and portal), rendered with HubSpot's components.
 * The tab shows everything; the sidebar a compact version.
 */
import { useCallback, useEffect, useState } from 'react';
import {
  Alert,
  Button,
  ButtonRow,
  Divider,
  EmptyState,
  ErrorState,
  Flex,
  Heading,
  Link,
  LoadingSpinner,
  Statistics,
  StatisticsItem,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Tag,
  Text,
  hubspot,
} from '@hubspot/ui-extensions';
import { LEDGERLINE_URL } from './ledgerline-url';
import { activityKinds, type AccountSummary, type ActivityKind, type LedgerlineErrorBody, type Money, type OpenItem, type SummaryAlert, type TimelineItem } from './summary-types';

/** `hubspot.fetch` as the card uses it. */
export type CardFetch = (url: string, options?: { method?: 'GET'; timeout?: number }) => Promise<Response>;

/** What the card needs of HubSpot's extension context. */
export interface CardContext {
  crm: { objectId: number | string; objectTypeId: string };
  portal: { timezone: string };
  user: { locale?: string };
}

/** HubSpot's object type ids for the records the card is placed on. */
const objectTypesById: Readonly<Record<string, 'contact' | 'company' | 'deal' | 'ticket'>> = {
  '0-1': 'contact',
  '0-2': 'company',
  '0-3': 'deal',
  '0-5': 'ticket',
};

export function summaryUrl(baseUrl: string, objectTypeId: string, objectId: number | string): string | null {
  const objectType = objectTypesById[objectTypeId];
  if (!objectType) return null;
  const query = new URLSearchParams({ objectType, objectId: String(objectId) });
  return `${baseUrl.replace(/\/+$/, '')}/panels/hubspot/summary?${query.toString()}`;
}

export type SummaryState =
  | { status: 'loading' }
  | { status: 'ready'; summary: AccountSummary }
  | { status: 'unsupported'; objectTypeId: string }
  | { status: 'error'; title: string; message: string };

function isErrorBody(body: unknown): body is LedgerlineErrorBody {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string';
}

/** What a failed answer means to a sales rep, and what to do about it. */
function failureOf(status: number, body: unknown): { title: string; message: string } {
  const detail = isErrorBody(body) ? body.error.message : `HTTP ${status}`;
  if (status === 404) return { title: 'Not synced yet', message: `Ledgerline has not synced this record yet (${detail}). It appears after the next sync.` };
  if (status === 401 || status === 403) return { title: 'Ledgerline refused the request', message: `${detail}. An admin may need to reinstall the Ledgerline app.` };
  if (status === 429) return { title: 'Too many requests', message: 'HubSpot limits how many cards load at once. Try again in a moment.' };
  return { title: 'Account activity is unavailable', message: detail };
}

export async function loadSummary(fetcher: CardFetch, url: string): Promise<SummaryState> {
  let response: Response;
  try {
    response = await fetcher(url, { method: 'GET', timeout: 10_000 });
  } catch (error) {
    return { status: 'error', title: 'Ledgerline did not answer', message: error instanceof Error ? error.message : String(error) };
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // An answer that is not JSON is reported by its status below.
  }
  if (!response.ok) return { status: 'error', ...failureOf(response.status, body) };
  const summary = body as AccountSummary | null;
  if (!summary || typeof summary !== 'object' || !summary.kpis || !Array.isArray(summary.timeline)) {
    return { status: 'error', title: 'Account activity is unavailable', message: 'Ledgerline answered with something that is not a summary.' };
  }
  return { status: 'ready', summary };
}

const hubspotFetch: CardFetch = (url, options) => hubspot.fetch(url, options);

export function useSummary(context: CardContext, fetcher: CardFetch, baseUrl: string): { state: SummaryState; reload: () => void } {
  const url = summaryUrl(baseUrl, context.crm.objectTypeId, context.crm.objectId);
  const [state, setState] = useState<SummaryState>(url ? { status: 'loading' } : { status: 'unsupported', objectTypeId: context.crm.objectTypeId });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (!url) return;
    let current = true;
    setState({ status: 'loading' });
    void loadSummary(fetcher, url).then((next) => {
      if (current) setState(next);
    });
    return () => {
      current = false;
    };
  }, [url, fetcher, attempt]);
  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { state, reload };
}

// ——— formatting ———

export function formatMoney(money: Money, locale: string): string {
  const value = Number(money.value);
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: money.currency }).format(value);
  } catch {
    return `${money.value} ${money.currency}`;
  }
}

export function formatDate(iso: string | null, timeZone: string, locale: string): string {
  if (iso === null) return 'never';
  try {
    return new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'short', day: 'numeric', timeZone }).format(new Date(iso));
  } catch {
    return iso.slice(0, 10);
  }
}

const kindLabels: Readonly<Record<ActivityKind, string>> = {
  login: 'Logins',
  transaction: 'Transactions',
  interaction: 'Interactions',
  subscription: 'Subscriptions',
  profile_change: 'Profile changes',
  notification: 'Notifications',
  security_alert: 'Security alerts',
  custom: 'Other',
};

const riskVariants = { low: 'success', medium: 'warning', high: 'error', unknown: 'default' } as const;
const alertVariants = { info: 'info', warning: 'warning', critical: 'danger' } as const;

function lifetimeValue(values: readonly Money[], locale: string): string {
  if (values.length === 0) return '—';
  const [first, ...rest] = values;
  return rest.length === 0 ? formatMoney(first!, locale) : `${formatMoney(first!, locale)} +${rest.length} more`;
}

interface Formatting {
  timeZone: string;
  locale: string;
}

// ——— views ———

function Kpis({ summary, f }: { summary: AccountSummary; f: Formatting }) {
  const { kpis } = summary;
  return (
    <Statistics>
      <StatisticsItem label="Lifetime value" number={lifetimeValue(kpis.lifetimeValue, f.locale)} />
      <StatisticsItem label="Activities" number={kpis.activityCount} />
      <StatisticsItem label="Open items" number={kpis.openItems} />
      <StatisticsItem label="Last contact" number={formatDate(kpis.lastContactAt, f.timeZone, f.locale)} />
    </Statistics>
  );
}

function ChurnRisk({ summary }: { summary: AccountSummary }) {
  const risk = summary.kpis.churnRisk;
  return (
    <Flex direction="row" gap="small" align="center" wrap="wrap">
      <Text format={{ fontWeight: 'demibold' }}>Churn risk</Text>
      <Tag variant={riskVariants[risk.level]}>{risk.level === 'unknown' ? 'unknown' : `${risk.level} (${risk.score}/100)`}</Tag>
      {risk.reasons.length > 0 ? <Text variant="microcopy">{risk.reasons.join('; ')}</Text> : null}
    </Flex>
  );
}

function Alerts({ alerts }: { alerts: readonly SummaryAlert[] }) {
  if (alerts.length === 0) return null;
  return (
    <Flex direction="column" gap="small">
      {alerts.map((alert, i) => (
        <Alert key={i} title={alert.severity === 'critical' ? 'Needs attention' : alert.severity === 'warning' ? 'Watch' : 'Note'} variant={alertVariants[alert.severity]}>
          {alert.message}
        </Alert>
      ))}
    </Flex>
  );
}

function OpenItems({ items, f, limit }: { items: readonly OpenItem[]; f: Formatting; limit: number }) {
  if (items.length === 0) return <Text variant="microcopy">No open items.</Text>;
  return (
    <Table bordered={true}>
      <TableHead>
        <TableRow>
          <TableHeader>Open item</TableHeader>
          <TableHeader>Status</TableHeader>
          <TableHeader>Opened</TableHeader>
          <TableHeader>Amount</TableHeader>
        </TableRow>
      </TableHead>
      <TableBody>
        {items.slice(0, limit).map((item) => (
          <TableRow key={`${item.source.platform}/${item.source.objectType}/${item.source.externalId}`}>
            <TableCell>{item.title}</TableCell>
            <TableCell>{item.status}</TableCell>
            <TableCell>{formatDate(item.openedAt, f.timeZone, f.locale)}</TableCell>
            <TableCell>{item.amount ? formatMoney(item.amount, f.locale) : '—'}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

function Timeline({ items, f }: { items: readonly TimelineItem[]; f: Formatting }) {
  return (
    <Table bordered={true}>
      <TableHead>
        <TableRow>
          <TableHeader>When</TableHeader>
          <TableHeader>Kind</TableHeader>
          <TableHeader>Activity</TableHeader>
          <TableHeader>Amount</TableHeader>
          <TableHeader>From</TableHeader>
        </TableRow>
      </TableHead>
      <TableBody>
        {items.map((item) => (
          <TableRow key={item.id}>
            <TableCell>{formatDate(item.occurredAt, f.timeZone, f.locale)}</TableCell>
            <TableCell>
              <Tag variant="default">{item.category}</Tag>
            </TableCell>
            <TableCell>{item.summary}</TableCell>
            <TableCell>{item.amount ? formatMoney(item.amount, f.locale) : '—'}</TableCell>
            <TableCell>{item.source.platform}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/** The timeline with a filter per activity kind that occurred (counts over the whole period). */
function FilteredTimeline({ summary, f }: { summary: AccountSummary; f: Formatting }) {
  const [kind, setKind] = useState<ActivityKind | 'all'>('all');
  const present = activityKinds.filter((k) => summary.countsByKind[k] > 0);
  const shown = kind === 'all' ? summary.timeline : summary.timeline.filter((item) => item.kind === kind);
  return (
    <Flex direction="column" gap="small">
      <ButtonRow>
        <Button variant={kind === 'all' ? 'primary' : 'secondary'} size="xs" onClick={() => setKind('all')}>
          {`All (${summary.kpis.activityCount})`}
        </Button>
        {present.map((k) => (
          <Button key={k} variant={kind === k ? 'primary' : 'secondary'} size="xs" onClick={() => setKind(k)}>
            {`${kindLabels[k]} (${summary.countsByKind[k]})`}
          </Button>
        ))}
      </ButtonRow>
      {shown.length === 0 ? (
        <Text variant="microcopy">{kind === 'all' ? 'No activity in this period.' : `No ${kindLabels[kind].toLowerCase()} among the latest ${summary.timeline.length} activities; the full report has them all.`}</Text>
      ) : (
        <Timeline items={shown} f={f} />
      )}
      {summary.timelineTruncated ? <Text variant="microcopy">{`Showing the latest ${summary.timeline.length} activities; the full report has the rest.`}</Text> : null}
    </Flex>
  );
}

function Sources({ summary, f }: { summary: AccountSummary; f: Formatting }) {
  return (
    <Text variant="microcopy">
      {summary.sources.map((s) => `${s.platform} · ${s.accountName}: synced ${formatDate(s.lastSyncedAt, f.timeZone, f.locale)}${s.status && s.status !== 'succeeded' ? ` (${s.status})` : ''}`).join(' — ')}
    </Text>
  );
}

export function SummaryView({ summary, compact, f }: { summary: AccountSummary; compact: boolean; f: Formatting }) {
  const title = summary.subject.email ? `${summary.subject.displayName} · ${summary.subject.email}` : summary.subject.displayName;
  if (compact) {
    return (
      <Flex direction="column" gap="small">
        <Text format={{ fontWeight: 'bold' }}>{title}</Text>
        <Kpis summary={summary} f={f} />
        <ChurnRisk summary={summary} />
        <Alerts alerts={summary.alerts} />
        <OpenItems items={summary.openItems} f={f} limit={3} />
        {summary.timeline.length > 0 ? <Timeline items={summary.timeline.slice(0, 5)} f={f} /> : <Text variant="microcopy">No activity in this period.</Text>}
        <Link href={summary.reportUrl}>Open the full report</Link>
      </Flex>
    );
  }
  return (
    <Flex direction="column" gap="medium">
      <Heading>{title}</Heading>
      <Text variant="microcopy">{`${formatDate(summary.period.from, f.timeZone, f.locale)} – ${formatDate(summary.period.to, f.timeZone, f.locale)}`}</Text>
      <Kpis summary={summary} f={f} />
      <ChurnRisk summary={summary} />
      <Alerts alerts={summary.alerts} />
      <Divider />
      <Heading>Open items</Heading>
      <OpenItems items={summary.openItems} f={f} limit={summary.openItems.length} />
      <Divider />
      <Heading>Timeline</Heading>
      <FilteredTimeline summary={summary} f={f} />
      <Divider />
      <Link href={summary.reportUrl}>Open the full report in Ledgerline</Link>
      <Sources summary={summary} f={f} />
    </Flex>
  );
}

export interface SummaryCardProps {
  context: CardContext;
  compact: boolean;
  fetcher?: CardFetch;
  baseUrl?: string;
}

export function SummaryCard({ context, compact, fetcher = hubspotFetch, baseUrl = LEDGERLINE_URL }: SummaryCardProps) {
  const { state, reload } = useSummary(context, fetcher, baseUrl);
  const f: Formatting = { timeZone: context.portal.timezone, locale: context.user.locale ?? 'en-US' };
  switch (state.status) {
    case 'loading':
      return <LoadingSpinner label="Loading account activity" layout="centered" />;
    case 'unsupported':
      return (
        <EmptyState title="Not available here" imageName="object">
          <Text>{`Ledgerline summarises contacts, companies, deals and tickets; this record type (${state.objectTypeId}) has no summary.`}</Text>
        </EmptyState>
      );
    case 'error':
      return (
        <ErrorState title={state.title}>
          <Text>{state.message}</Text>
          <Button onClick={reload}>Try again</Button>
        </ErrorState>
      );
    case 'ready':
      return <SummaryView summary={state.summary} compact={compact} f={f} />;
  }
}
