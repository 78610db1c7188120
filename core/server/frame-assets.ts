/**
 * The scripts of framed panels and of the console's host harness, read once at startup and served
 * from /panels/assets/<name> with content-hashed URLs (a year of caching, still fresh after an
 * edit). The page scripts are plain browser JavaScript in ./browser/ (type-checked with the DOM
 * library by browser/tsconfig.json); the ZAF SDK is built from the installed package.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { Router } from 'express';
import { z } from 'zod';
import { LedgerlineError } from '../errors/index.ts';
import { buildZafSdkScript, type BrowserScript } from './zaf-sdk-bundle.ts';

const browserDir = fileURLToPath(new URL('./browser/', import.meta.url));
const publicDir = fileURLToPath(new URL('./public/', import.meta.url));

const hashOf = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 12);

function browserScript(name: string): BrowserScript {
  const source = readFileSync(`${browserDir}${name}`, 'utf8');
  return { source, version: hashOf(source) };
}

export interface FrameAssets {
  /** `/panels/assets/<name>?v=<hash>` of a served script. */
  href(name: FrameScriptName): string;
  /** `/public/<name>?v=<hash>` of a stylesheet in public/. */
  stylesheetHref(name: 'frame-panel.css' | 'zendesk-harness.css'): string;
  routes(): Router;
}

const scriptNames = ['zaf-sdk.js', 'frame-panel.js', 'zendesk-harness.js'] as const;
export type FrameScriptName = (typeof scriptNames)[number];
const AssetParams = z.object({ name: z.enum(scriptNames) });

export function loadFrameAssets(): FrameAssets {
  const scripts: Record<FrameScriptName, BrowserScript> = {
    'zaf-sdk.js': buildZafSdkScript(),
    'frame-panel.js': browserScript('frame-panel.js'),
    'zendesk-harness.js': browserScript('zendesk-harness.js'),
  };
  const styles = {
    'frame-panel.css': hashOf(readFileSync(`${publicDir}frame-panel.css`, 'utf8')),
    'zendesk-harness.css': hashOf(readFileSync(`${publicDir}zendesk-harness.css`, 'utf8')),
  };
  return {
    href: (name) => `/panels/assets/${name}?v=${scripts[name].version}`,
    stylesheetHref: (name) => `/public/${name}?v=${styles[name]}`,
    routes() {
      const router = express.Router();
      router.get('/assets/:name', (req, res) => {
        // An unknown name is a 404 like any missing file, not a validation error.
        const parsed = AssetParams.safeParse(req.params);
        if (!parsed.success) throw new LedgerlineError('LL_NOT_FOUND', `No route for ${req.method} ${req.originalUrl.split('?')[0] ?? ''}.`);
        const script = scripts[parsed.data.name];
        res.set('Cache-Control', 'public, max-age=31536000, immutable').type('text/javascript').send(script.source);
      });
      return router;
    },
  };
}
