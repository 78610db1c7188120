/**
 * Every word a rendered report shows, in English, Spanish and German. Data (names, categories,
 * template and section titles a user wrote) is shown as it is; only Ledgerline's own labels are
 * translated here.
 */
import type { ActivityKind } from '../../model/index.ts';
import type { ReportChart, ReportMetric, SummaryType } from '../report-model.ts';

export type DrillDownMetric = 'customers_at_start' | 'new_customers' | 'lost_customers';
export type CustomerSort = 'monetary' | 'frequency' | 'recency' | 'churn_risk';
export type RiskLevel = 'low' | 'medium' | 'high' | 'unknown';

export interface ReportText {
  readonly summaryTitles: Readonly<Record<SummaryType, string>>;
  readonly metricNames: Readonly<Record<ReportMetric, string>>;
  readonly chartTitles: Readonly<Record<ReportChart, string>>;
  readonly drillDownTitles: Readonly<Record<DrillDownMetric, string>>;
  readonly kindNames: Readonly<Record<ActivityKind, string>>;
  readonly sectionTitles: { readonly kpis: string; readonly customers: string; readonly segmentComparison: string; readonly text: string };
  readonly customerSorts: Readonly<Record<CustomerSort, string>>;
  readonly riskLevels: Readonly<Record<RiskLevel, string>>;
  readonly columns: {
    readonly when: string; readonly customer: string; readonly email: string; readonly activity: string; readonly category: string;
    readonly amount: string; readonly source: string; readonly name: string; readonly country: string; readonly recency: string;
    readonly frequency: string; readonly monetary: string; readonly rfm: string; readonly churnRisk: string; readonly metric: string;
    readonly platform: string; readonly account: string; readonly lastSynced: string; readonly gaps: string; readonly count: string;
  };
  readonly detailNames: Readonly<Record<'ip' | 'device' | 'location' | 'failureReason', string>>;
  /** Monday first, as the heat map's rows. */
  readonly weekdays: readonly [string, string, string, string, string, string, string];
  readonly masking: { readonly masked: string; readonly anonymized: string };
  readonly period: string;
  readonly segment: string;
  readonly subject: string;
  readonly timeZone: string;
  readonly sources: string;
  readonly noActivity: string;
  readonly noData: string;
  readonly noCustomers: string;
  readonly neverSynced: string;
  readonly complete: string;
  readonly since: string;
  readonly byCategory: string;
  /** `one`: the count is exactly 1 (singular). */
  readonly activitiesTotal: (count: string, one: boolean) => string;
  readonly showingNewest: (shown: string, total: string) => string;
  readonly onlyFirst: (shown: string) => string;
  readonly customersInSegment: (count: string, one: boolean) => string;
  readonly daysAgo: (days: string) => string;
  readonly generated: (when: string) => string;
}

const en: ReportText = {
  summaryTitles: {
    login_history: 'Login history', transaction_history: 'Transaction history', interaction_log: 'Interaction log', subscription_usage: 'Subscription usage',
    profile_changes: 'Profile changes', notifications: 'Notifications', security_alerts: 'Security alerts', periodic_summary: 'Periodic summary',
  },
  metricNames: {
    activities: 'Activities', active_customers: 'Active customers', customers_at_start: 'Customers at start', new_customers: 'New customers',
    lost_customers: 'Lost customers', churn_rate: 'Churn rate', revenue: 'Revenue', refunds: 'Refunds', clv: 'Customer lifetime value',
    cac: 'Customer acquisition cost', tickets_opened: 'Tickets opened', open_items: 'Open items', failed_logins: 'Failed logins',
    security_alerts: 'Security alerts', notifications_sent: 'Notifications sent',
  },
  chartTitles: {
    activity_over_time: 'Activity over time', revenue_over_time: 'Revenue over time', activity_by_kind: 'Activity by kind',
    segment_share: 'Customers by segment', activity_heat_map: 'When activity happens (weekday × hour)',
  },
  drillDownTitles: { customers_at_start: 'Customers at the start of the period', new_customers: 'New customers in the period', lost_customers: 'Customers lost in the period' },
  kindNames: {
    login: 'Logins', transaction: 'Transactions', interaction: 'Interactions', subscription: 'Subscriptions', profile_change: 'Profile changes',
    notification: 'Notifications', security_alert: 'Security alerts', custom: 'Other',
  },
  sectionTitles: { kpis: 'Key figures', customers: 'Customers', segmentComparison: 'Segment comparison', text: 'Notes' },
  customerSorts: { monetary: 'ranked by revenue', frequency: 'ranked by activity', recency: 'ranked by most recent activity', churn_risk: 'ranked by churn risk' },
  riskLevels: { low: 'low', medium: 'medium', high: 'high', unknown: 'unknown' },
  columns: {
    when: 'When', customer: 'Customer', email: 'E-mail', activity: 'Activity', category: 'Category', amount: 'Amount', source: 'Source',
    name: 'Name', country: 'Country', recency: 'Last activity', frequency: 'Activities', monetary: 'Revenue', rfm: 'RFM',
    churnRisk: 'Churn risk', metric: 'Metric', platform: 'Platform', account: 'Account', lastSynced: 'Last synced', gaps: 'Gaps', count: 'Count',
  },
  detailNames: { ip: 'IP address', device: 'Device', location: 'Location', failureReason: 'Failure reason' },
  weekdays: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
  masking: { masked: 'Personal data in this report is masked.', anonymized: 'This report is anonymized: customers and agents appear under pseudonyms.' },
  period: 'Period',
  segment: 'Segment',
  subject: 'Customer',
  timeZone: 'Time zone',
  sources: 'Sources',
  noActivity: 'No activity in this period',
  noData: 'No data',
  noCustomers: 'No customers',
  neverSynced: 'never synced',
  complete: 'complete',
  since: 'since',
  byCategory: 'By category',
  activitiesTotal: (count, one) => `${count} ${one ? 'activity' : 'activities'}`,
  showingNewest: (shown, total) => `Showing the newest ${shown} of ${total}.`,
  onlyFirst: (shown) => `Only the first ${shown} are listed.`,
  customersInSegment: (count, one) => `${count} ${one ? 'customer' : 'customers'}`,
  daysAgo: (days) => `${days} d ago`,
  generated: (when) => `Generated ${when}`,
};

