/**
 * Writes the Zendesk app (`ui-extensions/zendesk`: manifest.json, translations/, assets/) for one
 * Ledgerline. ZAF would let a location URL embed `{{setting.x}}`, but signed-URL panels must be
 * absolute https URLs, and domainWhitelist (the hosts Zendesk sends secure settings to) names
 * hosts; writing the public URL into both here keeps them equal and checkable
 * (test/app-package.test.ts), where a setting could be retyped to point anywhere. The result is
 * what `zcli apps:package` takes, or, zipped, Admin Center > Apps and integrations > Zendesk
 * Support apps > Upload private app.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LedgerlineError } from '../../core/errors/index.ts';

export const zendeskAppTemplate = fileURLToPath(new URL('.', import.meta.url));
/** The origin the template's location URLs and domainWhitelist use until written for a Ledgerline. */
export const zendeskAppPlaceholderOrigin = 'https://ledgerline.example.com';
/** What a ZAF app package holds; build.ts, test/ and tsconfig.json stay behind. */
const packageEntries = ['manifest.json', 'translations', 'assets'] as const;

export interface ZendeskAppOptions {
  /** A directory that does not exist yet or is empty. */
  readonly outDir: string;
  /** The origin Ledgerline is served at, e.g. https://ledgerline.acme.com. */
  readonly publicUrl: string;
  /** true for a private app uploaded into one account; false (the template's) for a Marketplace listing. */
  readonly private?: boolean;
}

/** ZAF takes https location URLs, and http only for localhost (zcli apps:server while developing). */
export function zendeskAppOrigin(publicUrl: string): URL {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw new LedgerlineError('LL_INVALID_INPUT', `--public-url: '${publicUrl}' is not a URL`, { details: { field: '--public-url' } });
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && url.hostname === 'localhost')) {
    throw new LedgerlineError('LL_INVALID_INPUT', `--public-url: Zendesk loads app panels over https only (http only for localhost), not ${url.protocol}//${url.host}`, { details: { field: '--public-url' } });
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new LedgerlineError('LL_INVALID_INPUT', `--public-url: give the origin Ledgerline is served at (${url.origin}), without a path`, { details: { field: '--public-url' } });
  }
  return url;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function rewriteManifest(manifest: { [key: string]: Json }, origin: URL, isPrivate: boolean | undefined): { [key: string]: Json } {
  const rewriteUrls = (value: Json): Json => {
    if (typeof value === 'string') return value.startsWith(`${zendeskAppPlaceholderOrigin}/`) ? `${origin.origin}${value.slice(zendeskAppPlaceholderOrigin.length)}` : value;
    if (Array.isArray(value)) return value.map(rewriteUrls);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewriteUrls(v)]));
    return value;
  };
  return {
    ...manifest,
    ...(manifest.location === undefined ? {} : { location: rewriteUrls(manifest.location) }),
    // Whitelist entries are host names: Zendesk matches the request host, so the port stays out.
    domainWhitelist: [origin.hostname],
    ...(isPrivate === undefined ? {} : { private: isPrivate }),
  };
}

/** Writes the app package into `outDir`; returns the files written, relative to it. */
export function writeZendeskApp(options: ZendeskAppOptions): string[] {
  const origin = zendeskAppOrigin(options.publicUrl);
  const { outDir } = options;
  if (existsSync(outDir) && readdirSync(outDir).length > 0) {
    throw new LedgerlineError('LL_CONFLICT', `--out: ${outDir} is not empty; choose a new directory so nothing there is overwritten`, { details: { field: '--out' } });
  }
  mkdirSync(outDir, { recursive: true });
  for (const entry of packageEntries) cpSync(join(zendeskAppTemplate, entry), join(outDir, entry), { recursive: true });
  const manifestPath = join(outDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { [key: string]: Json };
  writeFileSync(manifestPath, `${JSON.stringify(rewriteManifest(manifest, origin, options.private), null, 2)}\n`);
  return filesUnder(outDir)
    .map((f) => relative(outDir, f).split('\\').join('/'))
    .sort();
}
