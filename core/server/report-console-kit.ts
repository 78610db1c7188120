/**
 * What every reports page of the console shares: the session/CSRF middleware (forms get the body
 * limit they need), the tenant lookup, the one-line notices a redirect leaves behind, and turning
 * a validation failure into messages next to the form fields that caused it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express from 'express';
import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import { isLedgerlineError } from '../errors/index.ts';
import type { LedgerlineError } from '../errors/index.ts';
import { requireConsoleSession } from './admin-auth.ts';
import { findTenant } from './api-routes.ts';
import { issueCsrfToken, verifyCsrf } from './csrf-protection.ts';
import { renderErrorsAsHtml } from './error-responses.ts';
import { parseRequest } from './request-validation.ts';
import { reportMetrics, reportRoles, type ReportLocale } from '../reports/index.ts';
import { reportStylesheet } from '../reports/index.ts';
import { TenantParams } from './report-request-schemas.ts';
import type { ServerDeps, TenantSummary } from './server-deps.ts';

/** Who the ledger names for changes made in the console (it has one admin token, no user accounts). */
export const consoleActor = 'console';

/** The reports pages' own rules (forms, editors, status badges): served once, cached for a year. */
const stylesheetFile = new URL('./views/reports-stylesheet.css.ejs', import.meta.url);
export const reportsStylesheet = readFileSync(stylesheetFile, 'utf8');
const versioned = (path: string, css: string) => `${path}?v=${createHash('sha256').update(css).digest('hex').slice(0, 12)}`;
export const reportsStylesheetHref = versioned('/reports/assets/reports.css', reportsStylesheet);
/** The embedded report's own rules (scoped to .ll-report), the same the standalone HTML inlines. */
export const reportMarkupStylesheet = reportStylesheet();
export const reportMarkupStylesheetHref = versioned('/reports/assets/report.css', reportMarkupStylesheet);

export interface ConsoleKit {
  /** GET pages: session, CSRF token for the forms they show, never cached. */
  readonly page: RequestHandler[];
  /** POST forms: the page middleware plus a urlencoded body of at most `limit` and the CSRF check. */
  form(limit: string): RequestHandler[];
  tenant(req: Request): Promise<TenantSummary>;
}

export function consoleKit(deps: ServerDeps): ConsoleKit {
  const noStore: RequestHandler = (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    res.locals.extraStylesheets = [reportsStylesheetHref, reportMarkupStylesheetHref];
    next();
  };
  const page = [noStore, renderErrorsAsHtml, requireConsoleSession(deps.config), issueCsrfToken(deps.config)];
  return {
    page,
    form: (limit) => [...page, express.urlencoded({ extended: false, limit }), verifyCsrf(deps.config)],
    tenant: async (req) => findTenant(deps, parseRequest(req, { params: TenantParams }).params.tenant),
  };
}

export function reportsHref(tenant: TenantSummary, rest = ''): string {
  return `/tenants/${encodeURIComponent(tenant.slug)}/reports${rest}`;
}

// --- Notices: a redirect after a successful form says what happened in one line -------------

const notices = {
  'template-saved': (s: string) => `Template ${s} saved.`,
  'template-removed': (s: string) => `Template ${s} removed.`,
  'segment-saved': (s: string) => `Segment ${s} saved.`,
  'segment-removed': (s: string) => `Segment ${s} removed.`,
  'spend-imported': (s: string) => `Spend imported: ${s}.`,
  'spend-recorded': (s: string) => `Spend recorded: ${s}.`,
  'request-created': (s: string) => `Report request ${s} created; it is generated and delivered in the background.`,
  'request-approved': (s: string) => `Report request ${s} approved; it is delivered on the next round.`,
  'request-acknowledged': (s: string) => `Report request ${s} acknowledged.`,
  'request-disputed': (s: string) => `Report request ${s} disputed and escalated.`,
  'schedule-created': (s: string) => `Schedule ${s} created.`,
  'schedule-removed': (s: string) => `Schedule ${s} removed.`,
} as const;
export type NoticeKind = keyof typeof notices;

const NoticeQuery = z.object({
  notice: z.enum(Object.keys(notices) as [NoticeKind, ...NoticeKind[]]).optional().catch(undefined),
  subject: z.string().max(200).optional().catch(undefined),
});

export function noticeHref(href: string, kind: NoticeKind, subject: string): string {
  return `${href}?${new URLSearchParams({ notice: kind, subject }).toString()}`;
}

/** The notice a redirect asked for, or null; unknown kinds are ignored rather than echoed. */
export function noticeFrom(req: Request): string | null {
  const parsed = NoticeQuery.parse(req.query);
  return parsed.notice ? notices[parsed.notice](parsed.subject ?? '') : null;
}

// --- Field errors ---------------------------------------------------------------------------

/** Messages per form field; `form` holds those that belong to no single field. */
export type FieldErrors = Record<string, string[]>;

interface IssueLike {
  readonly path: readonly PropertyKey[] | string;
  readonly message: string;
}

/**
 * Files each issue under the form field its path names, keeping the whole path in the message so
 * the reader finds the spot in a JSON textarea.
 */
export function fieldErrors(issues: readonly IssueLike[], fields: readonly string[], prefix: readonly string[] = []): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const path = [...prefix, ...(typeof issue.path === 'string' ? issue.path.split('.').filter((p) => p !== '') : issue.path.map(String))];
    // The first segment that names a field: `sections.2.type` → sections, `parameters.timeZone` → timeZone.
    const field = path.find((segment) => fields.includes(segment)) ?? 'form';
    (errors[field] ??= []).push(path.length > 0 ? `${path.join('.')}: ${issue.message}` : issue.message);
  }
  return errors;
}

/** The error when it is one the user can fix by changing the input; anything else is rethrown. */
export function fixableError(error: unknown): LedgerlineError {
  if (!isLedgerlineError(error) || !['LL_INVALID_INPUT', 'LL_CONFLICT', 'LL_NOT_FOUND'].includes(error.code)) throw error;
  return error;
}

/**
 * A refusal the user can fix (invalid input, a conflict, a missing reference) as field errors;
 * anything else is rethrown for the error page.
 */
export function userFixable(error: unknown, fields: readonly string[]): FieldErrors {
  const known = fixableError(error);
  const issues = known.details.issues;
  if (issues && issues.length > 0) return fieldErrors(issues, fields);
  const field = known.details.field;
  return { [field !== undefined && fields.includes(field) ? field : 'form']: [known.message] };
}

/** `a` or `a&a=b` from a urlencoded form: always a list. */
export const FormList = z.preprocess((v): unknown[] => (v === undefined ? [] : Array.isArray(v) ? (v as unknown[]) : [v]), z.array(z.string().max(200)).max(100));

const timeZones = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((zone) => zone !== 'UTC')];
export const reportChoices = {
  metrics: reportMetrics,
  locales: [['en', 'English'], ['es', 'Español'], ['de', 'Deutsch']] satisfies [ReportLocale, string][],
  roles: reportRoles,
  formats: [['html', 'HTML'], ['pdf', 'PDF'], ['csv', 'CSV'], ['json', 'JSON']],
  deliveries: [['attachment', 'E-mail with the report attached'], ['link', 'E-mail with a secure link'], ['portal', 'Download here only (no e-mail)']],
  timeZones,
} as const;

/** Locals of every reports page: the tabs, the notice a redirect left, the page title. */
export function pageLocals(req: Request, tenant: TenantSummary, tab: string, title: string) {
  return { title, tenant, tab, reportsBase: reportsHref(tenant), notice: noticeFrom(req) };
}
