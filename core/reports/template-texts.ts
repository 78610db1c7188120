/**
 * The built-in templates' own words (title, description, the section titles they set) in the
 * other report languages. English is the library itself (`templates.ts`); a tenant's own
 * templates are shown as their authors wrote them.
 */
import type { ReportLocale, ReportTemplate } from './report-model.ts';

interface TemplateWords {
  readonly title: string;
  readonly description: string;
}

interface LocaleWords {
  readonly templates: Readonly<Record<string, TemplateWords>>;
  /** Section titles the library sets, by their English text. */
  readonly sectionTitles: Readonly<Record<string, string>>;
}

const es: LocaleWords = {
  templates: {
    'account-activity': {
      title: 'Informe de actividad de cuentas',
      description: 'Todo lo que hicieron los clientes en el periodo: cifras principales, cada tipo de actividad con sus filas más recientes, cuándo ocurre la actividad y los clientes que más gastan.',
    },
    'monthly-customer-summary': {
      title: 'Resumen mensual de clientes',
      description: 'Cómo se movió la base de clientes en el mes: clientes ganados y perdidos, abandono, valor de vida y coste de adquisición, ingresos a lo largo del tiempo, transacciones e interacciones, y quiénes son los nuevos clientes.',
    },
    'churn-review': {
      title: 'Revisión de abandono',
      description: 'Quién se perdió en el periodo (60 días sin actividad), qué clientes corren más riesgo ahora y cómo usaron sus suscripciones y hablaron con el equipo.',
    },
    'support-load': {
      title: 'Carga de soporte',
      description: 'Tickets abiertos y aún pendientes, las conversaciones de soporte del periodo, y cuándo y por qué tipos de actividad llega la carga.',
    },
    'security-review': {
      title: 'Revisión de seguridad',
      description: 'Inicios de sesión fallidos y alertas de seguridad, el historial de inicios de sesión, los cambios en los perfiles de clientes y las notificaciones enviadas. Los datos personales se enmascaran salvo para los administradores.',
    },
    'segment-comparison': { title: 'Comparación de segmentos', description: 'Los segmentos guardados del cliente, uno al lado del otro (hasta diez).' },
  },
  sectionTitles: { 'Customers most at risk': 'Clientes con mayor riesgo', 'Support conversations': 'Conversaciones de soporte' },
};

const de: LocaleWords = {
  templates: {
    'account-activity': {
      title: 'Bericht zur Kontoaktivität',
      description: 'Alles, was Kunden im Zeitraum getan haben: Kennzahlen, jede Art von Aktivität mit ihren neuesten Zeilen, wann Aktivität stattfindet und die Kunden mit den höchsten Ausgaben.',
    },
    'monthly-customer-summary': {
      title: 'Monatliche Kundenübersicht',
      description: 'Wie sich der Kundenstamm im Monat entwickelt hat: gewonnene und verlorene Kunden, Abwanderung, Kundenwert und Akquisitionskosten, Umsatz im Zeitverlauf, Transaktionen und Interaktionen und wer die neuen Kunden sind.',
    },
    'churn-review': {
      title: 'Abwanderungsanalyse',
      description: 'Wer im Zeitraum verloren ging (60 Tage ohne Aktivität), welche Kunden jetzt am stärksten gefährdet sind und wie sie ihre Abonnements genutzt und mit dem Team gesprochen haben.',
    },
    'support-load': {
      title: 'Supportaufkommen',
      description: 'Geöffnete und noch offene Tickets, die Supportgespräche des Zeitraums und wann und über welche Arten von Aktivität das Aufkommen eintrifft.',
    },
    'security-review': {
      title: 'Sicherheitsüberprüfung',
      description: 'Fehlgeschlagene Anmeldungen und Sicherheitswarnungen, der Anmeldeverlauf, Änderungen an Kundenprofilen und die versendeten Benachrichtigungen. Personenbezogene Angaben sind außer für Administratoren maskiert.',
    },
    'segment-comparison': { title: 'Segmentvergleich', description: 'Die gespeicherten Segmente des Mandanten nebeneinander (bis zu zehn).' },
  },
  sectionTitles: { 'Customers most at risk': 'Kunden mit dem höchsten Risiko', 'Support conversations': 'Supportgespräche' },
};

const words: Readonly<Partial<Record<ReportLocale, LocaleWords>>> = { es, de };

/** A built-in template in the report's language; other templates, and English, as they are. */
export function localizedTemplate(template: ReportTemplate, locale: ReportLocale): ReportTemplate {
  const w = words[locale];
  const own = w?.templates[template.slug];
  if (!template.builtIn || !w || !own) return template;
  return {
    ...template,
    definition: {
      ...template.definition,
      title: own.title,
      description: own.description,
      sections: template.definition.sections.map((s) => (s.title !== undefined && w.sectionTitles[s.title] ? { ...s, title: w.sectionTitles[s.title] } : s)),
    },
  };
}
