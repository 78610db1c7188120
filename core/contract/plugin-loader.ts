/**
 * Discovers plugins from plugin.manifest.json: validates the manifest, imports each plugin's entry
 * module (core never imports a plugin by name), checks the connector agrees with what the manifest
 * promises admins (id, scopes, webhook topics, panel locations, frame ancestors), and resolves the
 * plugin's settings from the environment. Every failure is LL_INVALID_CONFIG with one line
 * `<manifest>: <field>: plugin '<id>': <problem>` (for a missing setting: the environment variable).
 */
import { access, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { LedgerlineError } from '../errors/index.ts';
import type { ConnectorDefinition, PluginSettings } from './connector.ts';
import { issuePath, parseManifest, type ManifestPlugin } from './manifest.ts';

export type SettingState = 'set' | 'default' | 'missing';

export interface LoadedPlugin {
  readonly manifest: ManifestPlugin;
  readonly connector: ConnectorDefinition;
  /** Only the settings the plugin declares: set, defaulted, or absent when optional and unset. */
  readonly settings: PluginSettings;
  /** Which settings are set, defaulted or missing — never their values. */
  readonly settingStates: readonly { readonly name: string; readonly state: SettingState; readonly secret: boolean }[];
}

type Environment = Readonly<Record<string, string | undefined>>;

function configError(message: string, field: string, cause?: unknown): LedgerlineError {
  return new LedgerlineError('LL_INVALID_CONFIG', message, { details: { field }, cause });
}

// The runtime shape of a connector: what the engine calls, checked once at load (duck typing, so a
// plugin built against another copy of zod still passes).
const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', 'expected a function');
const schemaLike = z.custom<z.ZodType>((v) => typeof v === 'object' && v !== null && typeof (v as { safeParse?: unknown }).safeParse === 'function', 'expected a zod schema');
const ConnectorShape = z.looseObject({
  id: z.string().min(1),
  displayName: z.string().min(1),
  auth: z.looseObject({
    type: z.literal('oauth2'),
    installParams: schemaLike,
    endpoints: fn,
    client: fn,
    scopes: z.array(z.string()),
    parseToken: fn,
    identify: fn,
  }),
  rate: z.looseObject({ name: z.string(), buckets: z.array(z.looseObject({ name: z.string() })), readsBody: z.boolean(), observe: fn }),
  streams: z.array(
    z.looseObject({
      name: z.string().min(1),
      objectType: z.string().min(1),
      raw: schemaLike,
      cursor: z.looseObject({ schema: schemaLike, initial: fn, describe: fn }),
      identify: fn,
      read: fn,
      map: fn,
      deletes: z.looseObject({ via: z.enum(['archived', 'deleted-feed', 'tombstone-webhook', 'none']) }),
    }),
  ),
  webhooks: z.looseObject({ topics: z.array(z.string()), verify: fn, parse: fn }).nullable(),
  panel: z.looseObject({ locations: z.array(z.looseObject({ host: z.string() })), frameAncestors: z.array(z.string()), verify: fn }).nullable(),
  classifyError: fn,
  sandbox: fn.nullable(),
});

/** Where a plugin sits in the manifest, for messages: `<manifest>: plugins[i].<field>: plugin '<id>': …`. */
interface PluginSite {
  readonly manifestPath: string;
  readonly at: string;
  readonly plugin: ManifestPlugin;
}

function pluginError(site: PluginSite, field: string, problem: string, cause?: unknown): LedgerlineError {
  return configError(`${site.manifestPath}: ${site.at}.${field}: plugin '${site.plugin.id}': ${problem}`, `${site.at}.${field}`, cause);
}

function assertConnector(value: unknown, site: PluginSite): asserts value is ConnectorDefinition {
  const parsed = ConnectorShape.safeParse(value);
  const issue = parsed.error?.issues[0];
  if (issue) {
    const part = issuePath(issue.path) || 'default export';
    throw pluginError(site, 'entry', `the default export of ${site.plugin.entry} is not a connector (defineConnector): ${part}: ${issue.message}`);
  }
  const names = parsed.data?.streams.map((s) => s.name) ?? [];
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) throw pluginError(site, 'entry', `the connector declares stream '${twice}' twice`);
}

/** `connector has x, y that the manifest does not list; manifest lists z that the connector does not use` */
function difference(manifest: readonly string[], connector: readonly string[]): string | null {
  const extra = connector.filter((x) => !manifest.includes(x));
  const absent = manifest.filter((x) => !connector.includes(x));
  const parts = [
    ...(extra.length ? [`the connector has ${extra.join(', ')}, which the manifest does not list`] : []),
    ...(absent.length ? [`the manifest lists ${absent.join(', ')}, which the connector does not have`] : []),
  ];
  return parts.length ? parts.join('; ') : null;
}

