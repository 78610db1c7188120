/**
 * GET /install/:plugin starts a marketplace install for a tenant (console session required: only
 * an admin attaches a platform account to a tenant); GET /oauth/:plugin/callback finishes it. The
 * console's session cookie is SameSite=Strict and so is not sent on the platform's redirect back;
 * the callback is instead bound to the admin's browser by a short-lived SameSite=Lax cookie
 * holding a hash of the state, and the state itself is single-use and expires in ten minutes.
 */
import express from 'express';
import type { Router } from 'express';
import { z } from 'zod';
import { LedgerlineError } from '../errors/index.ts';
import { requireConsoleSession } from './admin-auth.ts';
import { TenantSlug } from './api-routes.ts';
import { renderErrorsAsHtml } from './error-responses.ts';
import { readCookie } from './request-cookies.ts';
import { parseRequest } from './request-validation.ts';
import type { ServerDeps } from './server-deps.ts';

const PluginParams = z.object({ plugin: z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'a plugin id') });
const InstallQuery = z.object({ tenant: TenantSlug.optional() });
const bindingCookie = (plugin: string): string => `ll_oauth_${plugin.replace(/-/g, '_')}`;

export function installRoutes(deps: ServerDeps): Router {
  const router = express.Router();
  const installs = deps.installs;
  if (!installs) return router;
  const secure = deps.config.publicUrl.startsWith('https:');

  router.get('/install/:plugin', renderErrorsAsHtml, requireConsoleSession(deps.config), async (req, res) => {
    const { params, query } = parseRequest(req, { params: PluginParams, query: InstallQuery });
    if (!deps.plugins.some((p) => p.id === params.plugin)) throw new LedgerlineError('LL_NOT_FOUND', `no plugin '${params.plugin}' is loaded`);
    const tenants = await deps.tenants.list();
    const tenant = query.tenant !== undefined ? tenants.find((t) => t.slug === query.tenant) : tenants.length === 1 ? tenants[0] : undefined;
    if (!tenant) {
      throw new LedgerlineError('LL_INVALID_INPUT', query.tenant ? `no tenant '${query.tenant}'` : 'several tenants exist: say which with ?tenant=<slug>', { details: { field: 'tenant' } });
    }
    const began = await installs.begin(params.plugin, tenant.id);
    res.cookie(bindingCookie(params.plugin), began.browserBinding, { httpOnly: true, sameSite: 'lax', secure, path: `/oauth/${params.plugin}`, maxAge: 10 * 60_000 });
    res.set('Cache-Control', 'no-store').redirect(302, began.authorizeUrl);
  });

  router.get('/oauth/:plugin/callback', renderErrorsAsHtml, async (req, res) => {
    const { params } = parseRequest(req, { params: PluginParams });
    const binding = readCookie(req, bindingCookie(params.plugin));
    res.clearCookie(bindingCookie(params.plugin), { path: `/oauth/${params.plugin}` });
    const done = await installs.complete(params.plugin, req.query, binding);
    const tenant = (await deps.tenants.list()).find((t) => t.id === done.tenantId);
    res.set('Cache-Control', 'no-store').redirect(303, tenant ? `/tenants/${encodeURIComponent(tenant.slug)}/installations/${encodeURIComponent(done.installationId)}` : '/');
  });

  return router;
}
