/**
 * Framed panels (the Zendesk sidebar): pages a host loads in an iframe, under /panels with the
 * panel CSP (frame-ancestors: the hosts the plugins declare).
 *
 * - POST /panels/:plugin/:location — the host's signed first load. The plugin verifies it (for
 *   Zendesk: the RS256 `token` form field), the summary service maps it to the active installation
 *   and records `panel.session_opened`, and the answer is the shell page with a 15-minute session
 *   in it (see frame-session.ts for why not a cookie). The shell loads the host's SDK, asks the
 *   host which record it sits beside, and fetches the history.
 * - GET /panels/:plugin/history — the cross-system history of one record as an HTML fragment,
 *   for the shell's own fetches with the session header; every answer is recorded as `panel.viewed`.
 *
 * Refusals are rendered for where they land: a page for the first load, a fragment for history.
 */
import express from 'express';
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import type { InboundRequest } from '../contract/index.ts';
import { LedgerlineError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { activityKinds } from '../model/index.ts';
import type { AccountSummary } from '../panels/summary-schema.ts';
import { formatMoney } from './console-routes.ts';
import { classifyRequestError, errorBody } from './error-responses.ts';
import type { FrameAssets } from './frame-assets.ts';
import { frameSessionHeader, mintFrameSession, readFrameSession } from './frame-session.ts';
import { parseRequest } from './request-validation.ts';
import { originAllowedBy } from './security-headers.ts';
import type { FrameHost, ServerDeps } from './server-deps.ts';
import { headerRecord } from './webhook-routes.ts';
import { canSendSummary, registerSummaryRequests } from './frame-summary-requests.ts';

const PluginId = z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'a plugin id');
const FirstLoadParams = z.object({ plugin: PluginId, location: z.string().regex(/^[a-z][a-z0-9_.-]{0,62}$/, 'a panel location') });
const FirstLoadQuery = z.looseObject({ origin: z.string().max(300).optional() });
const HistoryParams = z.object({ plugin: PluginId });
const IsoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date (YYYY-MM-DD)').refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), 'a calendar date');
const HistoryQuery = z.strictObject({
  objectType: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'an object type'),
  objectId: z.string().min(1).max(255),
  kind: z.enum(activityKinds).or(z.literal('')).optional(),
  source: PluginId.or(z.literal('')).optional(),
  from: IsoDay.or(z.literal('')).optional(),
});

/** The timeline a sidebar fetches: long enough that a kind or source filter still has items to show. */
const sidebarTimelineLimit = 100;
const dayMs = 86_400_000;

/** Periods offered as filters, as `from` dates relative to now; the summary's default is the last 12 months. */
function periodChoices(now: Date): { label: string; from: string }[] {
  const back = (days: number) => new Date(now.getTime() - days * dayMs).toISOString().slice(0, 10);
  return [
    { label: '30 days', from: back(30) },
    { label: '90 days', from: back(90) },
    { label: '12 months', from: '' },
    { label: '3 years', from: back(3 * 365) },
  ];
}

function locationOf(hosts: Readonly<Record<string, FrameHost>>, plugin: string, location: string) {
  const host = hosts[plugin];
  const spec = host?.locations[location];
  if (!host || !spec) throw new LedgerlineError('LL_NOT_FOUND', `There is no framed panel '${location}' for '${plugin}'.`);
  return { host, spec };
}

function refusal(log: Logger, req: Request, thrown: unknown): { status: number; code: string; message: string } {
  const error = classifyRequestError(thrown);
  if (error.status >= 500) log.error({ err: thrown, code: error.code, method: req.method, path: req.path }, 'framed panel request failed');
  else log.info({ code: error.code, method: req.method, path: req.path, message: error.message }, 'framed panel request refused');
  const body = errorBody(error);
  return { status: error.status, code: body.error.code, message: body.error.message };
}

