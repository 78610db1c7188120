/**
 * The KPIs a report can show, each one formula over its scope (the tenant, a segment's customers
 * or one subject) and period (local midnights, end exclusive). A "customer" is a person as identity
 * resolution sees them: the records of one profile count once. Money is per currency, as decimal
 * strings summed exactly; currencies are never converted or added together.
 */
import type { MetricValue, MoneyFigure, ReportMetric } from './report-model.ts';
import { fromUnits, moneyByCurrency, revenueSign, type PeriodCell, type ScopeFigures } from './report-data-figures.ts';

type Calculator = (figures: ScopeFigures) => Promise<MetricValue>;

const count = (metric: ReportMetric, value: number | null): MetricValue => ({ metric, kind: 'count', value });
const money = (metric: ReportMetric, totals: ReadonlyMap<string, bigint>): MetricValue => ({ metric, kind: 'money', value: [...totals].map(([currency, units]) => ({ currency, value: fromUnits(units) })) });
const numbers = (metric: ReportMetric, values: readonly { currency: string; value: number }[]): MetricValue => ({
  metric,
  kind: 'money',
  value: values.map((v): MoneyFigure => ({ currency: v.currency, value: String(v.value) })),
});

const activitiesWhere = async (figures: ScopeFigures, pick: (cell: PeriodCell) => boolean): Promise<number> =>
  (await figures.period()).cells.reduce((sum, cell) => sum + (pick(cell) ? cell.count : 0), 0);

export const metricCalculators: Record<ReportMetric, Calculator> = {
  /** activities = the number of activities (any kind) in the period. */
  activities: async (f) => count('activities', await activitiesWhere(f, () => true)),
  /** active_customers = distinct customers (persons, by profile) with at least one activity in the period. */
  active_customers: async (f) => count('active_customers', await f.activeCustomers()),
  /** customers_at_start = customers whose first revenue came before the period and who were not lost before it (tenant metrics). */
  customers_at_start: async (f) => count('customers_at_start', (await f.customerMetrics()).customersAtStart),
  /** new_customers = customers whose first revenue (purchase, payment or renewal) falls in the period. */
  new_customers: async (f) => count('new_customers', (await f.customerMetrics()).newCustomers),
  /** lost_customers = customers at start lost in the period, by the template's definition of lost (a cancellation, or N days without activity). */
  lost_customers: async (f) => count('lost_customers', (await f.customerMetrics()).lostCustomers),
  /** churn_rate = lost_customers ÷ customers_at_start (null without customers at start). */
  churn_rate: async (f) => ({ metric: 'churn_rate', kind: 'ratio', value: (await f.customerMetrics()).churnRate }),
  /** revenue = purchases + payments + renewals − refunds in the period, per currency. */
  revenue: async (f) => money('revenue', moneyByCurrency((await f.period()).cells, (c) => revenueSign(c.kind, c.category))),
  /** refunds = the sum of refunds in the period, per currency. */
  refunds: async (f) => money('refunds', moneyByCurrency((await f.period()).cells, (c) => (c.kind === 'transaction' && c.category === 'refund' ? 1 : 0))),
  /** clv = net revenue (revenue − refunds) of the customers from their first activity to the period's end ÷ customers, per currency. */
  clv: async (f) => numbers('clv', (await f.customerMetrics()).clv),
  /** cac = acquisition spend in the period ÷ new_customers, per currency (none without spend or new customers; spend is tenant-wide, so segments and subjects have none). */
  cac: async (f) => numbers('cac', (await f.customerMetrics()).cac),
  /** tickets_opened = tickets (drivers of type ticket) whose first activity falls in the period. */
  tickets_opened: async (f) => count('tickets_opened', await f.ticketsOpened()),
  /** open_items = tickets, deals and other drivers whose newest state before the period's end is open (their record not deleted). */
  open_items: async (f) => count('open_items', await f.openItems()),
  /** failed_logins = login activities of category login_failed + security alerts of category failed_login, in the period. */
  failed_logins: async (f) =>
    count('failed_logins', await activitiesWhere(f, (c) => (c.kind === 'login' && c.category === 'login_failed') || (c.kind === 'security_alert' && c.category === 'failed_login'))),
  /** security_alerts = activities of kind security_alert in the period. */
  security_alerts: async (f) => count('security_alerts', await activitiesWhere(f, (c) => c.kind === 'security_alert')),
  /** notifications_sent = activities of kind notification in the period. */
  notifications_sent: async (f) => count('notifications_sent', await activitiesWhere(f, (c) => c.kind === 'notification')),
};

export async function metricValues(figures: ScopeFigures, metrics: readonly ReportMetric[]): Promise<MetricValue[]> {
  const values: MetricValue[] = [];
  for (const metric of metrics) values.push(await metricCalculators[metric](figures));
  return values;
}
