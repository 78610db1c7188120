/**
 * The checks `zcli apps:validate` runs on Zendesk's servers (which need account credentials),
 * restated so they run here. Sources: the manifest reference
 * (https://developer.zendesk.com/documentation/apps/app-developer-guide/manifest/), brand assets
 * (https://developer.zendesk.com/documentation/marketplace/building-a-marketplace-app/create-app-brand-assets/),
 * and Zendesk's validator itself, the zendesk_apps_support gem (lib/zendesk_apps_support/
 * validations/manifest.rb, translations.rb, secure_settings.rb; manifest/parameter.rb;
 * location.rb; app_version.rb). Where the gem only warns (insecure token-like settings, secure
 * settings without scopes, defaults on secure settings) this refuses, and a few rules are
 * Ledgerline's own (marked so). Returns every problem found, one line each.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { inflateSync } from 'node:zlib';

/** Manifest keys Zendesk reads (Manifest::RUBY_TO_JSON); anything else is a typo or invented. */
export const manifestKeys = new Set([
  'requirementsOnly', 'marketingOnly', 'version', 'author', 'name', 'experiments', 'frameworkVersion', 'singleInstall', 'signedUrls',
  'noTemplate', 'defaultLocale', 'location', 'private', 'oauth', 'parameters', 'domainWhitelist', 'remoteInstallationURL', 'termsConditionsURL', 'gaID',
]);
/** Location.rb, product Support, without custom_object_record_sidebar (behind a Zendesk-side flag). */
export const supportLocations = new Set(['top_bar', 'nav_bar', 'ticket_sidebar', 'new_ticket_sidebar', 'user_sidebar', 'organization_sidebar', 'background', 'modal', 'ticket_editor', 'system_top_bar']);
const products = new Set(['support', 'chat', 'standalone_chat', 'sell']);
/** AppVersion::TO_BE_SERVED. */
const frameworkVersions = new Set(['2.0']);
/** Parameter::TYPES without mtls (behind a flag); `password` was removed in favour of secure settings. */
export const parameterTypes = new Set(['text', 'checkbox', 'url', 'number', 'multiline', 'hidden', 'oauth']);
const secureScopes = new Set(['header', 'body', 'url', 'jwt_secret_key', 'jwt_claim', 'basic_auth_username', 'basic_auth_password']);
const validLocale = /^[a-z]{2,3}(-\w{2,3})?$/;
/** Brand assets: large icon 320×320, small icon 128×128 (PNG-24 with transparency). */
export const logoSizes = { 'assets/logo.png': 320, 'assets/logo-small.png': 128 } as const;
const marketplaceStrings = ['name', 'short_description', 'long_description', 'installation_instructions'];
const unsupportedExtensions = /\.(rar|zip|gz|pdf|docx?|avi|bin|bz2?|csh|sh|jar|mp3|mpeg|odt|pptx?|xlsx?|7z)$/i;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function filesUnder(dir: string, root = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path, root) : [relative(root, path).split('\\').join('/')];
  });
}

export interface PngInfo {
  readonly width: number;
  readonly height: number;
  readonly bitDepth: number;
  readonly colorType: number;
}

/** Reads a PNG whole: signature, IHDR first, every CRC, IEND last, and IDAT inflating to the size IHDR promises. */
export function readPng(bytes: Buffer): PngInfo | string {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (bytes.length < 8 || !bytes.subarray(0, 8).equals(signature)) return 'not a PNG (signature)';
  const chunks: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < bytes.length; ) {
    if (at + 12 > bytes.length) return 'truncated chunk';
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (at + 12 + length > bytes.length) return `truncated ${type} chunk`;
    const data = bytes.subarray(at + 8, at + 8 + length);
    const crc = bytes.readUInt32BE(at + 8 + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== crc) return `bad CRC in ${type}`;
    chunks.push({ type, data });
    at += 12 + length;
  }
  const ihdr = chunks[0];
  if (ihdr?.type !== 'IHDR' || ihdr.data.length !== 13) return 'IHDR is not the first chunk';
  if (chunks.at(-1)?.type !== 'IEND') return 'IEND is not the last chunk';
  const info = { width: ihdr.data.readUInt32BE(0), height: ihdr.data.readUInt32BE(4), bitDepth: ihdr.data[8]!, colorType: ihdr.data[9]! };
  const channels: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };
  const perPixel = channels[info.colorType];
  if (perPixel === undefined || info.bitDepth !== 8 || ihdr.data[12] !== 0) return `unsupported colour type ${info.colorType} / depth ${info.bitDepth} / interlace`;
  let pixels: Buffer;
  try {
    pixels = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  } catch {
    return 'IDAT does not inflate';
  }
  if (pixels.length !== info.height * (1 + info.width * perPixel)) return 'IDAT holds another number of pixels than IHDR says';
  return info;
}

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function keysOf(value: unknown, prefix = ''): string[] {
  if (!isObj(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keysOf(v, prefix ? `${prefix}.${k}` : k));
}

function manifestProblems(m: Obj, dir: string): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(m)) if (!manifestKeys.has(key)) problems.push(`manifest: unknown key '${key}'`);
  const author = m.author;
  if (!isObj(author) || typeof author.name !== 'string' || typeof author.email !== 'string') problems.push('manifest: author needs name and email');
  else if (!isHttpUrl(author.url)) problems.push('manifest: author.url must be a valid URL');
  if (typeof m.name !== 'string' || m.name === '') problems.push('manifest: name is missing');
  if (typeof m.version !== 'string') problems.push('manifest: version must be a string');
  if (typeof m.frameworkVersion !== 'string' || !frameworkVersions.has(m.frameworkVersion)) problems.push(`manifest: frameworkVersion must be one of ${[...frameworkVersions].join(', ')}`);
  for (const key of ['requirementsOnly', 'marketingOnly', 'singleInstall', 'signedUrls', 'private']) {
    if (key in m && typeof m[key] !== 'boolean') problems.push(`manifest: ${key} must be a boolean`);
  }
  if (typeof m.defaultLocale !== 'string' || !validLocale.test(m.defaultLocale)) problems.push('manifest: defaultLocale is missing or not a locale');
  else if (!existsSync(join(dir, 'translations', `${m.defaultLocale}.json`))) problems.push(`manifest: no translations/${m.defaultLocale}.json for defaultLocale`);
  const whitelist = m.domainWhitelist;
  const hosts = Array.isArray(whitelist) && whitelist.every((d) => typeof d === 'string') ? new Set(whitelist) : undefined;
  if (whitelist !== undefined && !hosts) problems.push('manifest: domainWhitelist must be an array of strings');
  problems.push(...locationProblems(m, dir, hosts ?? new Set()));
  problems.push(...parameterProblems(m.parameters));
  return problems;
}