const es: ReportText = {
  summaryTitles: {
    login_history: 'Historial de inicios de sesión', transaction_history: 'Historial de transacciones', interaction_log: 'Registro de interacciones',
    subscription_usage: 'Uso de suscripciones', profile_changes: 'Cambios de perfil', notifications: 'Notificaciones', security_alerts: 'Alertas de seguridad',
    periodic_summary: 'Resumen periódico',
  },
  metricNames: {
    activities: 'Actividades', active_customers: 'Clientes activos', customers_at_start: 'Clientes al inicio', new_customers: 'Clientes nuevos',
    lost_customers: 'Clientes perdidos', churn_rate: 'Tasa de abandono', revenue: 'Ingresos', refunds: 'Reembolsos', clv: 'Valor de vida del cliente',
    cac: 'Coste de adquisición de clientes', tickets_opened: 'Tickets abiertos', open_items: 'Elementos pendientes', failed_logins: 'Inicios de sesión fallidos',
    security_alerts: 'Alertas de seguridad', notifications_sent: 'Notificaciones enviadas',
  },
  chartTitles: {
    activity_over_time: 'Actividad a lo largo del tiempo', revenue_over_time: 'Ingresos a lo largo del tiempo', activity_by_kind: 'Actividad por tipo',
    segment_share: 'Clientes por segmento', activity_heat_map: 'Cuándo ocurre la actividad (día × hora)',
  },
  drillDownTitles: { customers_at_start: 'Clientes al inicio del periodo', new_customers: 'Clientes nuevos en el periodo', lost_customers: 'Clientes perdidos en el periodo' },
  kindNames: {
    login: 'Inicios de sesión', transaction: 'Transacciones', interaction: 'Interacciones', subscription: 'Suscripciones', profile_change: 'Cambios de perfil',
    notification: 'Notificaciones', security_alert: 'Alertas de seguridad', custom: 'Otros',
  },
  sectionTitles: { kpis: 'Cifras clave', customers: 'Clientes', segmentComparison: 'Comparación de segmentos', text: 'Notas' },
  customerSorts: { monetary: 'ordenados por ingresos', frequency: 'ordenados por actividad', recency: 'ordenados por actividad más reciente', churn_risk: 'ordenados por riesgo de abandono' },
  riskLevels: { low: 'bajo', medium: 'medio', high: 'alto', unknown: 'desconocido' },
  columns: {
    when: 'Cuándo', customer: 'Cliente', email: 'Correo electrónico', activity: 'Actividad', category: 'Categoría', amount: 'Importe', source: 'Origen',
    name: 'Nombre', country: 'País', recency: 'Última actividad', frequency: 'Actividades', monetary: 'Ingresos', rfm: 'RFM',
    churnRisk: 'Riesgo de abandono', metric: 'Métrica', platform: 'Plataforma', account: 'Cuenta', lastSynced: 'Última sincronización', gaps: 'Lagunas', count: 'Cantidad',
  },
  detailNames: { ip: 'Dirección IP', device: 'Dispositivo', location: 'Ubicación', failureReason: 'Motivo del fallo' },
  weekdays: ['lun', 'mar', 'mié', 'jue', 'vie', 'sáb', 'dom'],
  masking: { masked: 'Los datos personales de este informe están enmascarados.', anonymized: 'Este informe está anonimizado: clientes y agentes aparecen con seudónimos.' },
  period: 'Periodo',
  segment: 'Segmento',
  subject: 'Cliente',
  timeZone: 'Zona horaria',
  sources: 'Fuentes',
  noActivity: 'Sin actividad en este periodo',
  noData: 'Sin datos',
  noCustomers: 'Ningún cliente',
  neverSynced: 'nunca sincronizada',
  complete: 'completa',
  since: 'desde',
  byCategory: 'Por categoría',
  activitiesTotal: (count, one) => `${count} ${one ? 'actividad' : 'actividades'}`,
  showingNewest: (shown, total) => `Se muestran las ${shown} más recientes de ${total}.`,
  onlyFirst: (shown) => `Solo se listan los primeros ${shown}.`,
  customersInSegment: (count, one) => `${count} ${one ? 'cliente' : 'clientes'}`,
  daysAgo: (days) => `hace ${days} d`,
  generated: (when) => `Generado el ${when}`,
};

