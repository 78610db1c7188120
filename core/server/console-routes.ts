/**
 * The admin console: server-rendered EJS pages, no client script. Reads go through the same
 * directories as the API; the one write (uninstall) is a form post behind session and CSRF checks.
 */
import express from 'express';
import { LedgerlineError } from '../errors/index.ts';
import type { RequestHandler, Router } from 'express';
import { hasConsoleSession, requireConsoleSession } from './admin-auth.ts';
import { z } from 'zod';
import type { PanelSubject } from '../contract/index.ts';
import { activityKinds } from '../model/index.ts';
import { findInstallation, findTenant, InstallationParams, TenantSlug } from './api-routes.ts';
import { issueCsrfToken, verifyCsrf } from './csrf-protection.ts';
import { renderErrorsAsHtml } from './error-responses.ts';
import { parseRequest } from './request-validation.ts';
import { encryptionKeyNote, settingsOverview } from './settings-overview.ts';
import { zendeskHarnessHref } from './zendesk-harness-routes.ts';
import type { InstallationSummary, ServerDeps, TenantSummary } from './server-deps.ts';

/** "2026-11-22 16:37 UTC": unambiguous for admins in any time zone. */
export function formatTime(date: Date | null): string {
  if (date === null) return '—';
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The sync column says "never synced" until the sync engine has recorded a run. */
export function syncLabel(installation: InstallationSummary): string {
  const { status, lastSyncedAt } = installation.sync;
  if (status === null && lastSyncedAt === null) return 'never synced';
  if (lastSyncedAt === null) return `${status} (never completed)`;
  return `${status ?? 'synced'} · ${formatTime(lastSyncedAt)}`;
}

export interface InstallationRow {
  readonly tenant: TenantSummary;
  readonly installation: InstallationSummary;
  readonly href: string;
}

/** Locals every console page and the error page use. */
export function consoleLocals(deps: ServerDeps, cssHref: string): RequestHandler {
  return (req, res, next) => {
    res.locals.authDisabled = deps.config.adminToken === undefined;
    res.locals.signedIn = deps.config.adminToken !== undefined && hasConsoleSession(req, deps.config);
    res.locals.cssHref = cssHref;
    res.locals.formatTime = formatTime;
    res.locals.syncLabel = syncLabel;
    res.locals.csrfToken ??= '';
    next();
  };
}

export function consoleRoutes(deps: ServerDeps): Router {
  const router = express.Router();
  const page = [renderErrorsAsHtml, requireConsoleSession(deps.config), issueCsrfToken(deps.config)];
  const form = [...page, express.urlencoded({ extended: false, limit: '4kb' }), verifyCsrf(deps.config)];
  const noStore: RequestHandler = (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  };

  router.get('/', noStore, ...page, async (_req, res) => {
    const tenants = await deps.tenants.list();
    const rows: InstallationRow[] = [];
    for (const tenant of tenants) {
      for (const installation of await deps.installations.listForTenant(tenant.id)) {
        rows.push({ tenant, installation, href: installationHref(tenant, installation) });
      }
    }
    const dead = deps.syncStreams ? (await deps.syncStreams()).filter((s) => s.status === 'dead') : [];
    const undelivered = [];
    if (deps.triggers) {
      for (const tenant of tenants) for (const n of await deps.triggers.notifications(tenant.id, 'dead')) undelivered.push({ tenant: tenant.slug, ...n });
    }
    res.render('index', { title: 'Overview', tenants, rows, dead, undelivered });
  });

  router.get('/tenants/:tenant/installations/:id', noStore, ...page, async (req, res) => {
    const { params } = parseRequest(req, { params: InstallationParams });
    const tenant = await findTenant(deps, params.tenant);
    const installation = await findInstallation(deps, tenant, params.id);
    const plugin = deps.plugins.find((p) => p.id === installation.platform) ?? null;
    const streams = deps.syncStreams ? (await deps.syncStreams(tenant.id)).filter((s) => s.installationId === installation.id) : [];
    const events = deps.installs ? await deps.installs.events(tenant.id, installation.id) : [];
    const previewables = deps.summaries ? await deps.summaries.previewables(tenant.id, installation.id) : [];
    res.render('installation', {
      streams,
      events,
      previewables,
      previewBase: `${installationHref(tenant, installation)}/summaries`,
      harnessHref: (p: { objectType: string; externalId: string }) => zendeskHarnessHref(deps, installationHref(tenant, installation), installation.platform, p.objectType, p.externalId),
      title: `${installation.accountName ?? installation.platformAccountId} · ${installation.platform}`,
      tenant,
      installation,
      plugin,
      action: `${installationHref(tenant, installation)}/uninstall`,
    });
  });

  router.post('/tenants/:tenant/installations/:id/uninstall', ...form, async (req, res) => {
    const { params } = parseRequest(req, { params: InstallationParams });
    const tenant = await findTenant(deps, params.tenant);
    const installation = await findInstallation(deps, tenant, params.id);
    if (deps.installs) {
      const outcome = await deps.installs.uninstall(tenant.id, installation.id);
      deps.log.info({ tenant: tenant.slug, installation: installation.id, via: 'console', ...outcome }, 'installation uninstalled');
    } else {
      await deps.installations.markUninstalled(tenant.id, installation.id);
      deps.log.info({ tenant: tenant.slug, installation: installation.id, via: 'console' }, 'installation marked uninstalled');
    }
    res.redirect(303, installationHref(tenant, installation));
  });

  router.get('/tenants/:tenant/installations/:id/summaries/:kind/:objectType/:externalId', noStore, ...page, async (req, res) => {
    const summaries = deps.summaries;
    if (!summaries) throw new LedgerlineError('LL_NOT_FOUND', 'summaries are not available on this server');
    const { params, query } = parseRequest(req, { params: SummaryParams, query: SummaryQuery });
    const tenant = await findTenant(deps, params.tenant);
    const installation = await findInstallation(deps, tenant, params.id);
    const subject: PanelSubject =
      params.kind === 'person' || params.kind === 'account'
        ? { kind: params.kind, objectType: params.objectType, externalId: params.externalId }
        : { kind: 'driver', type: params.kind, objectType: params.objectType, externalId: params.externalId };
    const summary = await summaries.preview(tenant.id, installation.id, subject);
    res.render('summary', {
      title: `${summary.subject.displayName} · summary`,
      summary,
      kind: query.kind ?? null,
      installationHref: installationHref(tenant, installation),
      installationLabel: `${installation.accountName ?? installation.platformAccountId} · ${installation.platform}`,
      harnessHref: zendeskHarnessHref(deps, installationHref(tenant, installation), installation.platform, summary.subject.source.objectType, summary.subject.source.externalId),
      money: (m: { value: string; currency: string }) => formatMoney(m),
    });
  });

  router.get('/tenants/:tenant/identity', noStore, ...page, async (req, res) => {
    const identity = deps.identity;
    if (!identity) throw new LedgerlineError('LL_NOT_FOUND', 'identity resolution is not available on this server');
    const { params } = parseRequest(req, { params: TenantOnlyParams });
    const tenant = await findTenant(deps, params.tenant);
    res.render('identity', { title: `Identities · ${tenant.name}`, tenant, overview: await identity(tenant.id) });
  });

  router.get('/plugins', noStore, ...page, (_req, res) => {
    res.render('plugins', { title: 'Plugins', plugins: deps.plugins, frameAncestors: deps.frameAncestors });
  });

  router.get('/settings', noStore, ...page, (_req, res) => {
    res.render('settings', {
      title: 'Settings',
      rows: settingsOverview(deps.config),
      keyNote: encryptionKeyNote(deps.config),
      plugins: deps.plugins,
    });
  });

  return router;
}

const TenantOnlyParams = z.object({ tenant: TenantSlug });
const SummaryParams = InstallationParams.extend({
  kind: z.enum(['person', 'account', 'deal', 'ticket', 'order', 'case', 'opportunity', 'subscription', 'conversation']),
  objectType: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'an object type'),
  externalId: z.string().min(1).max(255),
});
const SummaryQuery = z.object({ kind: z.enum(activityKinds).optional() });

/** "1,200.50 EUR": grouping for the eye, the ISO code to be unambiguous. */
export function formatMoney(money: { value: string; currency: string }): string {
  const [whole = '0', fraction] = money.value.split('.');
  const negative = whole.startsWith('-');
  const digits = negative ? whole.slice(1) : whole;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}${fraction ? `.${fraction.padEnd(2, '0')}` : ''} ${money.currency}`;
}

function installationHref(tenant: TenantSummary, installation: InstallationSummary): string {
  return `/tenants/${encodeURIComponent(tenant.slug)}/installations/${encodeURIComponent(installation.id)}`;
}
