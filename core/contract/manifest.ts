/**
 * plugin.manifest.json: the marketplace-facing list of plugins — what each is, the scopes it asks
 * for and why, its webhook topics, where its panels appear, who may frame them, and its settings.
 * The schema explains every field; `plugin-manifest.schema.json` is generated from it by
 * `manifestJsonSchemaText()` (manifest.test.ts fails while they differ; core/contract/README.md has
 * the one-line command that rewrites it).
 */
import { z } from 'zod';
import { LedgerlineError } from '../errors/index.ts';

const relativePath = z.string().regex(/^\.\.?\//, 'must be a path relative to the manifest, starting with ./ or ../');

/** A CSP source that is exactly an https origin; `*.` only as the leftmost label; an optional port. */
const httpsOrigin = z
  .string()
  .regex(
    /^https:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+(:\d{1,5})?$/,
    'must be an https origin such as https://app.example.com, with a wildcard only as https://*.example.com',
  )
  .describe('An https origin (lower case, no path); a wildcard only as the leftmost label: https://*.zendesk.com.');

export const ManifestScope = z
  .strictObject({
    scope: z.string().min(1).describe('The OAuth scope exactly as the platform names it (crm.objects.contacts.read, read_orders).'),
    why: z.string().min(1).describe('Why Ledgerline needs it, in words an installing admin understands.'),
  })
  .describe('One OAuth scope requested at install.');

export const ManifestWebhookTopic = z
  .strictObject({
    topic: z.string().min(1).describe('The topic or subscription type exactly as the platform names it (app/uninstalled, customers/redact).'),
    why: z.string().min(1).describe('What an event on this topic refreshes.'),
  })
  .describe('One webhook topic the plugin subscribes to.');

export const ManifestPanelLocation = z
  .strictObject({
    host: z
      .string()
      .min(1)
      .describe("The host's own location id: crm.record.tab (HubSpot), ticket_sidebar (Zendesk), admin.customer-details.block.render (Shopify)."),
    description: z.string().min(1).describe('What users see there.'),
  })
  .describe('One place in the host UI where the activity summary panel appears.');

export const ManifestSetting = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, 'must be an UPPER_SNAKE environment variable name such as HUBSPOT_CLIENT_ID')
      .describe('The environment variable that holds the value; the plugin receives only the settings it declares.'),
    description: z.string().min(1).describe('What it is and where an admin finds it.'),
    required: z
      .boolean()
      .describe('true: start-up fails while it is unset. false: it may be unset, and the plugin then uses its sandbox emulator or goes without.'),
    secret: z.boolean().describe('Never shown in the console, the API or logs.'),
    default: z.string().optional().describe('Used when the variable is unset or empty. Only for settings that are not required.'),
  })
  .describe('A setting the plugin reads from the environment.');
export type ManifestSetting = z.infer<typeof ManifestSetting>;

export const ManifestPlugin = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'must be lower-kebab-case such as hubspot or my-crm')
      .describe("Stable plugin id, lower-kebab-case; equals the connector's id."),
    displayName: z.string().min(1).describe('Name shown to admins.'),
    description: z.string().min(1).describe('One sentence on what the plugin brings into Ledgerline.'),
    entry: relativePath.describe('Module whose default export is the connector (defineConnector), relative to this manifest.'),
    scopes: z.array(ManifestScope).describe("OAuth scopes requested at install; must equal the connector's auth.scopes."),
    webhookTopics: z.array(ManifestWebhookTopic).describe("Webhook topics subscribed to; must equal the connector's webhooks.topics."),
    panelLocations: z.array(ManifestPanelLocation).describe("Where the panel appears in the host; must equal the connector's panel.locations."),
    frameAncestors: z
      .array(httpsOrigin)
      .describe("Origins allowed to frame Ledgerline's panel pages (CSP frame-ancestors); must equal the connector's panel.frameAncestors."),
    settings: z.array(ManifestSetting).describe('Settings the plugin reads from the environment.'),
  })
  .describe('One platform plugin.');
export type ManifestPlugin = z.infer<typeof ManifestPlugin>;

type Issue = { path: PropertyKey[]; message: string };