const de: ReportText = {
  summaryTitles: {
    login_history: 'Anmeldeverlauf', transaction_history: 'Transaktionsverlauf', interaction_log: 'Interaktionsprotokoll', subscription_usage: 'Abonnementnutzung',
    profile_changes: 'Profiländerungen', notifications: 'Benachrichtigungen', security_alerts: 'Sicherheitswarnungen', periodic_summary: 'Periodische Zusammenfassung',
  },
  metricNames: {
    activities: 'Aktivitäten', active_customers: 'Aktive Kunden', customers_at_start: 'Kunden zu Beginn', new_customers: 'Neukunden',
    lost_customers: 'Verlorene Kunden', churn_rate: 'Abwanderungsrate', revenue: 'Umsatz', refunds: 'Erstattungen', clv: 'Kundenwert (CLV)',
    cac: 'Kundenakquisitionskosten', tickets_opened: 'Eröffnete Tickets', open_items: 'Offene Vorgänge', failed_logins: 'Fehlgeschlagene Anmeldungen',
    security_alerts: 'Sicherheitswarnungen', notifications_sent: 'Gesendete Benachrichtigungen',
  },
  chartTitles: {
    activity_over_time: 'Aktivität im Zeitverlauf', revenue_over_time: 'Umsatz im Zeitverlauf', activity_by_kind: 'Aktivität nach Art',
    segment_share: 'Kunden nach Segment', activity_heat_map: 'Wann Aktivität stattfindet (Wochentag × Stunde)',
  },
  drillDownTitles: { customers_at_start: 'Kunden zu Beginn des Zeitraums', new_customers: 'Neukunden im Zeitraum', lost_customers: 'Im Zeitraum verlorene Kunden' },
  kindNames: {
    login: 'Anmeldungen', transaction: 'Transaktionen', interaction: 'Interaktionen', subscription: 'Abonnements', profile_change: 'Profiländerungen',
    notification: 'Benachrichtigungen', security_alert: 'Sicherheitswarnungen', custom: 'Sonstiges',
  },
  sectionTitles: { kpis: 'Kennzahlen', customers: 'Kunden', segmentComparison: 'Segmentvergleich', text: 'Anmerkungen' },
  customerSorts: { monetary: 'nach Umsatz sortiert', frequency: 'nach Aktivität sortiert', recency: 'nach letzter Aktivität sortiert', churn_risk: 'nach Abwanderungsrisiko sortiert' },
  riskLevels: { low: 'niedrig', medium: 'mittel', high: 'hoch', unknown: 'unbekannt' },
  columns: {
    when: 'Zeitpunkt', customer: 'Kunde', email: 'E-Mail', activity: 'Aktivität', category: 'Kategorie', amount: 'Betrag', source: 'Quelle',
    name: 'Name', country: 'Land', recency: 'Letzte Aktivität', frequency: 'Aktivitäten', monetary: 'Umsatz', rfm: 'RFM',
    churnRisk: 'Abwanderungsrisiko', metric: 'Kennzahl', platform: 'Plattform', account: 'Konto', lastSynced: 'Zuletzt synchronisiert', gaps: 'Lücken', count: 'Anzahl',
  },
  detailNames: { ip: 'IP-Adresse', device: 'Gerät', location: 'Ort', failureReason: 'Fehlergrund' },
  weekdays: ['Mo', 'Di', 'Mi', 'Do', 'Fr', 'Sa', 'So'],
  masking: { masked: 'Personenbezogene Daten in diesem Bericht sind maskiert.', anonymized: 'Dieser Bericht ist anonymisiert: Kunden und Mitarbeitende erscheinen unter Pseudonymen.' },
  period: 'Zeitraum',
  segment: 'Segment',
  subject: 'Kunde',
  timeZone: 'Zeitzone',
  sources: 'Quellen',
  noActivity: 'Keine Aktivität in diesem Zeitraum',
  noData: 'Keine Daten',
  noCustomers: 'Keine Kunden',
  neverSynced: 'nie synchronisiert',
  complete: 'vollständig',
  since: 'seit',
  byCategory: 'Nach Kategorie',
  activitiesTotal: (count, one) => `${count} ${one ? 'Aktivität' : 'Aktivitäten'}`,
  showingNewest: (shown, total) => `Die neuesten ${shown} von ${total} werden angezeigt.`,
  onlyFirst: (shown) => `Nur die ersten ${shown} sind aufgeführt.`,
  customersInSegment: (count, one) => `${count} ${one ? 'Kunde' : 'Kunden'}`,
  daysAgo: (days) => `vor ${days} T.`,
  generated: (when) => `Erstellt am ${when}`,
};

export const reportTexts = { en, es, de } as const;
