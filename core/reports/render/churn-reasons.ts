/**
 * The churn-risk reasons in the report's language. `churnRisk` (core/panels/summary.ts) words its
 * reasons in English for the panels; a report in Spanish or German says them in its own language.
 * A reason this table does not know is shown as it is (the test feeds it every reason churnRisk
 * writes, so a change of wording there shows up here).
 */
import type { ReportLocale } from '../report-model.ts';

type Wording = Readonly<Record<Exclude<ReportLocale, 'en'>, (n: number) => string>>;

const reasons: readonly (readonly [RegExp, Wording])[] = [
  [/^no contact for (\d+) days$/, { es: (n) => `sin contacto desde hace ${n} días`, de: (n) => `seit ${n} Tagen kein Kontakt` }],
  [/^no recorded contact$/, { es: () => 'ningún contacto registrado', de: () => 'kein Kontakt verzeichnet' }],
  [/^(\d+) cancellations? in 90 days$/, { es: (n) => `${n} ${n === 1 ? 'cancelación' : 'cancelaciones'} en 90 días`, de: (n) => `${n} ${n === 1 ? 'Kündigung' : 'Kündigungen'} in 90 Tagen` }],
  [/^(\d+) open high-priority tickets?$/, { es: (n) => `${n} ${n === 1 ? 'ticket abierto' : 'tickets abiertos'} de alta prioridad`, de: (n) => `${n} ${n === 1 ? 'offenes Ticket' : 'offene Tickets'} mit hoher Priorität` }],
  [/^(\d+) tickets opened in 30 days$/, { es: (n) => `${n} tickets abiertos en 30 días`, de: (n) => `${n} Tickets in 30 Tagen eröffnet` }],
  [/^(\d+) refunds? in 90 days$/, { es: (n) => `${n} ${n === 1 ? 'reembolso' : 'reembolsos'} en 90 días`, de: (n) => `${n} ${n === 1 ? 'Erstattung' : 'Erstattungen'} in 90 Tagen` }],
  [/^no activity recorded yet$/, { es: () => 'aún no hay actividad registrada', de: () => 'noch keine Aktivität verzeichnet' }],
];

export function churnReason(locale: ReportLocale, reason: string): string {
  if (locale === 'en') return reason;
  for (const [pattern, wording] of reasons) {
    const match = pattern.exec(reason);
    if (match) return wording[locale](Number(match[1] ?? 0));
  }
  return reason;
}
