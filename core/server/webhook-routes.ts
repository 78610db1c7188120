/**
 * POST /webhooks/:plugin — platform webhook deliveries. The raw body is kept byte for byte (every
 * platform signs the bytes it sent); the plugin verifies and parses it, the hints are stored, and
 * the answer goes back fast: processing happens in a worker. No admin auth: the signature is the auth.
 */
import express, { type Router } from 'express';
import { z } from 'zod';
import type { InboundRequest } from '../contract/index.ts';
import { parseRequest } from './request-validation.ts';
import type { ServerDeps } from './server-deps.ts';

const WebhookParams = z.object({ plugin: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a plugin id') });

export function headerRecord(headers: express.Request['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

export function webhookRoutes(deps: ServerDeps): Router {
  const router = express.Router();
  const intake = deps.webhooks;
  if (!intake) return router;
  // HubSpot batches up to 100 events; 1 MB leaves room for every platform's largest delivery.
  router.post('/webhooks/:plugin', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const { params } = parseRequest(req, { params: WebhookParams });
    const request: InboundRequest = {
      method: req.method,
      // The URL as the platform called it: signature schemes sign it.
      url: `${deps.config.publicUrl}${req.originalUrl}`,
      headers: headerRecord(req.headers),
      rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    };
    const result = await intake(params.plugin, request);
    deps.log.info({ plugin: params.plugin, accepted: result.accepted, duplicates: result.duplicates, unknownAccount: result.unknownAccount }, 'webhook delivery');
    res.status(200).json({ accepted: result.accepted, duplicates: result.duplicates, unknownAccount: result.unknownAccount });
  });
  return router;
}
