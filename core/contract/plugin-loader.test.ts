import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isLedgerlineError } from '../errors/index.ts';
import { frameAncestorsFor, loadPlugins } from './plugin-loader.ts';

type Json = Record<string, unknown>;
const fixtures = fileURLToPath(new URL('../../test/fixtures/plugins/', import.meta.url));
const validPath = join(fixtures, 'minimal.manifest.json');
const valid = JSON.parse(readFileSync(validPath, 'utf8')) as Json & { plugins: Json[] };
const env = { MINIMAL_CLIENT_ID: 'client-1' };

// Variants live in a temporary directory; their entries point back at the fixture modules.
const scratch = mkdtempSync(join(tmpdir(), 'll-manifest-'));
const fixtureEntry = (file: string) => relative(scratch, join(fixtures, file)).split('\\').join('/');
let variants = 0;
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes a copy of the valid manifest, changed by `change`, with entries relative to the copy. */
function variant(change: (plugin: Json) => void): string {
  const copy = structuredClone(valid);
  const plugin = copy.plugins[0]!;
  plugin.entry = fixtureEntry(String(plugin.entry));
  copy.$schema = './plugin-manifest.schema.json';
  change(plugin);
  const path = join(scratch, `variant-${variants++}.manifest.json`);
  writeFileSync(path, JSON.stringify(copy));
  return path;
}

async function rejection(path: string, environment: Record<string, string> = env): Promise<{ code: string; message: string; field: string | undefined }> {
  try {
    await loadPlugins(path, environment);
  } catch (error) {
    if (isLedgerlineError(error)) return { code: error.code, message: error.message, field: error.details.field };
    throw error;
  }
  throw new Error('expected loadPlugins to reject');
}