/** Issues for values that appear twice in `items` (by `key`), at the later occurrence. */
function duplicates<T>(items: readonly T[], key: (item: T) => string, path: (item: T, index: number) => PropertyKey[], what: string): Issue[] {
  const seen = new Map<string, PropertyKey[]>();
  const issues: Issue[] = [];
  items.forEach((item, index) => {
    const value = key(item);
    const first = seen.get(value);
    if (first === undefined) seen.set(value, path(item, index));
    else issues.push({ path: path(item, index), message: `duplicate ${what} '${value}' (first at ${issuePath(first)})` });
  });
  return issues;
}

function pluginIssues(plugin: ManifestPlugin, i: number): Issue[] {
  const at = (...rest: PropertyKey[]) => ['plugins', i, ...rest];
  return [
    ...duplicates(plugin.scopes, (s) => s.scope, (_, j) => at('scopes', j, 'scope'), 'scope'),
    ...duplicates(plugin.webhookTopics, (t) => t.topic, (_, j) => at('webhookTopics', j, 'topic'), 'webhook topic'),
    ...duplicates(plugin.panelLocations, (l) => l.host, (_, j) => at('panelLocations', j, 'host'), 'panel location'),
    ...duplicates(plugin.frameAncestors, (o) => o, (_, j) => at('frameAncestors', j), 'frame ancestor'),
    ...plugin.settings.flatMap((s, j) =>
      s.required && s.default !== undefined ? [{ path: at('settings', j, 'default'), message: 'a required setting has no default (declare it required: false)' }] : [],
    ),
  ];
}

export const PluginManifest = z
  .strictObject({
    $schema: z
      .string()
      .regex(/^\.\.?\/([^/]+\/)*plugin-manifest\.schema\.json$/, 'must be the relative path of core/contract/plugin-manifest.schema.json')
      .describe('Relative path of core/contract/plugin-manifest.schema.json, so editors validate and explain this file.'),
    manifestVersion: z.literal(1).describe('Format version of this file.'),
    plugins: z.array(ManifestPlugin).describe('The platform plugins Ledgerline loads, in order.'),
  })
  .superRefine((manifest, ctx) => {
    // Environment variables are one namespace: a setting name is declared once in the whole manifest.
    const settings = manifest.plugins.flatMap((p, i) => p.settings.map((s, j) => ({ name: s.name, path: ['plugins', i, 'settings', j, 'name'] })));
    const issues = [
      ...duplicates(manifest.plugins, (p) => p.id, (_, i) => ['plugins', i, 'id'], 'plugin id'),
      ...manifest.plugins.flatMap(pluginIssues),
      ...duplicates(settings, (s) => s.name, (s) => s.path, 'setting'),
    ];
    for (const issue of issues) ctx.addIssue({ code: 'custom', ...issue });
  })
  .describe('Ledgerline plugin manifest: the plugins Ledgerline loads and what each asks of the platform and the environment.');
export type PluginManifest = z.infer<typeof PluginManifest>;

/** `['plugins', 1, 'settings', 0, 'name']` → `plugins[1].settings[0].name` */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '');
}

/** One issue as `path: message`; an unknown key is named by its own path. */
function describeIssue(issue: z.core.$ZodIssue): { path: string; message: string } {
  if (issue.code === 'unrecognized_keys') {
    const [key, ...more] = issue.keys;
    const path = issuePath([...issue.path, key ?? '']);
    return { path, message: `unknown key${more.length ? ` (also: ${more.join(', ')})` : ''}` };
  }
  return { path: issuePath(issue.path) || '(root)', message: issue.message };
}

/**
 * Validates a parsed manifest. Throws LL_INVALID_CONFIG `<source>: <path>: <message>` for the first
 * bad field, with `details.field` = the path and every issue in `details.issues`.
 */
export function parseManifest(json: unknown, source: string): PluginManifest {
  const parsed = PluginManifest.safeParse(json);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map(describeIssue);
  const first = issues[0] ?? { path: '(root)', message: 'is invalid' };
  throw new LedgerlineError('LL_INVALID_CONFIG', `${source}: ${first.path}: ${first.message}`, {
    details: { field: first.path, issues },
  });
}

/** The JSON Schema of plugin.manifest.json, generated from the zod schema. */
export function manifestJsonSchema(): unknown {
  return z.toJSONSchema(PluginManifest, { io: 'input' });
}

/** The exact text of core/contract/plugin-manifest.schema.json. */
export function manifestJsonSchemaText(): string {
  return `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
}
