import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isLedgerlineError } from '../errors/index.ts';
import { manifestJsonSchema } from './manifest.ts';
import { frameAncestorsFor, loadPlugins } from './plugin-loader.ts';

const fixtures = fileURLToPath(new URL('../../test/fixtures/plugins/', import.meta.url));
const validManifest = JSON.parse(readFileSync(join(fixtures, 'minimal.manifest.json'), 'utf8')) as {
  plugins: Record<string, unknown>[];
  [key: string]: unknown;
};
const env = { MINIMAL_CLIENT_ID: 'client-1' };
const written: string[] = [];

/** Writes a variant of the valid manifest next to the fixtures (entry paths stay valid). */
function variant(change: (manifest: typeof validManifest) => unknown): string {
  const copy = structuredClone(validManifest);
  const result = change(copy) ?? copy;
  const path = join(fixtures, `variant-${written.length}.manifest.json`);
  writeFileSync(path, typeof result === 'string' ? result : JSON.stringify(result));
  written.push(path);
  return path;
}

afterAll(() => {
  for (const path of written) rmSync(path, { force: true });
});

async function configError(path: string, environment: Record<string, string> = env): Promise<{ message: string; field: string | undefined }> {
  try {
    await loadPlugins(path, environment);
  } catch (error) {
    if (isLedgerlineError(error, 'LL_INVALID_CONFIG')) return { message: error.message, field: error.details.field };
    throw error;
  }
  throw new Error('expected LL_INVALID_CONFIG');
}

const plugin0 = (m: typeof validManifest) => m.plugins[0]!;

describe('plugin manifest and loader', () => {
  it('loads a valid manifest: the connector, resolved settings and their states', async () => {
    const [loaded] = await loadPlugins(join(fixtures, 'minimal.manifest.json'), env);
    expect(loaded!.connector.id).toBe('minimal');
    expect(loaded!.settings).toEqual({ MINIMAL_BASE_URL: 'https://example.com', MINIMAL_CLIENT_ID: 'client-1' });
    expect(loaded!.settingStates).toEqual([
      { name: 'MINIMAL_BASE_URL', state: 'default', secret: false },
      { name: 'MINIMAL_CLIENT_ID', state: 'set', secret: false },
      { name: 'MINIMAL_CLIENT_SECRET', state: 'missing', secret: true },
    ]);
    expect(frameAncestorsFor([loaded!, loaded!])).toEqual(['https://*.example.com']);
  });

  it('loads the root manifest', async () => {
    expect(await loadPlugins(fileURLToPath(new URL('../../plugin.manifest.json', import.meta.url)), {})).toEqual([]);
  });

  it.each([
    ['an unknown key', (m: typeof validManifest) => void (plugin0(m).colour = 'blue'), 'plugins[0]', /Unrecognized key/],
    ['a duplicate plugin id', (m: typeof validManifest) => void m.plugins.push(structuredClone(plugin0(m))), 'plugins[1].id', /duplicate plugin id 'minimal'/],
    ['a bad setting name', (m: typeof validManifest) => void ((plugin0(m).settings as { name: string }[])[0]!.name = 'lower_case'), 'plugins[0].settings[0].name', /UPPER_SNAKE/],
    ['a duplicate setting', (m: typeof validManifest) => void (plugin0(m).settings as unknown[]).push((plugin0(m).settings as unknown[])[1]), 'plugins[0].settings[3].name', /duplicate setting/],
    ['an http frame ancestor', (m: typeof validManifest) => void (plugin0(m).frameAncestors = ['http://example.com']), 'plugins[0].frameAncestors[0]', /https origin/],
    ['a wrong manifest version', (m: typeof validManifest) => void (m.manifestVersion = 2), 'manifestVersion', /expected 1/],
  ])('rejects %s, naming the field', async (_name, change, field, message) => {
    const error = await configError(variant(change));
    expect(error.field).toBe(field);
    expect(error.message).toContain(`: ${field}: `);
    expect(error.message).toMatch(message);
  });

  it('rejects a file that is not JSON and a manifest that does not exist', async () => {
    expect((await configError(variant(() => '{ not json'))).message).toMatch(/not JSON/);
    expect((await configError(join(fixtures, 'absent.manifest.json'))).field).toBe('LEDGERLINE_MANIFEST');
  });

  it.each([
    ['a missing entry file', (m: typeof validManifest) => void (plugin0(m).entry = './nowhere.ts'), 'entry', /cannot load entry/],
    ['an entry that is not a connector', (m: typeof validManifest) => void (plugin0(m).entry = './not-a-connector.ts'), 'entry', /does not export a connector/],
    ['a connector id mismatch', (m: typeof validManifest) => void (plugin0(m).id = 'other'), 'id', /connector's id is 'minimal'/],
    ['a scope mismatch', (m: typeof validManifest) => void (plugin0(m).scopes = [{ scope: 'everything', why: 'greed' }]), 'scopes', /scopes in the manifest \(everything\) differ/],
    ['a webhook topic mismatch', (m: typeof validManifest) => void (plugin0(m).webhookTopics = []), 'webhookTopics', /differ/],
    ['a panel location mismatch', (m: typeof validManifest) => void (plugin0(m).panelLocations = []), 'panelLocations', /differ/],
    ['a frame ancestor mismatch', (m: typeof validManifest) => void (plugin0(m).frameAncestors = ['https://admin.example.org']), 'frameAncestors', /differ/],
  ])('rejects %s between manifest and connector', async (_name, change, field, message) => {
    const error = await configError(variant(change));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('refuses to start without a required setting, naming the variable', async () => {
    const error = await configError(join(fixtures, 'minimal.manifest.json'), {});
    expect(error.field).toBe('MINIMAL_CLIENT_ID');
    expect(error.message).toMatch(/^Invalid configuration: MINIMAL_CLIENT_ID is required by the Minimal plugin/);
  });

  it('keeps the committed JSON Schema equal to the zod schema', () => {
    const committed = JSON.parse(readFileSync(new URL('./plugin-manifest.schema.json', import.meta.url), 'utf8')) as unknown;
    // Regenerate with: node -e "import('./core/contract/manifest.ts').then(m => …manifestJsonSchema()…)" (see core/contract/README.md)
    expect(committed).toEqual(manifestJsonSchema());
  });
});

