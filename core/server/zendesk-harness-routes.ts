/**
 * The Zendesk sidebar harness (sandbox only, behind the console's admin session): a console page
 * that plays Zendesk for one record. It signs the first load with the sandbox app's private key
 * (`deps.zendeskHarness`), posts it as a form into an iframe at /panels/zendesk/<location> with
 * `origin` and `app_guid` in the query exactly as Zendesk does, and answers the ZAF SDK's messages
 * (browser/zendesk-harness.js). So the sidebar is exercised end to end — signed first load,
 * session, SDK handshake, host context, history, resize — without a Zendesk account.
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import type { RequestHandler, Router } from 'express';
import { z } from 'zod';
import type { PanelSubject } from '../contract/index.ts';
import { LedgerlineError } from '../errors/index.ts';
import { requireConsoleSession } from './admin-auth.ts';
import { findInstallation, findTenant, InstallationParams } from './api-routes.ts';
import { issueCsrfToken } from './csrf-protection.ts';
import { renderErrorsAsHtml } from './error-responses.ts';
import type { FrameAssets } from './frame-assets.ts';
import { parseRequest } from './request-validation.ts';
import type { ServerDeps } from './server-deps.ts';

export const zendeskHarnessPlugin = 'zendesk';

const HarnessQuery = z.strictObject({
  location: z.string().regex(/^[a-z_]{1,40}$/, 'a Zendesk app location').default('ticket_sidebar'),
  objectType: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'an object type').optional(),
  objectId: z.string().min(1).max(255),
  /** The Zendesk agent the harness acts as (the token's `sub`); none when omitted. */
  agentId: z.string().regex(/^\d{1,20}$/, 'a Zendesk user id').optional(),
});

/** The harness URL for a record, or null when this server has no harness or the record is not a sidebar subject. */
export function zendeskHarnessHref(deps: ServerDeps, base: string, platform: string, objectType: string, externalId: string): string | null {
  const host = deps.frameHosts?.[zendeskHarnessPlugin];
  if (!deps.zendeskHarness || !host || platform !== zendeskHarnessPlugin) return null;
  const location = Object.entries(host.locations).find(([, spec]) => spec.subject.objectType === objectType)?.[0];
  if (location === undefined) return null;
  return `${base}/zendesk-harness?${new URLSearchParams({ location, objectType, objectId: externalId }).toString()}`;
}

/** ZAF answers ids as numbers. */
const zafId = (id: string): number | string => (/^\d{1,15}$/.test(id) ? Number(id) : id);

export function zendeskHarnessRoutes(deps: ServerDeps, assets: FrameAssets): Router {
  const router = express.Router();
  const { zendeskHarness: harness, summaries } = deps;
  const host = deps.frameHosts?.[zendeskHarnessPlugin];
  if (!harness || !host || !summaries) return router;
  const noStore: RequestHandler = (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  };

  router.get('/tenants/:tenant/installations/:id/zendesk-harness', noStore, renderErrorsAsHtml, requireConsoleSession(deps.config), issueCsrfToken(deps.config), async (req, res) => {
    const { params, query } = parseRequest(req, { params: InstallationParams, query: HarnessQuery });
    const tenant = await findTenant(deps, params.tenant);
    const installation = await findInstallation(deps, tenant, params.id);
    if (installation.platform !== zendeskHarnessPlugin) throw new LedgerlineError('LL_CONFLICT', `The Zendesk harness plays Zendesk; this is a ${installation.platform} installation.`);
    if (installation.status !== 'active') throw new LedgerlineError('LL_CONFLICT', 'The installation is not active, so Zendesk would not load its sidebar.');
    const spec = host.locations[query.location];
    if (!spec) throw new LedgerlineError('LL_INVALID_INPUT', `Query parameter: location: one of ${Object.keys(host.locations).join(', ')}`, { details: { field: 'location' } });
    const objectType = query.objectType ?? spec.subject.objectType;
    if (objectType !== spec.subject.objectType) {
      throw new LedgerlineError('LL_INVALID_INPUT', `Query parameter: objectType: the ${query.location} shows ${spec.subject.objectType} records`, { details: { field: 'objectType' } });
    }
    // What the admin's Zendesk page would show around the app: the record, and a ticket of theirs.
    const subject: PanelSubject = { kind: spec.subject.kind, objectType, externalId: query.objectId };
    const summary = await summaries.preview(tenant.id, installation.id, subject);
    const open = summary.openItems.find((o) => o.type === 'ticket' && o.source.installationId === installation.id);
    const recent = summary.timeline.find((t) => t.driver?.type === 'ticket' && t.source.installationId === installation.id);
    const ticket = open
      ? { id: open.source.externalId, title: open.title, status: open.status }
      : recent?.driver
        ? { id: recent.driver.externalId, title: recent.summary, status: null }
        : null;
    const ticketId = query.location === 'ticket_sidebar' && ticket ? ticket.id : null;

    const now = new Date();
    const appGuid = randomUUID();
    const origin = new URL(deps.config.publicUrl).origin;
    const answers: Record<string, unknown> = {
      [spec.contextPath]: zafId(query.objectId),
      ...(ticketId !== null ? { 'ticket.id': zafId(ticketId) } : {}),
      ...(query.agentId !== undefined ? { 'currentUser.id': zafId(query.agentId) } : {}),
    };
    const token = harness.signFirstLoad({ platformAccountId: installation.platformAccountId, location: query.location, agentId: query.agentId ?? null, now });
    const base = `/tenants/${encodeURIComponent(tenant.slug)}/installations/${encodeURIComponent(installation.id)}`;
    res.render('zendesk-harness', {
      title: `${summary.subject.displayName} · Zendesk sidebar harness`,
      tenant,
      installation,
      installationHref: base,
      summary,
      ticket,
      location: query.location,
      locations: Object.keys(host.locations),
      harnessHref: (location: string) => {
        const other = host.locations[location];
        return other && other.subject.objectType === objectType ? `${base}/zendesk-harness?${new URLSearchParams({ location, objectType, objectId: query.objectId }).toString()}` : null;
      },
      contextPath: spec.contextPath,
      token,
      formAction: `/panels/${zendeskHarnessPlugin}/${query.location}?${new URLSearchParams({ origin, app_guid: appGuid }).toString()}`,
      answers: JSON.stringify(answers),
      context: JSON.stringify({ product: 'support', location: query.location, instanceGuid: appGuid, account: { subdomain: installation.platformAccountId }, ...(ticketId !== null ? { ticketId: zafId(ticketId) } : {}) }),
      metadata: JSON.stringify({ appId: 0, installationId: harness.appInstallationId, name: 'Ledgerline', version: '1.0.0', settings: {} }),
      harnessCssHref: assets.stylesheetHref('zendesk-harness.css'),
      scriptHref: assets.href('zendesk-harness.js'),
    });
  });

  return router;
}
