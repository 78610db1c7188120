/**
 * The public page behind a delivered report's secure link: /reports/links/:token. No console
 * session exists here, so the token itself is the binding (a CSRF token would add nothing an
 * attacker holding the link lacks), and guessing the one-time code is bounded by the workflow's
 * wrong-code counter, which revokes the link. Unknown, expired and revoked links all get the same
 * neutral 404 page, so the page is no oracle for which tokens exist.
 */
import express from 'express';
import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import { isLedgerlineError } from '../errors/index.ts';
import { reportsStylesheetHref } from './report-console-kit.ts';
import { sendReportFile } from './report-file-response.ts';
import { requireReports } from './report-request-schemas.ts';
import type { ServerDeps } from './server-deps.ts';

/** 32 random bytes, base64url: anything else cannot be a link we sent. */
const LinkToken = z.string().regex(/^[A-Za-z0-9_-]{32,64}$/);
const CodeForm = z.object({ code: z.string().trim().regex(/^\d{6}$/) });

/** The link is a bearer secret: keep it out of caches, Referer headers and search indexes. */
const privateResponse: RequestHandler = (_req, res, next) => {
  res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'X-Robots-Tag': 'noindex, nofollow' });
  next();
};

type LinkPage = { state: 'code'; attemptsLeft: number | null; invalidCode: boolean } | { state: 'gone' };

function renderLinkPage(res: Response, status: number, page: LinkPage): void {
  res.status(status).render('reports-link', { title: page.state === 'gone' ? 'Link not available' : 'Enter your code', page, reportsCssHref: reportsStylesheetHref });
}

function clientMeta(req: Request): { ip?: string } {
  const ip = req.ip ?? req.socket.remoteAddress;
  return ip === undefined ? {} : { ip };
}

export function reportLinkRoutes(deps: ServerDeps): Router {
  const router = express.Router();
  const path = '/reports/links/:token';

  async function open(req: Request, res: Response, code: string | undefined): Promise<void> {
    const token = LinkToken.safeParse(req.params.token);
    if (!token.success) return renderLinkPage(res, 404, { state: 'gone' });
    let outcome;
    try {
      outcome = await requireReports(deps).workflow.openLink(token.data, code, clientMeta(req));
    } catch (error) {
      if (isLedgerlineError(error, 'LL_NOT_FOUND')) return renderLinkPage(res, 404, { state: 'gone' });
      throw error;
    }
    if (outcome.status === 'ok') return sendReportFile(res, outcome.file);
    if (outcome.status === 'code_required') return renderLinkPage(res, 200, { state: 'code', attemptsLeft: null, invalidCode: false });
    renderLinkPage(res, 403, { state: 'code', attemptsLeft: outcome.attemptsLeft, invalidCode: false });
  }

  router.get(path, privateResponse, async (req, res) => {
    await open(req, res, undefined);
  });

  router.post(path, privateResponse, express.urlencoded({ extended: false, limit: '1kb' }), async (req, res) => {
    const form = CodeForm.safeParse(req.body);
    // A mistyped code is not a guess: it does not reach the wrong-code counter.
    if (!form.success) return renderLinkPage(res, 400, { state: 'code', attemptsLeft: null, invalidCode: true });
    await open(req, res, form.data.code);
  });

  return router;
}
