/**
 * plugin.manifest.json: the marketplace-facing list of plugins — what each is, the scopes it asks
 * for and why, its webhook topics, where its panels appear, who may frame them, and its settings.
 * The schema explains every field; `core/contract/plugin-manifest.schema.json` is generated from it.
 */
import { z } from 'zod';
import { LedgerlineError } from '../errors/index.ts';

const httpsOrigin = z
  .string()
  .regex(/^https:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be an https origin such as https://app.hubspot.com or https://*.zendesk.com')
  .describe('An https origin; a wildcard is allowed only as the leftmost label (https://*.zendesk.com).');

export const ManifestSetting = z
  .strictObject({
    name: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be an UPPER_SNAKE environment variable name').describe('The environment variable that holds it.'),
    description: z.string().min(1).describe('What it is and where to find it.'),
    required: z.boolean().describe('Start-up fails without it. Settings with a sandbox fallback are not required.'),
    secret: z.boolean().describe('Never shown in the console or logs.'),
    default: z.string().optional().describe('Used when the variable is unset.'),
  })
  .describe('A setting the plugin reads from the environment.');

export const ManifestPlugin = z
  .strictObject({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be lower-kebab-case').describe('Stable plugin id; equals the connector id.'),
    displayName: z.string().min(1).describe('Name shown to admins.'),
    description: z.string().min(1).describe('One sentence on what the plugin brings into Ledgerline.'),
    entry: z.string().min(1).describe('Module whose default export is the connector, relative to this manifest.'),
    scopes: z
      .array(z.strictObject({ scope: z.string().min(1).describe('The OAuth scope as the platform names it.'), why: z.string().min(1).describe('Why Ledgerline needs it.') }))
      .describe('OAuth scopes requested at install.'),
    webhookTopics: z
      .array(z.strictObject({ topic: z.string().min(1).describe('The platform topic or subscription type.'), why: z.string().min(1).describe('What it refreshes.') }))
      .describe('Webhook topics subscribed to.'),
    panelLocations: z
      .array(z.strictObject({ host: z.string().min(1).describe("The host's location id (crm.record.tab, ticket_sidebar…)."), description: z.string().min(1).describe('What users see there.') }))
      .describe('Where the account activity summary panel appears in the host.'),
    frameAncestors: z.array(httpsOrigin).describe("Origins allowed to frame Ledgerline's panel pages (CSP frame-ancestors)."),
    settings: z.array(ManifestSetting).describe('Settings the plugin reads from the environment.'),
  })
  .describe('One platform plugin.');
export type ManifestPlugin = z.infer<typeof ManifestPlugin>;

export const PluginManifest = z
  .strictObject({
    $schema: z.string().optional().describe('Path of the JSON Schema of this file, for editors.'),
    manifestVersion: z.literal(1).describe('Format version of this file.'),
    plugins: z.array(ManifestPlugin).describe('The platform plugins Ledgerline loads.'),
  })
  .superRefine((manifest, ctx) => {
    const ids = new Set<string>();
    manifest.plugins.forEach((plugin, i) => {
      if (ids.has(plugin.id)) ctx.addIssue({ code: 'custom', path: ['plugins', i, 'id'], message: `duplicate plugin id '${plugin.id}'` });
      ids.add(plugin.id);
      const names = new Set<string>();
      plugin.settings.forEach((setting, j) => {
        if (names.has(setting.name)) ctx.addIssue({ code: 'custom', path: ['plugins', i, 'settings', j, 'name'], message: `duplicate setting '${setting.name}'` });
        names.add(setting.name);
      });
    });
  })
  .describe('Ledgerline plugin manifest');
export type PluginManifest = z.infer<typeof PluginManifest>;

/** `plugins[1].settings[0].name` */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '');
}

/** Validates a parsed manifest; the error names the file and the field. */
export function parseManifest(json: unknown, source: string): PluginManifest {
  const parsed = PluginManifest.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issuePath(issue.path);
  throw new LedgerlineError('LL_INVALID_CONFIG', `Invalid plugin manifest ${source}: ${path || '(root)'}: ${issue.message}`, {
    details: { field: path || 'manifest' },
  });
}

/** The JSON Schema committed next to this file, generated from the zod schema. */
export function manifestJsonSchema(): unknown {
  return z.toJSONSchema(PluginManifest, { io: 'input' });
}