function checkAgreement(connector: ConnectorDefinition, site: PluginSite): void {
  const { plugin } = site;
  if (connector.id !== plugin.id) throw pluginError(site, 'id', `the connector's id is '${connector.id}'`);
  const pairs: [field: string, manifest: readonly string[], connector: readonly string[], connectorPart: string][] = [
    ['scopes', plugin.scopes.map((s) => s.scope), connector.auth.scopes, 'auth.scopes'],
    ['webhookTopics', plugin.webhookTopics.map((t) => t.topic), connector.webhooks?.topics ?? [], 'webhooks.topics'],
    ['panelLocations', plugin.panelLocations.map((l) => l.host), connector.panel?.locations.map((l) => l.host) ?? [], 'panel.locations'],
    ['frameAncestors', plugin.frameAncestors, connector.panel?.frameAncestors ?? [], 'panel.frameAncestors'],
  ];
  for (const [field, fromManifest, fromConnector, connectorPart] of pairs) {
    const diff = difference(fromManifest, fromConnector);
    if (diff) throw pluginError(site, field, `does not match the connector's ${connectorPart}: ${diff}`);
  }
}

/**
 * The settings rule: a set (non-empty) variable wins, then the manifest default; an unset setting
 * declared `required: true` stops start-up; one declared `required: false` stays absent, which is how
 * a plugin falls back to its sandbox emulator (or goes without an optional feature).
 */
function resolveSettings(env: Environment, site: PluginSite) {
  const { plugin } = site;
  const settings: Record<string, string> = {};
  const states: { name: string; state: SettingState; secret: boolean }[] = [];
  for (const setting of plugin.settings) {
    const value = env[setting.name];
    const state: SettingState = value !== undefined && value !== '' ? 'set' : setting.default !== undefined ? 'default' : 'missing';
    if (state === 'set' && value !== undefined) settings[setting.name] = value;
    if (state === 'default' && setting.default !== undefined) settings[setting.name] = setting.default;
    states.push({ name: setting.name, state, secret: setting.secret });
  }
  const missing = plugin.settings.flatMap((s, j) => (s.required && states[j]?.state === 'missing' ? [`${s.name} (${s.description.replace(/\.$/, '')})`] : []));
  const first = plugin.settings.find((s, j) => s.required && states[j]?.state === 'missing');
  if (first) {
    throw configError(
      `Invalid configuration: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required by the ${plugin.displayName} plugin (${site.manifestPath}: ${site.at}.settings)`,
      first.name,
    );
  }
  return { settings, states };
}

async function importEntry(site: PluginSite): Promise<unknown> {
  const { entry } = site.plugin;
  const file = resolve(dirname(site.manifestPath), entry);
  try {
    await access(file);
  } catch (error) {
    throw pluginError(site, 'entry', `${entry} does not exist (looked for ${file})`, error);
  }
  let module: unknown;
  try {
    module = await import(pathToFileURL(file).href);
  } catch (error) {
    throw pluginError(site, 'entry', `importing ${entry} failed: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  return typeof module === 'object' && module !== null && 'default' in module ? module.default : undefined;
}

async function readManifest(manifestPath: string) {
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    // The path comes from LEDGERLINE_MANIFEST (core/config), so that is the setting to fix.
    throw configError(`${manifestPath}: cannot read the plugin manifest (${reason}); LEDGERLINE_MANIFEST names its path`, 'LEDGERLINE_MANIFEST', error);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw configError(`${manifestPath}: (root): not JSON (${(error as Error).message})`, '(root)', error);
  }
  return parseManifest(json, manifestPath);
}

/** Reads and validates the manifest, imports and checks every plugin, and resolves its settings. */
export async function loadPlugins(manifestPath: string, env: Environment): Promise<LoadedPlugin[]> {
  const manifest = await readManifest(manifestPath);
  const loaded: LoadedPlugin[] = [];
  for (const [index, plugin] of manifest.plugins.entries()) {
    const site: PluginSite = { manifestPath, at: `plugins[${index}]`, plugin };
    const connector = await importEntry(site);
    assertConnector(connector, site);
    checkAgreement(connector, site);
    const { settings, states } = resolveSettings(env, site);
    loaded.push({ manifest: plugin, connector, settings, settingStates: states });
  }
  return loaded;
}

/** The union of origins allowed to frame panel pages, sorted, for the panel CSP `frame-ancestors`. */
export function frameAncestorsFor(plugins: readonly LoadedPlugin[]): string[] {
  return [...new Set(plugins.flatMap((p) => p.manifest.frameAncestors))].sort();
}
