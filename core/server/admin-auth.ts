/**
 * Admin authentication. With LEDGERLINE_ADMIN_TOKEN set, /api/v1 wants `Authorization: Bearer`
 * and the console wants a session cookie obtained at /login. Without it (development only; config
 * refuses that in production) both are open and the console says so on every page.
 */
import express from 'express';
import type { Request, RequestHandler, Router } from 'express';
import { z } from 'zod';
import { LedgerlineError } from '../errors/index.ts';
import { bearerToken, createSessionValue, sessionIsValid, sessionLifetimeMs, tokensMatch } from './admin-token.ts';
import { csrfField, issueCsrfToken, servedOverHttps, verifyCsrf } from './csrf-protection.ts';
import { renderErrorsAsHtml } from './error-responses.ts';
import { createLoginThrottle, type LoginThrottle } from './login-throttle.ts';
import { consoleCookieOptions, readCookie } from './request-cookies.ts';
import { parseRequest } from './request-validation.ts';
import type { ServerConfig } from './server-deps.ts';

const sessionCookie = 'll_session';

/** Where to go after login: a path on this site only, never `//evil.example` or `/\evil.example`. */
const LocalPath = z
  .string()
  .max(2000)
  .regex(/^\/(?![/\\])[^\s]*$/)
  .catch('/');

const LoginQuery = z.object({ next: LocalPath.optional() });
const LoginForm = z.object({
  token: z.string().max(1000),
  next: LocalPath.optional(),
  [csrfField]: z.string(),
});

export function requireApiToken(config: ServerConfig): RequestHandler {
  return (req, _res, next) => {
    const expected = config.adminToken;
    if (expected === undefined) return next();
    const presented = bearerToken(req.get('authorization'));
    if (presented === undefined) {
      return next(new LedgerlineError('LL_UNAUTHENTICATED', 'This API needs an Authorization: Bearer <admin token> header.'));
    }
    if (!tokensMatch(presented, expected)) return next(new LedgerlineError('LL_UNAUTHENTICATED', 'The bearer token is not valid.'));
    next();
  };
}

export function hasConsoleSession(req: Request, config: ServerConfig, now: Date = new Date()): boolean {
  return config.adminToken === undefined || sessionIsValid(config.adminToken, readCookie(req, sessionCookie), now);
}

/** Pages redirect to /login; form posts without a session are refused (their CSRF token is moot). */
export function requireConsoleSession(config: ServerConfig): RequestHandler {
  return (req, res, next) => {
    if (hasConsoleSession(req, config)) return next();
    if (req.method === 'GET' || req.method === 'HEAD') {
      return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    }
    next(new LedgerlineError('LL_UNAUTHENTICATED', 'Sign in to the console first.'));
  };
}

/** GET/POST /login and POST /logout. */
export function loginRoutes(config: ServerConfig, throttle: LoginThrottle = createLoginThrottle()): Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '4kb' });
  const page = [renderErrorsAsHtml, issueCsrfToken(config)];

  router.get('/login', ...page, (req, res) => {
    const { query } = parseRequest(req, { query: LoginQuery });
    if (config.adminToken === undefined) return res.redirect(303, query.next ?? '/');
    res.render('login', { title: 'Sign in', next: query.next ?? '/', failed: false });
  });

  router.post('/login', ...page, form, verifyCsrf(config), (req, res) => {
    const { body } = parseRequest(req, { body: LoginForm });
    const next = body.next ?? '/';
    const expected = config.adminToken;
    if (expected === undefined) return res.redirect(303, next);
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    throttle.check(address);
    if (!tokensMatch(body.token, expected)) {
      throttle.failed(address);
      return res.status(401).render('login', { title: 'Sign in', next, failed: true });
    }
    throttle.succeeded(address);
    const secure = servedOverHttps(req, config);
    res.cookie(sessionCookie, createSessionValue(expected, new Date()), consoleCookieOptions(secure, sessionLifetimeMs));
    res.redirect(303, next);
  });

  router.post('/logout', ...page, form, verifyCsrf(config), (req, res) => {
    res.clearCookie(sessionCookie, consoleCookieOptions(servedOverHttps(req, config)));
    res.redirect(303, config.adminToken === undefined ? '/' : '/login');
  });

  return router;
}
