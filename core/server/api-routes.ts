/**
 * The versioned JSON API, /api/v1. Tenants are addressed by slug; an installation is only ever
 * looked up inside its tenant, so another tenant's id answers 404 like an unknown one.
 */
import express from 'express';
import type { Request, RequestHandler, Router } from 'express';
import { z } from 'zod';
import { LedgerlineError, errorCodes } from '../errors/index.ts';
import type { ErrorCode } from '../errors/index.ts';
import { entryJson } from '../ledger/ledger.ts';
import type { LedgerService } from '../ledger/ledger-service.ts';
import type { TriggerService } from '../triggers/trigger-service.ts';
import { requireApiToken } from './admin-auth.ts';
import { notFoundHandler } from './error-responses.ts';
import { parseRequest } from './request-validation.ts';
import type { InstallationSummary, ServerDeps, TenantSummary } from './server-deps.ts';

export const apiPrefix = '/api/v1';

export const TenantSlug = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'lowercase letters, digits and inner hyphens, at most 63 characters');
/** Installations are keyed by UUID; anything else is refused here rather than sent to the database. */
export const InstallationId = z.uuid('an installation id (a UUID)');

const TenantParams = z.object({ tenant: TenantSlug });
export const InstallationParams = z.object({ tenant: TenantSlug, id: InstallationId });
const VerifyQuery = z.strictObject({ tenant: TenantSlug.optional() });
const LedgerQuery = z
  .strictObject({
    after: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    kind: z.string().regex(/^[a-z][a-z0-9_.]*$/, 'an entry kind such as activity or install.installed').optional(),
    driverObjectType: z.string().min(1).max(100).optional(),
    driverExternalId: z.string().min(1).max(200).optional(),
  })
  .refine((q) => (q.driverObjectType === undefined) === (q.driverExternalId === undefined), { message: 'give driverObjectType and driverExternalId together', path: ['driverExternalId'] });

const NotificationQuery = z.strictObject({ status: z.enum(['queued', 'sending', 'sent', 'failed', 'dead', 'acknowledged', 'escalated']).optional() });
const NotificationParams = z.object({ tenant: TenantSlug, id: z.uuid('a notification id (a UUID)') });
const Acknowledgement = z.strictObject({ by: z.string().trim().min(1).max(200) });

function requireTriggers(deps: ServerDeps): TriggerService {
  if (!deps.triggers) throw new LedgerlineError('LL_UNAVAILABLE', 'Triggers are not available on this server.');
  return deps.triggers;
}

function requireLedger(deps: ServerDeps): LedgerService {
  if (!deps.ledger) throw new LedgerlineError('LL_UNAVAILABLE', 'The ledger is not available on this server.');
  return deps.ledger;
}

const NewTenant = z.strictObject({ slug: TenantSlug, name: z.string().trim().min(1).max(200) });

export function tenantJson(tenant: TenantSummary) {
  return { id: tenant.id, slug: tenant.slug, name: tenant.name, createdAt: tenant.createdAt.toISOString() };
}

export function installationJson(installation: InstallationSummary) {
  return {
    id: installation.id,
    platform: installation.platform,
    platformAccountId: installation.platformAccountId,
    accountName: installation.accountName,
    status: installation.status,
    installedAt: installation.installedAt.toISOString(),
    uninstalledAt: installation.uninstalledAt?.toISOString() ?? null,
    scopes: installation.scopes,
    sync: { status: installation.sync.status, lastSyncedAt: installation.sync.lastSyncedAt?.toISOString() ?? null },
  };
}

/** JSON only: a form post or text body is refused before parsing rather than silently ignored. */
const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
  if (hasBody && req.is('application/json') === false) {
    return next(new LedgerlineError('LL_UNSUPPORTED_MEDIA_TYPE', 'Send the request body as application/json.'));
  }
  next();
};

export async function findTenant(deps: ServerDeps, slug: string): Promise<TenantSummary> {
  const tenant = await deps.tenants.findBySlug(slug);
  if (tenant === null) throw new LedgerlineError('LL_NOT_FOUND', `No tenant ${slug}.`, { details: { field: 'tenant' } });
  return tenant;
}

export async function findInstallation(deps: ServerDeps, tenant: TenantSummary, id: string): Promise<InstallationSummary> {
  const installation = await deps.installations.find(tenant.id, id);
  if (installation === null) {
    throw new LedgerlineError('LL_NOT_FOUND', `No installation ${id} in tenant ${tenant.slug}.`, { details: { field: 'id' } });
  }
  return installation;
}

