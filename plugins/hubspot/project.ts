/**
 * Writes the HubSpot developer project (`ui-extensions/hubspot`) for one Ledgerline: its public URL
 * replaces the placeholder origin in the OAuth redirect URL, `permittedUrls.fetch`, the webhook
 * target and the cards' fetch base. The result is what `hs project upload` takes.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LedgerlineError } from '../../core/errors/index.ts';

export const projectTemplate = fileURLToPath(new URL('../../ui-extensions/hubspot', import.meta.url));
const placeholderOrigin = 'https://ledgerline.example.com';

/** HubSpot accepts https redirect and fetch URLs, and http only for localhost while developing. */
export function projectOrigin(publicUrl: string): string {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw new LedgerlineError('LL_INVALID_INPUT', `--public-url: '${publicUrl}' is not a URL`, { details: { field: '--public-url' } });
  }
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    throw new LedgerlineError('LL_INVALID_INPUT', `--public-url: HubSpot needs https (http only for localhost), not ${url.protocol}//${url.host}`, { details: { field: '--public-url' } });
  }
  if (url.pathname !== '/' || url.search || url.hash) {
    throw new LedgerlineError('LL_INVALID_INPUT', `--public-url: give the origin Ledgerline is served at (${url.origin}), without a path`, { details: { field: '--public-url' } });
  }
  return url.origin;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Writes the project into `outDir` (which must not exist or be empty); returns the files written. */
export function writeHubspotProject(outDir: string, publicUrl: string): string[] {
  const origin = projectOrigin(publicUrl);
  if (existsSync(outDir) && readdirSync(outDir).length > 0) {
    throw new LedgerlineError('LL_CONFLICT', `--out: ${outDir} is not empty; choose a new directory so nothing there is overwritten`, { details: { field: '--out' } });
  }
  mkdirSync(outDir, { recursive: true });
  cpSync(join(projectTemplate, 'hsproject.json'), join(outDir, 'hsproject.json'));
  cpSync(join(projectTemplate, 'src'), join(outDir, 'src'), { recursive: true });
  const written = filesUnder(outDir);
  for (const file of written) {
    if (!/\.(json|ts|tsx)$/.test(file)) continue;
    const text = readFileSync(file, 'utf8');
    if (text.includes(placeholderOrigin)) writeFileSync(file, text.split(placeholderOrigin).join(origin));
  }
  return written.map((f) => relative(outDir, f)).sort();
}