function locationProblems(m: Obj, dir: string, hosts: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  if (!isObj(m.location) || Object.keys(m.location).length === 0) return ['manifest: location is missing'];
  for (const [product, locations] of Object.entries(m.location)) {
    if (!products.has(product)) {
      problems.push(`manifest: unknown product '${product}' in location`);
      continue;
    }
    if (!isObj(locations)) {
      problems.push(`manifest: location.${product} must be an object`);
      continue;
    }
    for (const [name, options] of Object.entries(locations)) {
      if (product === 'support' && !supportLocations.has(name)) problems.push(`manifest: '${name}' is not a Support location`);
      const url = isObj(options) ? options.url : options;
      if (isObj(options) && 'flexible' in options && typeof options.flexible !== 'boolean') problems.push(`manifest: ${name}.flexible must be a boolean`);
      if (typeof url !== 'string' || url === '') {
        problems.push(`manifest: ${name} has no url (framework 2 locations are URLs)`);
        continue;
      }
      let absolute: URL | undefined;
      try {
        absolute = new URL(url);
      } catch {
        absolute = undefined;
      }
      if (!absolute) {
        if (!url.startsWith('assets/') || !existsSync(join(dir, url))) problems.push(`manifest: ${name} url '${url}' is neither https nor an asset in the package`);
        if (m.signedUrls === true) problems.push(`manifest: ${name} url must be absolute: Zendesk posts the signed token to a server, not to a packaged asset`);
        continue;
      }
      if (absolute.protocol !== 'https:' && absolute.hostname !== 'localhost') problems.push(`manifest: ${name} url '${url}' does not use https`);
      if (!hosts.has(absolute.hostname)) problems.push(`manifest: ${name} url host '${absolute.hostname}' is not in domainWhitelist`);
      // Ledgerline's own: each location loads the panel page Ledgerline serves for it.
      if (absolute.pathname !== `/panels/zendesk/${name}` || absolute.search || absolute.hash) problems.push(`manifest: ${name} url must be <origin>/panels/zendesk/${name}`);
    }
  }
  return problems;
}

