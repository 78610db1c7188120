import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isLedgerlineError } from '../errors/index.ts';
import { manifestJsonSchema, manifestJsonSchemaText, parseManifest, type PluginManifest } from './manifest.ts';

// The command core/contract/README.md documents for rewriting the committed JSON Schema.
const regenerateCommand = `npx node -e "import('./core/contract/manifest.ts').then((m) => require('node:fs').writeFileSync('core/contract/plugin-manifest.schema.json', m.manifestJsonSchemaText()))"`;

type Json = Record<string, unknown>;
const fixture = fileURLToPath(new URL('../../test/fixtures/plugins/minimal.manifest.json', import.meta.url));
const valid = JSON.parse(readFileSync(fixture, 'utf8')) as Json & { plugins: Json[] };

/** A copy of the valid fixture, changed by `change`. */
function variant(change: (m: typeof valid, plugin: Json & { settings: Json[] }) => void): unknown {
  const copy = structuredClone(valid);
  change(copy, copy.plugins[0] as Json & { settings: Json[] });
  return copy;
}

function rejection(json: unknown): { code: string; message: string; field: string | undefined } {
  try {
    parseManifest(json, 'test.manifest.json');
  } catch (error) {
    if (isLedgerlineError(error)) return { code: error.code, message: error.message, field: error.details.field };
    throw error;
  }
  throw new Error('expected the manifest to be rejected');
}

describe('plugin manifest schema', () => {
  it('accepts the fixture, an https origin with a port, and a manifest without plugins', () => {
    expect(parseManifest(valid, 'fixture').plugins[0]?.id).toBe('minimal');
    const withPort = variant((_, p) => void (p.frameAncestors = ['https://*.example.com:8443', 'https://admin.example.org']));
    expect(parseManifest(withPort, 'fixture').plugins[0]?.frameAncestors).toHaveLength(2);
    const empty: PluginManifest = { $schema: './core/contract/plugin-manifest.schema.json', manifestVersion: 1, plugins: [] };
    expect(parseManifest(empty, 'root')).toEqual(empty);
  });

  it.each([
    ['an unknown plugin key', (_m: typeof valid, p: Json) => void (p.colour = 'blue'), 'plugins[0].colour', /unknown key/],
    ['an unknown top-level key', (m: typeof valid) => void (m.extra = true), 'extra', /unknown key/],
    ['a missing $schema', (m: typeof valid) => void delete m.$schema, '$schema', /expected string/],
    ['a $schema that is not the relative schema path', (m: typeof valid) => void (m.$schema = 'https://example.com/s.json'), '$schema', /relative path/],
    ['a wrong manifest version', (m: typeof valid) => void (m.manifestVersion = 2), 'manifestVersion', /expected 1/],
    ['a missing description', (_m: typeof valid, p: Json) => void delete p.description, 'plugins[0].description', /expected string/],
    ['a plugin id that is not lower-kebab', (_m: typeof valid, p: Json) => void (p.id = 'Minimal_One'), 'plugins[0].id', /lower-kebab-case/],
    ['a duplicate plugin id', (m: typeof valid) => void m.plugins.push(structuredClone(m.plugins[0]!)), 'plugins[1].id', /duplicate plugin id 'minimal' \(first at plugins\[0\]\.id\)/],
    ['an absolute entry', (_m: typeof valid, p: Json) => void (p.entry = '/opt/plugins/minimal.ts'), 'plugins[0].entry', /relative to the manifest/],
    ['a duplicate scope', (_m: typeof valid, p: Json) => void (p.scopes = [{ scope: 'a', why: 'x' }, { scope: 'a', why: 'y' }]), 'plugins[0].scopes[1].scope', /duplicate scope 'a'/],
    ['a scope without why', (_m: typeof valid, p: Json) => void (p.scopes = [{ scope: 'a' }]), 'plugins[0].scopes[0].why', /expected string/],
    ['an http frame ancestor', (_m: typeof valid, p: Json) => void (p.frameAncestors = ['http://example.com']), 'plugins[0].frameAncestors[0]', /https origin/],
    ['a wildcard that is not the leftmost label', (_m: typeof valid, p: Json) => void (p.frameAncestors = ['https://app.*.example.com']), 'plugins[0].frameAncestors[0]', /wildcard only as/],
    ['a bare wildcard', (_m: typeof valid, p: Json) => void (p.frameAncestors = ['https://*']), 'plugins[0].frameAncestors[0]', /https origin/],
    ['a frame ancestor with a path', (_m: typeof valid, p: Json) => void (p.frameAncestors = ['https://example.com/app']), 'plugins[0].frameAncestors[0]', /https origin/],
    ['a setting name that is not UPPER_SNAKE', (_m: typeof valid, p: { settings: Json[] }) => void (p.settings[0]!.name = 'lower_case'), 'plugins[0].settings[0].name', /UPPER_SNAKE/],
    ['a duplicate setting', (_m: typeof valid, p: { settings: Json[] }) => void p.settings.push(structuredClone(p.settings[1]!)), 'plugins[0].settings[3].name', /duplicate setting 'MINIMAL_CLIENT_ID' \(first at plugins\[0\]\.settings\[1\]\.name\)/],
    ['a setting declared by two plugins', (m: typeof valid) => void m.plugins.push({ ...structuredClone(m.plugins[0]!), id: 'other' }), 'plugins[1].settings[0].name', /duplicate setting 'MINIMAL_BASE_URL' \(first at plugins\[0\]\.settings\[0\]\.name\)/],
    ['a required setting with a default', (_m: typeof valid, p: { settings: Json[] }) => void (p.settings[1]!.default = 'x'), 'plugins[0].settings[1].default', /required setting has no default/],
    ['a setting without secret', (_m: typeof valid, p: { settings: Json[] }) => void delete p.settings[0]!.secret, 'plugins[0].settings[0].secret', /expected boolean/],
  ])('rejects %s with LL_INVALID_CONFIG naming the field', (_name, change, field, message) => {
    const error = rejection(variant(change));
    expect(error.code).toBe('LL_INVALID_CONFIG');
    expect(error.field).toBe(field);
    const prefix = `test.manifest.json: ${field}: `;
    expect(error.message.slice(0, prefix.length)).toBe(prefix);
    expect(error.message).toMatch(message);
  });

  it('keeps the committed JSON Schema equal to the one generated from the zod schema', () => {
    const committed = readFileSync(fileURLToPath(new URL('./plugin-manifest.schema.json', import.meta.url)), 'utf8');
    const regenerate = `plugin-manifest.schema.json is stale; regenerate it with:\n  ${regenerateCommand}\n`;
    if (committed !== manifestJsonSchemaText()) console.error(regenerate);
    expect(committed, regenerate).toBe(manifestJsonSchemaText());
  });

  it('explains every field of the JSON Schema', () => {
    const undescribed: string[] = [];
    const visit = (node: unknown, path: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const schema = node as { description?: unknown; properties?: Record<string, unknown>; items?: unknown };
      if (path !== '' && typeof schema.description !== 'string') undescribed.push(path);
      for (const [key, child] of Object.entries(schema.properties ?? {})) visit(child, `${path}.${key}`);
      if (schema.items !== undefined) visit(schema.items, `${path}[]`);
    };
    visit(manifestJsonSchema(), '');
    expect(undescribed).toEqual([]);
  });
});
