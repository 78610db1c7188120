/**
 * CSRF protection for console forms, two layers: the browser's Origin must be ours, and the form
 * must echo a random token from an HttpOnly, SameSite=Strict cookie (double submit). The cookie
 * is needed even with auth off: a development console on loopback is still reachable by any page
 * the developer's browser opens.
 */
import { randomBytes } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import { LedgerlineError } from '../errors/index.ts';
import { tokensMatch } from './admin-token.ts';
import { consoleCookieOptions, readCookie } from './request-cookies.ts';
import type { ServerConfig } from './server-deps.ts';

const csrfCookie = 'll_csrf';
export const csrfField = '_csrf';

const CsrfForm = z.object({ [csrfField]: z.string().min(1).max(200) });

export function servedOverHttps(req: Request, config: Pick<ServerConfig, 'publicUrl'>): boolean {
  return req.secure || config.publicUrl.startsWith('https:');
}

/** Makes sure the browser holds a token and exposes it to views as `csrfToken`. */
export function issueCsrfToken(config: ServerConfig): RequestHandler {
  return (req, res, next) => {
    let token = readCookie(req, csrfCookie);
    if (token === undefined || !/^[A-Za-z0-9_-]{32,64}$/.test(token)) {
      token = randomBytes(32).toString('base64url');
      res.cookie(csrfCookie, token, consoleCookieOptions(servedOverHttps(req, config)));
    }
    res.locals.csrfToken = token;
    next();
  };
}

function sameOrigin(req: Request, config: ServerConfig): boolean {
  if (req.get('sec-fetch-site') === 'cross-site') return false;
  const origin = req.get('origin') ?? refererOrigin(req.get('referer'));
  // Browsers send Origin on form POSTs; a request without one is not a browser CSRF vector.
  if (origin === undefined) return true;
  const host = req.get('host');
  const ours = new Set([new URL(config.publicUrl).origin, ...(host === undefined ? [] : [`${req.protocol}://${host}`])]);
  return ours.has(origin);
}

function refererOrigin(referer: string | undefined): string | undefined {
  if (referer === undefined) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return 'null';
  }
}

/** For console POSTs, after the urlencoded body parser. */
export function verifyCsrf(config: ServerConfig): RequestHandler {
  return (req, _res, next) => {
    const refuse = () => next(new LedgerlineError('LL_FORBIDDEN', 'The form could not be verified. Reload the page and try again.'));
    if (!sameOrigin(req, config)) return refuse();
    const cookie = readCookie(req, csrfCookie);
    const form = CsrfForm.safeParse(req.body);
    if (cookie === undefined || !form.success || !tokensMatch(form.data[csrfField], cookie)) return refuse();
    next();
  };
}
