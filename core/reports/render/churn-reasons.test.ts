import { describe, expect, it } from 'vitest';
import { churnRisk } from '../../panels/summary.ts';
import { churnReason } from './churn-reasons.ts';

const dayMs = 86_400_000;
const now = new Date('2026-11-01T00:00:00Z');

describe('churn-risk reasons in the report language', () => {
  it('says every reason churnRisk writes in Spanish and German, with its number', () => {
    const many = churnRisk({ now, lastContact: new Date(now.getTime() - 95 * dayMs), lastActivity: now, openTickets: 4, highPriorityOpen: 2, cancellations: 2, refunds: 3, hasHistory: true });
    const one = churnRisk({ now, lastContact: new Date(now.getTime() - 61 * dayMs), lastActivity: now, openTickets: 3, highPriorityOpen: 1, cancellations: 1, refunds: 1, hasHistory: true });
    const silent = churnRisk({ now, lastContact: null, lastActivity: now, openTickets: 0, highPriorityOpen: 0, cancellations: 0, refunds: 0, hasHistory: true });
    const none = churnRisk({ now, lastContact: null, lastActivity: null, openTickets: 0, highPriorityOpen: 0, cancellations: 0, refunds: 0, hasHistory: false });
    const all = [...many.reasons, ...one.reasons, ...silent.reasons, ...none.reasons];
    expect(all.map((r) => churnReason('de', r))).toEqual([
      'seit 95 Tagen kein Kontakt',
      '2 Kündigungen in 90 Tagen',
      '2 offene Tickets mit hoher Priorität',
      '4 Tickets in 30 Tagen eröffnet',
      '3 Erstattungen in 90 Tagen',
      'seit 61 Tagen kein Kontakt',
      '1 Kündigung in 90 Tagen',
      '1 offenes Ticket mit hoher Priorität',
      '3 Tickets in 30 Tagen eröffnet',
      '1 Erstattung in 90 Tagen',
      'kein Kontakt verzeichnet',
      'noch keine Aktivität verzeichnet',
    ]);
    expect(all.map((r) => churnReason('es', r))).toEqual([
      'sin contacto desde hace 95 días',
      '2 cancelaciones en 90 días',
      '2 tickets abiertos de alta prioridad',
      '4 tickets abiertos en 30 días',
      '3 reembolsos en 90 días',
      'sin contacto desde hace 61 días',
      '1 cancelación en 90 días',
      '1 ticket abierto de alta prioridad',
      '3 tickets abiertos en 30 días',
      '1 reembolso en 90 días',
      'ningún contacto registrado',
      'aún no hay actividad registrada',
    ]);
    expect(all.map((r) => churnReason('en', r))).toEqual(all);
  });

  it('shows a reason it does not know as it is', () => {
    expect(churnReason('de', 'a reason from elsewhere')).toBe('a reason from elsewhere');
  });
});