describe('plugin loader', () => {
  it('loads a valid manifest: the connector, only the declared settings, and their states', async () => {
    const [loaded, ...others] = await loadPlugins(validPath, { ...env, UNRELATED_SECRET: 'not for plugins' });
    expect(others).toEqual([]);
    expect(loaded!.connector.id).toBe('minimal');
    expect(loaded!.manifest.displayName).toBe('Minimal');
    expect(loaded!.settings).toEqual({ MINIMAL_BASE_URL: 'https://example.com', MINIMAL_CLIENT_ID: 'client-1' });
    expect(loaded!.settingStates).toEqual([
      { name: 'MINIMAL_BASE_URL', state: 'default', secret: false },
      { name: 'MINIMAL_CLIENT_ID', state: 'set', secret: false },
      { name: 'MINIMAL_CLIENT_SECRET', state: 'missing', secret: true },
    ]);
  });

  it('loads the root manifest: the HubSpot and Zendesk plugins, each connector agreeing with its manifest entry', async () => {
    const plugins = await loadPlugins(fileURLToPath(new URL('../../plugin.manifest.json', import.meta.url)), {});
    expect(plugins.map((p) => [p.connector.id, p.connector.streams.length, p.settingStates.filter((s) => s.state === 'default').length])).toEqual([['hubspot', 9, 3], ['zendesk', 4, 1]]);
  });

  it('gives the union of frame ancestors for the panel CSP, once each and sorted', async () => {
    const [a] = await loadPlugins(validPath, env);
    const b = { ...a!, manifest: { ...a!.manifest, frameAncestors: ['https://admin.example.org', 'https://*.example.com'] } };
    expect(frameAncestorsFor([a!, b])).toEqual(['https://*.example.com', 'https://admin.example.org']);
    expect(frameAncestorsFor([])).toEqual([]);
  });

  it('names the manifest file and field when the manifest itself is invalid', async () => {
    const path = variant((p) => void (p.frameAncestors = ['http://example.com']));
    const error = await rejection(path);
    expect(error.code).toBe('LL_INVALID_CONFIG');
    expect(error.field).toBe('plugins[0].frameAncestors[0]');
    expect(error.message).toBe(`${path}: plugins[0].frameAncestors[0]: must be an https origin such as https://app.example.com, with a wildcard only as https://*.example.com`);
  });

  it('rejects a manifest file that does not exist, and one that is not JSON', async () => {
    const absentPath = join(scratch, 'absent.manifest.json');
    const absent = await rejection(absentPath);
    expect([absent.code, absent.field]).toEqual(['LL_INVALID_CONFIG', 'LEDGERLINE_MANIFEST']);
    expect(absent.message).toBe(`${absentPath}: cannot read the plugin manifest (ENOENT); LEDGERLINE_MANIFEST names its path`);
    const path = join(scratch, 'broken.manifest.json');
    writeFileSync(path, '{ not json');
    const broken = await rejection(path);
    expect(broken.code).toBe('LL_INVALID_CONFIG');
    expect(broken.message).toMatch(new RegExp(`^${path}: \\(root\\): not JSON`));
  });

  it.each([
    ['a missing entry file', (p: Json) => void (p.entry = './nowhere.ts'), 'plugins[0].entry', /plugins\[0\]\.entry: plugin 'minimal': \.\/nowhere\.ts does not exist \(looked for .*nowhere\.ts\)/],
    ['an entry whose default export is not a connector', (p: Json) => void (p.entry = fixtureEntry('not-a-connector.ts')), 'plugins[0].entry', /not-a-connector\.ts is not a connector \(defineConnector\): id: /],
    ['a connector whose stream has no mapper', (p: Json) => void (p.entry = fixtureEntry('stream-without-map.ts')), 'plugins[0].entry', /is not a connector \(defineConnector\): streams\[0\]\.map: expected a function/],
    ['a connector id mismatch', (p: Json) => void (p.id = 'other'), 'plugins[0].id', /plugins\[0\]\.id: plugin 'other': the connector's id is 'minimal'/],
    ['a scope mismatch', (p: Json) => void (p.scopes = [{ scope: 'everything', why: 'greed' }]), 'plugins[0].scopes', /plugins\[0\]\.scopes: plugin 'minimal': does not match the connector's auth\.scopes: the connector has things\.read, which the manifest does not list; the manifest lists everything, which the connector does not have/],
    ['a webhook topic mismatch', (p: Json) => void (p.webhookTopics = []), 'plugins[0].webhookTopics', /webhooks\.topics: the connector has thing\.changed/],
    ['a panel location mismatch', (p: Json) => void (p.panelLocations = [{ host: 'thing.tab', description: 'x' }]), 'plugins[0].panelLocations', /panel\.locations: the connector has thing\.sidebar.*the manifest lists thing\.tab/],
    ['a frame ancestor mismatch', (p: Json) => void (p.frameAncestors = ['https://admin.example.org']), 'plugins[0].frameAncestors', /panel\.frameAncestors: .*the manifest lists https:\/\/admin\.example\.org/],
  ])('rejects %s, naming the plugin and the field', async (_name, change, field, message) => {
    const path = variant(change);
    const error = await rejection(path);
    expect(error.code).toBe('LL_INVALID_CONFIG');
    expect(error.field).toBe(field);
    const prefix = `${path}: ${field}: plugin '`;
    expect(error.message.slice(0, prefix.length)).toBe(prefix);
    expect(error.message).toMatch(message);
  });

  it('refuses to start without a required setting, naming the variable (an empty value counts as unset)', async () => {
    for (const environment of [{}, { MINIMAL_CLIENT_ID: '' }]) {
      const error = await rejection(validPath, environment);
      expect(error.code).toBe('LL_INVALID_CONFIG');
      expect(error.field).toBe('MINIMAL_CLIENT_ID');
      expect(error.message).toBe(`Invalid configuration: MINIMAL_CLIENT_ID (OAuth client id) is required by the Minimal plugin (${validPath}: plugins[0].settings)`);
    }
  });

  it('lets optional settings stay unset (the sandbox fallback) and a set value win over the default', async () => {
    const [loaded] = await loadPlugins(validPath, { ...env, MINIMAL_BASE_URL: 'https://api.example.net' });
    expect(loaded!.settings).toEqual({ MINIMAL_BASE_URL: 'https://api.example.net', MINIMAL_CLIENT_ID: 'client-1' });
    expect(loaded!.settingStates.find((s) => s.name === 'MINIMAL_CLIENT_SECRET')?.state).toBe('missing');
  });
});