function parameterProblems(parameters: unknown): string[] {
  if (parameters === undefined) return [];
  if (!Array.isArray(parameters)) return ['manifest: parameters must be an array'];
  const problems: string[] = [];
  const names = new Set<string>();
  let oauth = 0;
  for (const p of parameters) {
    if (!isObj(p) || typeof p.name !== 'string' || p.name === '') {
      problems.push('manifest: every parameter needs a name');
      continue;
    }
    const { name } = p;
    const type = p.type ?? 'text';
    const secure = p.secure ?? false;
    const required = p.required ?? false;
    if (names.has(name)) problems.push(`manifest: parameter '${name}' is defined twice`);
    names.add(name);
    if (name === 'name') problems.push("manifest: a parameter may not be called 'name'");
    if (typeof type !== 'string' || !parameterTypes.has(type)) problems.push(`manifest: parameter '${name}' has type ${JSON.stringify(type)}, not one of ${[...parameterTypes].join(', ')}`);
    if (typeof secure !== 'boolean') problems.push(`manifest: parameter '${name}'.secure must be a boolean`);
    if (typeof required !== 'boolean') problems.push(`manifest: parameter '${name}'.required must be a boolean`);
    if (type === 'hidden' && required === true) problems.push(`manifest: hidden parameter '${name}' cannot be required`);
    if (type === 'oauth') {
      oauth += 1;
      if (secure === true) problems.push(`manifest: oauth parameter '${name}' cannot be secure`);
    }
    if (/token|key|pwd|password/i.test(name) && type === 'text' && secure !== true) problems.push(`manifest: parameter '${name}' looks like a credential and must be secure`);
    if ((secure === true || type === 'hidden') && 'default' in p) problems.push(`manifest: secure or hidden parameter '${name}' must not have a default (defaults are not stored securely)`);
    if (p.scopes !== undefined) {
      if (secure !== true) problems.push(`manifest: parameter '${name}'.scopes needs a secure parameter`);
      if (!Array.isArray(p.scopes) || p.scopes.length === 0) problems.push(`manifest: parameter '${name}'.scopes must be a non-empty array`);
      else for (const s of p.scopes) if (typeof s !== 'string' || !secureScopes.has(s)) problems.push(`manifest: parameter '${name}' has unknown scope ${JSON.stringify(s)}`);
    } else if (secure === true) {
      problems.push(`manifest: secure parameter '${name}' declares no scopes (its value could then be sent anywhere it is interpolated)`);
    }
  }
  if (oauth > 1) problems.push('manifest: at most one oauth parameter');
  return problems;
}

function translationProblems(m: Obj, dir: string): string[] {
  const problems: string[] = [];
  const translationsDir = join(dir, 'translations');
  if (!existsSync(translationsDir)) return ['translations: folder is missing'];
  const files = readdirSync(translationsDir).filter((f) => f.endsWith('.json'));
  const en = readJson(join(translationsDir, 'en.json'));
  const enKeys = new Set(keysOf(en));
  const parameterNames = Array.isArray(m.parameters) ? m.parameters.filter(isObj).map((p) => String(p.name)) : [];
  for (const file of files) {
    const locale = file.slice(0, -'.json'.length);
    if (!validLocale.test(locale)) problems.push(`translations/${file}: '${locale}' is not a locale`);
    const json = readJson(join(translationsDir, file));
    if (!isObj(json)) {
      problems.push(`translations/${file}: not a JSON object`);
      continue;
    }
    const app = isObj(json.app) ? json.app : {};
    // Marketplace listings need all four strings; a private app only its name.
    const needed = m.private === false ? marketplaceStrings : ['name'];
    for (const key of needed) if (typeof app[key] !== 'string' || app[key] === '') problems.push(`translations/${file}: app.${key} is missing`);
    const params = isObj(app.parameters) ? app.parameters : {};
    for (const [param, leaf] of Object.entries(params)) {
      if (!isObj(leaf) || typeof leaf.label !== 'string') problems.push(`translations/${file}: app.parameters.${param} has no label`);
      if (!parameterNames.includes(param)) problems.push(`translations/${file}: app.parameters.${param} is not a manifest parameter`);
    }
    for (const name of parameterNames) if (!isObj(params[name])) problems.push(`translations/${file}: manifest parameter '${name}' has no label`);
    // Ledgerline's own: every language says everything English says, and nothing else.
    const keys = new Set(keysOf(json));
    for (const k of enKeys) if (!keys.has(k)) problems.push(`translations/${file}: lacks ${k}`);
    for (const k of keys) if (!enKeys.has(k)) problems.push(`translations/${file}: has ${k}, which en.json does not`);
  }
  return problems;
}

function assetProblems(dir: string): string[] {
  const problems: string[] = [];
  for (const [path, size] of Object.entries(logoSizes)) {
    if (!existsSync(join(dir, path))) {
      problems.push(`${path}: missing`);
      continue;
    }
    const png = readPng(readFileSync(join(dir, path)));
    if (typeof png === 'string') problems.push(`${path}: ${png}`);
    else {
      if (png.width !== size || png.height !== size) problems.push(`${path}: is ${png.width}×${png.height}, must be ${size}×${size}`);
      if (png.colorType !== 6) problems.push(`${path}: must be PNG-24 with transparency (RGBA)`);
    }
  }
  // What the package holds; the template folder's build.ts, test/ and tsconfig.json are not shipped.
  const shipped = ['manifest.json', ...['translations', 'assets'].flatMap((d) => (existsSync(join(dir, d)) ? filesUnder(join(dir, d), dir) : []))];
  for (const file of shipped) {
    if (unsupportedExtensions.test(file)) problems.push(`${file}: file type Zendesk refuses in an app package`);
    if (/-----BEGIN (RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----/.test(readFileSync(join(dir, file), 'latin1'))) problems.push(`${file}: contains a private key`);
  }
  return problems;
}

/** Every rule broken by the app package in `dir` (manifest.json, translations/, assets/). */
export function zafPackageProblems(dir: string): string[] {
  const manifest = readJson(join(dir, 'manifest.json'));
  if (!isObj(manifest)) return ['manifest: manifest.json is missing or not a JSON object'];
  return [...manifestProblems(manifest, dir), ...translationProblems(manifest, dir), ...assetProblems(dir)];
}
