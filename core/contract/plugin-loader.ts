/**
 * Discovers plugins from plugin.manifest.json: validates the manifest, imports each plugin's entry
 * module (core never imports a plugin by name), checks the connector agrees with what the manifest
 * promises admins (id, scopes, webhook topics, panel locations, frame ancestors), and resolves the
 * plugin's settings from the environment.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LedgerlineError } from '../errors/index.ts';
import type { ConnectorDefinition, PluginSettings } from './connector.ts';
import { parseManifest, type ManifestPlugin } from './manifest.ts';

export type SettingState = 'set' | 'default' | 'missing';

export interface LoadedPlugin {
  readonly manifest: ManifestPlugin;
  readonly connector: ConnectorDefinition;
  readonly settings: PluginSettings;
  /** Which settings are set, defaulted or missing — never their values. */
  readonly settingStates: readonly { readonly name: string; readonly state: SettingState; readonly secret: boolean }[];
}

function configError(message: string, field: string): LedgerlineError {
  return new LedgerlineError('LL_INVALID_CONFIG', message, { details: { field } });
}

function looksLikeConnector(value: unknown): value is ConnectorDefinition {
  if (!value || typeof value !== 'object') return false;
  const c = value as Partial<Record<keyof ConnectorDefinition, unknown>>;
  return (
    typeof c.id === 'string' &&
    typeof c.auth === 'object' &&
    c.auth !== null &&
    typeof c.rate === 'object' &&
    c.rate !== null &&
    Array.isArray(c.streams) &&
    typeof c.classifyError === 'function'
  );
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}

function checkAgreement(plugin: ManifestPlugin, connector: ConnectorDefinition, where: string): void {
  const mismatch = (field: string, manifest: readonly string[], code: readonly string[]): LedgerlineError =>
    configError(`${where}: ${field} in the manifest (${manifest.join(', ') || 'none'}) differ from the connector's (${code.join(', ') || 'none'})`, field);
  if (connector.id !== plugin.id) throw configError(`${where}: the connector's id is '${connector.id}', the manifest says '${plugin.id}'`, 'id');
  const scopes = plugin.scopes.map((s) => s.scope);
  if (!sameSet(scopes, connector.auth.scopes)) throw mismatch('scopes', scopes, connector.auth.scopes);
  const topics = plugin.webhookTopics.map((t) => t.topic);
  const connectorTopics = connector.webhooks?.topics ?? [];
  if (!sameSet(topics, connectorTopics)) throw mismatch('webhookTopics', topics, connectorTopics);
  const hosts = plugin.panelLocations.map((l) => l.host);
  const connectorHosts = connector.panel?.locations.map((l) => l.host) ?? [];
  if (!sameSet(hosts, connectorHosts)) throw mismatch('panelLocations', hosts, connectorHosts);
  const ancestors = connector.panel?.frameAncestors ?? [];
  if (!sameSet(plugin.frameAncestors, ancestors)) throw mismatch('frameAncestors', plugin.frameAncestors, ancestors);
}

function resolveSettings(plugin: ManifestPlugin, env: Readonly<Record<string, string | undefined>>, where: string) {
  const settings: Record<string, string | undefined> = {};
  const states: { name: string; state: SettingState; secret: boolean }[] = [];
  for (const setting of plugin.settings) {
    const value = env[setting.name];
    if (value !== undefined && value !== '') {
      settings[setting.name] = value;
      states.push({ name: setting.name, state: 'set', secret: setting.secret });
    } else if (setting.default !== undefined) {
      settings[setting.name] = setting.default;
      states.push({ name: setting.name, state: 'default', secret: setting.secret });
    } else if (setting.required) {
      throw configError(`Invalid configuration: ${setting.name} is required by the ${plugin.displayName} plugin (${where}): ${setting.description}`, setting.name);
    } else {
      states.push({ name: setting.name, state: 'missing', secret: setting.secret });
    }
  }
  return { settings, states };
}

export async function loadPlugins(manifestPath: string, env: Readonly<Record<string, string | undefined>>): Promise<LoadedPlugin[]> {
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (error) {
    throw configError(`Invalid configuration: LEDGERLINE_MANIFEST: cannot read ${manifestPath} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 'LEDGERLINE_MANIFEST');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw configError(`Invalid plugin manifest ${manifestPath}: not JSON (${(error as Error).message})`, 'manifest');
  }
  const manifest = parseManifest(json, manifestPath);
  const loaded: LoadedPlugin[] = [];
  for (const [index, plugin] of manifest.plugins.entries()) {
    const where = `${manifestPath} plugins[${index}] (${plugin.id})`;
    const entry = resolve(dirname(manifestPath), plugin.entry);
    let module: { default?: unknown };
    try {
      module = (await import(pathToFileURL(entry).href)) as { default?: unknown };
    } catch (error) {
      throw configError(`${where}: cannot load entry ${plugin.entry}: ${(error as Error).message}`, 'entry');
    }
    if (!looksLikeConnector(module.default)) {
      throw configError(`${where}: ${plugin.entry} does not export a connector (defineConnector) as its default export`, 'entry');
    }
    checkAgreement(plugin, module.default, where);
    const { settings, states } = resolveSettings(plugin, env, where);
    loaded.push({ manifest: plugin, connector: module.default, settings, settingStates: states });
  }
  return loaded;
}

/** The union of origins allowed to frame panel pages, for the panel CSP. */
export function frameAncestorsFor(plugins: readonly LoadedPlugin[]): string[] {
  return [...new Set(plugins.flatMap((p) => p.manifest.frameAncestors))].sort();
}
