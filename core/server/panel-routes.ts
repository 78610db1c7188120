/**
 * JSON panel endpoints for hosts whose cards fetch data (HubSpot app cards via hubspot.fetch,
 * Shopify admin extensions): GET /panels/:plugin/summary. The plugin verifies the host's
 * signature or token; no console session applies. Mounted under /panels with the panel CSP.
 */
import express from 'express';
import type { Router } from 'express';
import { z } from 'zod';
import type { InboundRequest } from '../contract/index.ts';
import { parseRequest } from './request-validation.ts';
import type { ServerDeps } from './server-deps.ts';
import { headerRecord } from './webhook-routes.ts';

const PluginParams = z.object({ plugin: z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'a plugin id') });

export function panelJsonRoutes(deps: ServerDeps): Router {
  const router = express.Router();
  const summaries = deps.summaries;
  if (!summaries) return router;
  router.get('/:plugin/summary', async (req, res) => {
    const { params } = parseRequest(req, { params: PluginParams });
    const request: InboundRequest = {
      method: req.method,
      // The URL as the host called it: signatures cover it. originalUrl keeps the /panels mount.
      url: `${deps.config.publicUrl}${req.originalUrl}`,
      headers: headerRecord(req.headers),
      rawBody: Buffer.alloc(0),
    };
    const summary = await summaries.forPanel(params.plugin, request);
    // Sent as is: an answer that must not be stored gets no ETag (res.send would hash every one).
    res.set({ 'Cache-Control': 'private, no-store', 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(summary)) }).end(summary);
  });
  return router;
}
