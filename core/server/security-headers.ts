/**
 * Response security headers. Everything gets a strict CSP that forbids inline script and framing;
 * only panel pages (/panels/*) may be framed, and only by the hosts the loaded plugins declare
 * (Zendesk, Salesforce Canvas…).
 */
import helmet from 'helmet';
import type { RequestHandler } from 'express';
import { LedgerlineError } from '../errors/index.ts';

/** A CSP host source for an origin: scheme, host (optionally `*.`-prefixed), optional port. */
const frameAncestorSource = /^https?:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/i;

export interface SecurityHeaderOptions {
  /** Ask browsers to upgrade http subresources; only meaningful when served over https. */
  readonly https: boolean;
}

function directives(frameAncestors: readonly string[], options: SecurityHeaderOptions) {
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'"],
    'connect-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': frameAncestors.length === 0 ? ["'none'"] : [...frameAncestors],
    ...(options.https ? { 'upgrade-insecure-requests': [] } : {}),
  };
}

/** Console, API, health and metrics: nothing may frame us. */
export function strictSecurityHeaders(options: SecurityHeaderOptions): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: directives([], options) },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'same-origin' },
  });
}

/** The union of the plugins' frame ancestors, deduplicated in declaration order, validated. */
export function frameAncestorList(origins: readonly string[]): string[] {
  const union = [...new Set(origins)];
  for (const origin of union) {
    if (!frameAncestorSource.test(origin)) {
      throw new LedgerlineError('LL_INVALID_CONFIG', `Invalid configuration: frame ancestor ${JSON.stringify(origin)} is not an origin`, {
        details: { field: 'frameAncestors' },
      });
    }
  }
  return union;
}

/**
 * Headers for panel pages: the same policy, except `frame-ancestors` is exactly the given origins
 * ('none' when there are none). X-Frame-Options is dropped because it cannot list origins and
 * browsers that honour it would refuse every host.
 */
export function panelSecurityHeaders(frameAncestors: readonly string[], options: SecurityHeaderOptions): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: directives(frameAncestorList(frameAncestors), options) },
    xFrameOptions: false,
    referrerPolicy: { policy: 'same-origin' },
  });
}

/**
 * Whether a browser origin is one a CSP host source in `sources` allows (`https://*.zendesk.com`
 * allows `https://acme.zendesk.com`, not `https://zendesk.com`): framed pages use it to refuse a
 * host origin their CSP would not let frame them anyway.
 */
export function originAllowedBy(origin: string, sources: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.origin !== origin) return false;
  return sources.some((source) => {
    const match = /^(https?):\/\/(\*\.)?([^:/]+)(?::(\d{1,5}))?$/i.exec(source);
    if (!match) return false;
    const [, scheme = '', wildcard, host = '', port] = match;
    if (`${scheme.toLowerCase()}:` !== url.protocol) return false;
    if ((port ?? '') !== url.port) return false;
    const hostname = url.hostname.toLowerCase();
    return wildcard ? hostname.endsWith(`.${host.toLowerCase()}`) : hostname === host.toLowerCase();
  });
}
