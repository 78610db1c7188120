/**
 * An agent asks, from a framed panel (the Zendesk sidebar), for the customer beside the ticket to
 * receive their account activity summary: a report request on the customer's behalf — last
 * month's `account-activity` report about that person, read as a customer (the template's masking
 * for that role), sent to the e-mail address their record holds as a secure link whose one-time
 * code travels in a second e-mail. The request then goes through the workflow like any other
 * (quality check, delivery, acknowledgement), and the ledger names the agent who asked.
 *
 * The panel session travels in a request header, which a cross-site form cannot send: no other
 * CSRF defence is needed, as for the history fragment.
 */
import express from 'express';
import type { Router } from 'express';
import { z } from 'zod';
import { LedgerlineError } from '../errors/index.ts';
import { previousPeriod } from '../reports/index.ts';
import { readFrameSession, frameSessionHeader } from './frame-session.ts';
import { parseRequest } from './request-validation.ts';
import type { FrameHost, ServerDeps } from './server-deps.ts';

const RequestParams = z.object({ plugin: z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'a plugin id') });
const RequestBody = z.strictObject({
  objectType: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'an object type'),
  objectId: z.string().min(1).max(255),
});

/** The template a customer receives, and the role it is read as. */
export const customerSummaryTemplate = 'account-activity';

/** Whether a framed panel at this location can send its subject a summary. */
export function canSendSummary(deps: Pick<ServerDeps, 'reports'>, spec: { subject: { kind: string } }, email: string | null): boolean {
  return deps.reports !== undefined && spec.subject.kind === 'person' && email !== null;
}

export function registerSummaryRequests(router: Router, deps: ServerDeps, key: Buffer, hosts: Readonly<Record<string, FrameHost>>): void {
  router.post('/:plugin/summary-requests', express.json({ limit: '2kb' }), async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const claims = readFrameSession(key, req.get(frameSessionHeader), new Date());
    const { params, body } = parseRequest(req, { params: RequestParams, body: RequestBody });
    if (claims.plugin !== params.plugin) throw new LedgerlineError('LL_FORBIDDEN', `This panel session is for ${claims.plugin}, not ${params.plugin}.`);
    const spec = hosts[claims.plugin]?.locations[claims.location];
    if (!spec) throw new LedgerlineError('LL_NOT_FOUND', `There is no framed panel '${claims.location}' for '${claims.plugin}'.`);
    if (spec.subject.kind !== 'person' || body.objectType !== spec.subject.objectType) {
      throw new LedgerlineError('LL_FORBIDDEN', `The ${claims.location} cannot send a summary for ${body.objectType} records.`, { details: { field: 'objectType' } });
    }
    const reports = deps.reports;
    if (!reports) throw new LedgerlineError('LL_UNAVAILABLE', 'Reports are not available on this server.');
    const record = await reports.contactOf(claims.tenantId, claims.installationId, body.objectType, body.objectId);
    if (!record) throw new LedgerlineError('LL_NOT_FOUND', `${body.objectType} ${body.objectId} has not been synced from this installation yet.`, { details: { field: 'objectId' } });
    if (record.email === null) throw new LedgerlineError('LL_INVALID_INPUT', `${record.name ?? `${body.objectType} ${body.objectId}`} has no e-mail address to send the summary to.`, { details: { field: 'objectId' } });
    const request = await reports.workflow.request({
      tenantId: claims.tenantId,
      templateSlug: customerSummaryTemplate,
      parameters: {
        period: previousPeriod('monthly', new Date(), 'UTC'),
        role: 'customer',
        subject: { installationId: claims.installationId, kind: 'person', objectType: body.objectType, externalId: body.objectId },
      },
      format: 'pdf',
      requestedBy: `${claims.plugin} user ${claims.platformUserId ?? 'unknown'}`,
      via: 'agent',
      onBehalfOf: `${claims.plugin} ${body.objectType} ${body.objectId}`,
      recipient: record.email,
      delivery: 'link',
      requireCode: true,
    });
    res.status(201).json({
      requestId: request.id,
      message: `Requested: ${record.email} will receive a secure link to last month's account activity summary, with a one-time code in a separate e-mail.`,
    });
  });
}
