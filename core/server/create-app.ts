/**
 * The express app, assembled in order: headers and observation first, then open endpoints
 * (health, metrics, static, panels), then the authenticated API and console, then 404 and the
 * one error handler.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import express from 'express';
import type { Express } from 'express';
import { createHttpMetrics, createMetricsRegistry } from '../metrics/index.ts';
import { loginRoutes } from './admin-auth.ts';
import { apiRoutes } from './api-routes.ts';
import { consoleLocals, consoleRoutes } from './console-routes.ts';
import { errorHandler, notFoundHandler } from './error-responses.ts';
import { healthRoutes } from './health-routes.ts';
import { installRoutes } from './install-routes.ts';
import { loadFrameAssets } from './frame-assets.ts';
import { framePanelRoutes } from './frame-panel-routes.ts';
import { panelJsonRoutes } from './panel-routes.ts';
import { reportConsoleRoutes } from './report-console-routes.ts';
import { reportLinkRoutes } from './report-link-routes.ts';
import { reportApiRoutes } from './report-routes.ts';
import { zendeskHarnessRoutes } from './zendesk-harness-routes.ts';
import { webhookRoutes } from './webhook-routes.ts';
import { labelRoute, observeRequests, routesMountedAt } from './request-observer.ts';
import { frameAncestorList, panelSecurityHeaders, strictSecurityHeaders } from './security-headers.ts';
import type { ServerDeps } from './server-deps.ts';

const viewsDir = fileURLToPath(new URL('./views/', import.meta.url));
const publicDir = fileURLToPath(new URL('./public/', import.meta.url));

/** The stylesheet is served with a year-long cache; its URL carries a content hash so edits still reach browsers. */
function stylesheetHref(): string {
  const hash = createHash('sha256').update(readFileSync(`${publicDir}console.css`)).digest('hex').slice(0, 12);
  return `/public/console.css?v=${hash}`;
}

export interface AppOptions {
  /** Largest JSON body /api/v1 accepts; larger ones get 413. */
  readonly jsonBodyLimit?: string;
}

export function createApp(deps: ServerDeps, options: AppOptions = {}): Express {
  const app = express();
  const https = deps.config.publicUrl.startsWith('https:');
  const registry = deps.metrics ?? createMetricsRegistry();
  const httpMetrics = createHttpMetrics(registry);

  app.disable('x-powered-by');
  // The client address (req.ip) is the TCP peer unless the operator runs that many proxies in front.
  app.set('trust proxy', deps.config.trustProxy ?? 0);
  app.set('views', viewsDir);
  app.set('view engine', 'ejs');
  // Three arguments, so ejs reads express's settings (views, view cache) from the data.
  app.engine('ejs', (path, data, callback) => {
    ejs.renderFile(path, data, callback);
  });
  app.set('view cache', deps.config.env === 'production');

  app.use(observeRequests(deps.log, httpMetrics));
  const strict = strictSecurityHeaders({ https });
  // Panels get their own CSP below; everything else the strict one.
  app.use((req, res, next) => (isPanelPath(req.path) ? next() : strict(req, res, next)));
  app.use(consoleLocals(deps, stylesheetHref()));

  app.use(healthRoutes(deps.readiness, deps.log, deps.readinessTimeoutMs ?? 2000));
  app.get('/metrics', async (_req, res) => {
    res.set('Cache-Control', 'no-store').type(registry.contentType).send(await registry.metrics());
  });
  app.use(
    '/public',
    labelRoute('/public/*'),
    express.static(publicDir, { maxAge: '365d', immutable: true, index: false, fallthrough: true }),
  );

  const assets = loadFrameAssets();
  // The sandbox's Zendesk harness frames the sidebar from the console itself.
  const panelFrameAncestors = deps.zendeskHarness ? frameAncestorList([...deps.frameAncestors, new URL(deps.config.publicUrl).origin]) : deps.frameAncestors;
  app.use('/panels', routesMountedAt('/panels'), panelSecurityHeaders(panelFrameAncestors, { https }));
  if (deps.panels !== undefined) app.use('/panels', deps.panels);
  app.use('/panels', assets.routes());
  app.use('/panels', panelJsonRoutes(deps));
  app.use('/panels', framePanelRoutes(deps, assets, panelFrameAncestors));

  app.use(webhookRoutes(deps));
  // Before the general API: its spend import takes text/csv, which the general API refuses.
  app.use(reportApiRoutes(deps));
  app.use(apiRoutes(deps, { bodyLimit: options.jsonBodyLimit ?? '100kb' }));
  app.use(loginRoutes(deps.config));
  // Public: a delivered report's secure link, opened by its recipient without a console session.
  app.use(reportLinkRoutes(deps));
  app.use(installRoutes(deps));
  app.use(consoleRoutes(deps));
  app.use(reportConsoleRoutes(deps));
  app.use(zendeskHarnessRoutes(deps, assets));

  app.use(notFoundHandler);
  app.use(errorHandler(deps.log));
  return app;
}

/** Case-insensitive like express routing, so /Panels/x cannot dodge the mount below. */
function isPanelPath(path: string): boolean {
  const lower = path.toLowerCase();
  return lower === '/panels' || lower.startsWith('/panels/');
}