export function framePanelRoutes(deps: ServerDeps, assets: FrameAssets, panelFrameAncestors: readonly string[]): Router {
  const router = express.Router();
  const { summaries, frameSessionKey: key } = deps;
  const hosts = deps.frameHosts ?? {};
  if (!summaries || !key) return router;
  const platformName = (id: string): string => hosts[id]?.displayName ?? deps.plugins.find((p) => p.id === id)?.displayName ?? id;
  const noStore = (res: Response) => res.set('Cache-Control', 'no-store');
  // Before the first-load route, whose `/:plugin/:location` would take it for a location.
  registerSummaryRequests(router, deps, key, hosts);

  // The signed token travels in the form body; the raw bytes go to the plugin, which parses them.
  router.post('/:plugin/:location', express.raw({ type: () => true, limit: '32kb' }), async (req, res) => {
    noStore(res);
    try {
      const { params, query } = parseRequest(req, { params: FirstLoadParams, query: FirstLoadQuery });
      const { host, spec } = locationOf(hosts, params.plugin, params.location);
      // The SDK will only talk to this origin: it must be one allowed to frame us.
      if (host.sdk === 'zaf' && (query.origin === undefined || !originAllowedBy(query.origin, panelFrameAncestors))) {
        throw new LedgerlineError('LL_FORBIDDEN', `The host origin ${query.origin ?? '(none)'} may not frame this panel.`, { details: { field: 'origin' } });
      }
      const request: InboundRequest = {
        method: req.method,
        url: `${deps.config.publicUrl}${req.originalUrl}`,
        headers: headerRecord(req.headers),
        rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      };
      const grant = await summaries.openFrameSession(params.plugin, params.location, request);
      const session = mintFrameSession(key, grant, new Date());
      res.render('frame-panel', {
        session: session.token,
        sessionHeader: frameSessionHeader,
        hostName: host.displayName,
        contextPath: spec.contextPath,
        objectType: spec.subject.objectType,
        historyUrl: `/panels/${params.plugin}/history`,
        cssHref: assets.stylesheetHref('frame-panel.css'),
        sdkHref: assets.href('zaf-sdk.js'),
        scriptHref: assets.href('frame-panel.js'),
      });
    } catch (thrown) {
      const shown = refusal(deps.log, req, thrown);
      res.status(shown.status).render('frame-refused', { ...shown, cssHref: assets.stylesheetHref('frame-panel.css') });
    }
  });

  router.get('/:plugin/history', async (req, res) => {
    noStore(res);
    try {
      const now = new Date();
      const claims = readFrameSession(key, req.get(frameSessionHeader), now);
      const { params, query } = parseRequest(req, { params: HistoryParams, query: HistoryQuery });
      if (claims.plugin !== params.plugin) throw new LedgerlineError('LL_FORBIDDEN', `This panel session is for ${claims.plugin}, not ${params.plugin}.`);
      const { spec } = locationOf(hosts, claims.plugin, claims.location);
      // The session is bound to its location: a ticket sidebar may read users, not organizations.
      if (query.objectType !== spec.subject.objectType) {
        throw new LedgerlineError('LL_FORBIDDEN', `The ${claims.location} shows ${spec.subject.objectType} records, not ${query.objectType}.`, { details: { field: 'objectType' } });
      }
      const from = query.from ? new Date(`${query.from}T00:00:00Z`) : null;
      if (from !== null && from.getTime() > now.getTime()) throw new LedgerlineError('LL_INVALID_INPUT', 'Query parameter: from: not in the future', { details: { field: 'from' } });
      const summary = await summaries.forFrameSession(
        claims,
        { kind: spec.subject.kind, objectType: query.objectType, externalId: query.objectId },
        { limit: sidebarTimelineLimit, ...(from ? { period: { from, to: now } } : {}) },
      );
      const kind = query.kind || null;
      const source = query.source || null;
      res.render('frame-history', {
        summary,
        timeline: summary.timeline.filter((t) => (kind === null || t.kind === kind) && (source === null || t.source.platform === source)),
        filters: { kind, source, from: query.from ?? '' },
        periods: periodChoices(now),
        sourcePlatforms: sourcePlatforms(summary),
        canSendSummary: canSendSummary(deps, spec, summary.subject.email),
        summaryRequestUrl: `/panels/${params.plugin}/summary-requests`,
        platformName,
        money: formatMoney,
      });
    } catch (thrown) {
      const shown = refusal(deps.log, req, thrown);
      res.status(shown.status).render('frame-history-refused', shown);
    }
  });

  return router;
}

/** Every platform the person's history comes from (installations of the resolved profile), once. */
function sourcePlatforms(summary: AccountSummary): string[] {
  return [...new Set([...summary.sources.map((s) => s.platform), ...summary.timeline.map((t) => t.source.platform)])].sort();
}
