/**
 * One log line and one metrics sample per request. The log has the path without its query string
 * (tokens and signed parameters travel there) and no headers at all; metrics label by the route
 * pattern so /tenants/:tenant stays one series however many tenants exist.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../log/index.ts';
import type { HttpMetrics } from '../metrics/index.ts';

/** Responses no route matched (404s, static files) share one label each. */
function routeLabel(req: Request, res: Response): string {
  const pattern: unknown = (req.route as { path?: unknown } | undefined)?.path;
  const prefix = typeof res.locals.routePrefix === 'string' ? res.locals.routePrefix : '';
  if (typeof pattern === 'string') return prefix + pattern;
  return typeof res.locals.routeLabel === 'string' ? res.locals.routeLabel : 'unmatched';
}

/** For middleware that answers without a route (static files): name the series. */
export function labelRoute(label: string): RequestHandler {
  return (_req, res, next) => {
    res.locals.routeLabel = label;
    next();
  };
}

/** For routers mounted under a path (panels): their patterns are relative, so record the mount point. */
export function routesMountedAt(prefix: string): RequestHandler {
  return (_req, res, next) => {
    res.locals.routePrefix = prefix;
    next();
  };
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The path as logged: a segment that carries a secret (the token of a secure report link, or
 * anything that looks like a long random token rather than an id) is replaced by `[redacted]`.
 */
export function loggablePath(path: string): string {
  const segments = path.split('/');
  return segments
    .map((segment, i) => {
      const secretByPlace = i >= 3 && segments[i - 2] === 'reports' && segments[i - 1] === 'links';
      const secretByShape = segment.length >= 32 && /^[A-Za-z0-9_~.%-]+$/.test(segment) && !uuid.test(segment);
      return secretByPlace || secretByShape ? '[redacted]' : segment;
    })
    .join('/');
}

export function observeRequests(log: Logger, metrics: HttpMetrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    // Captured now: routers rewrite req.url while they run.
    const path = loggablePath(new URL(req.originalUrl, 'http://ledgerline.invalid').pathname);
    let done = false;
    const finish = (aborted: boolean) => {
      if (done) return;
      done = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = aborted ? 499 : res.statusCode;
      const route = routeLabel(req, res);
      metrics.observe({ method: req.method, route, status, seconds });
      const fields = { method: req.method, path, route, status, durationMs: Math.round(seconds * 1e4) / 10 };
      if (status >= 500) log.warn(fields, 'request');
      else log.info(fields, 'request');
    };
    res.once('finish', () => finish(false));
    res.once('close', () => finish(!res.writableFinished));
    next();
  };
}