export function apiRoutes(deps: ServerDeps, options: { bodyLimit: string }): Router {
  const router = express.Router();
  router.use(apiPrefix, requireApiToken(deps.config), requireJsonBody, express.json({ limit: options.bodyLimit, strict: true }));
  router.use(apiPrefix, (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  router.get(`${apiPrefix}/tenants`, async (_req, res) => {
    const tenants = await deps.tenants.list();
    res.json({ tenants: tenants.map(tenantJson) });
  });

  router.post(`${apiPrefix}/tenants`, async (req, res) => {
    const { body } = parseRequest(req, { body: NewTenant });
    const tenant = await deps.tenants.create(body);
    res.status(201).location(`${apiPrefix}/tenants/${tenant.slug}`).json({ tenant: tenantJson(tenant) });
  });

  router.get(`${apiPrefix}/tenants/:tenant/installations`, async (req, res) => {
    const { params } = parseRequest(req, { params: TenantParams });
    const tenant = await findTenant(deps, params.tenant);
    const installations = await deps.installations.listForTenant(tenant.id);
    res.json({ installations: installations.map(installationJson) });
  });

  router.get(`${apiPrefix}/tenants/:tenant/installations/:id`, async (req, res) => {
    const { tenant, installation } = await loadInstallation(deps, req);
    res.json({ tenant: tenant.slug, installation: installationJson(installation) });
  });

  router.post(`${apiPrefix}/tenants/:tenant/installations/:id/uninstall`, async (req, res) => {
    const { tenant, installation } = await loadInstallation(deps, req);
    // Through the install flow where there is one: the grant is revoked and the outcome recorded.
    const outcome = deps.installs ? await deps.installs.uninstall(tenant.id, installation.id) : null;
    const updated = deps.installs ? await findInstallation(deps, tenant, installation.id) : await deps.installations.markUninstalled(tenant.id, installation.id);
    deps.log.info({ tenant: tenant.slug, installation: installation.id, via: 'api', revoked: outcome?.revoked ?? null }, 'installation uninstalled');
    res.json({ tenant: tenant.slug, installation: installationJson(updated), ...(outcome ? { revoked: outcome.revoked, revokeError: outcome.revokeError } : {}) });
  });

  router.get(`${apiPrefix}/ledger/verify`, async (req, res) => {
    const { query } = parseRequest(req, { query: VerifyQuery });
    const ledger = requireLedger(deps);
    const tenants = query.tenant ? [await findTenant(deps, query.tenant)] : await deps.tenants.list();
    const reports = [];
    for (const tenant of tenants) reports.push({ tenant: tenant.slug, ...(await ledger.verify(tenant.id)) });
    res.json({ ok: reports.every((r) => r.ok), tenants: reports });
  });

  router.get(`${apiPrefix}/tenants/:tenant/ledger`, async (req, res) => {
    const { params, query } = parseRequest(req, { params: TenantParams, query: LedgerQuery });
    const tenant = await findTenant(deps, params.tenant);
    const entries = await requireLedger(deps).entries(tenant.id, {
      after: query.after,
      limit: query.limit,
      ...(query.kind ? { kind: query.kind } : {}),
      ...(query.driverObjectType && query.driverExternalId ? { driver: { objectType: query.driverObjectType, externalId: query.driverExternalId } } : {}),
    });
    const last = entries.at(-1);
    res.json({ tenant: tenant.slug, entries: entries.map(entryJson), next: last && entries.length === query.limit ? `${apiPrefix}/tenants/${tenant.slug}/ledger?after=${last.seq}&limit=${query.limit}` : null });
  });

  router.get(`${apiPrefix}/tenants/:tenant/trigger-rules`, async (req, res) => {
    const { params } = parseRequest(req, { params: TenantParams });
    const tenant = await findTenant(deps, params.tenant);
    res.json({ rules: await requireTriggers(deps).rules(tenant.id) });
  });

  router.post(`${apiPrefix}/tenants/:tenant/trigger-rules`, async (req, res) => {
    const { params } = parseRequest(req, { params: TenantParams });
    const tenant = await findTenant(deps, params.tenant);
    const rule = await requireTriggers(deps).createRule(tenant.id, req.body);
    res.status(201).json({ rule });
  });

  router.get(`${apiPrefix}/tenants/:tenant/notifications`, async (req, res) => {
    const { params, query } = parseRequest(req, { params: TenantParams, query: NotificationQuery });
    const tenant = await findTenant(deps, params.tenant);
    res.json({ notifications: await requireTriggers(deps).notifications(tenant.id, query.status) });
  });

  router.post(`${apiPrefix}/tenants/:tenant/notifications/:id/acknowledge`, async (req, res) => {
    const { params, body } = parseRequest(req, { params: NotificationParams, body: Acknowledgement });
    const tenant = await findTenant(deps, params.tenant);
    await requireTriggers(deps).acknowledge(tenant.id, params.id, body.by);
    res.json({ acknowledged: params.id, by: body.by });
  });

  router.get(`${apiPrefix}/plugins`, (_req, res) => {
    res.json({ plugins: deps.plugins, frameAncestors: deps.frameAncestors });
  });

  router.get(`${apiPrefix}/errors`, (_req, res) => {
    const errors = (Object.keys(errorCodes) as ErrorCode[]).map((code) => ({ code, ...errorCodes[code] }));
    res.json({ errors });
  });

  // Unknown API paths answer JSON 404 here instead of falling through to the console.
  router.use(apiPrefix, notFoundHandler);
  return router;
}

async function loadInstallation(deps: ServerDeps, req: Request) {
  const { params } = parseRequest(req, { params: InstallationParams });
  const tenant = await findTenant(deps, params.tenant);
  return { tenant, installation: await findInstallation(deps, tenant, params.id) };
}
