/**
 * The HubSpot developer project as it would be uploaded: its configuration agrees with Ledgerline's
 * plugin manifest (scopes, webhook topics, where it fetches and redirects), and each card entry
 * point bundles for HubSpot's extension worker, which has no Node built-ins.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Rollup } from 'vite';
import { describe, expect, it } from 'vitest';
import { writeHubspotProject } from '../../../plugins/hubspot/project.ts';

const project = fileURLToPath(new URL('..', import.meta.url));
const json = <T>(path: string): T => JSON.parse(readFileSync(`${project}/${path}`, 'utf8')) as T;

interface AppMeta {
  uid: string;
  type: string;
  config: { distribution: string; auth: { type: string; redirectUrls: string[]; requiredScopes: string[] }; permittedUrls: { fetch: string[] } };
}
interface CardMeta {
  uid: string;
  type: string;
  config: { location: string; entrypoint: string; objectTypes: string[] };
}
interface WebhooksMeta {
  config: { settings: { targetUrl: string }; subscriptions: { crmObjects: { subscriptionType: string; objectType: string }[]; legacyCrmObjects: { subscriptionType: string; propertyName?: string }[] } };
}
interface Manifest {
  plugins: { id: string; scopes: { scope: string }[]; webhookTopics: { topic: string }[]; panelLocations: { host: string }[] }[];
}

const manifest = JSON.parse(readFileSync(fileURLToPath(new URL('../../../plugin.manifest.json', import.meta.url)), 'utf8')) as Manifest;
const hubspot = manifest.plugins.find((p) => p.id === 'hubspot')!;
const app = json<AppMeta>('src/app/app-hsmeta.json');
const cards = readdirSync(`${project}/src/app/cards`)
  .filter((f) => f.endsWith('-hsmeta.json'))
  .map((f) => json<CardMeta>(`src/app/cards/${f}`));
const webhooks = json<WebhooksMeta>('src/app/webhooks/webhooks-hsmeta.json');

describe('HubSpot developer project', () => {
  it('is a 2025.2 project whose marketplace app asks for exactly the scopes the plugin declares', () => {
    expect(json<{ platformVersion: string; srcDir: string }>('hsproject.json')).toMatchObject({ platformVersion: '2025.2', srcDir: 'src' });
    expect(app).toMatchObject({ type: 'app', config: { distribution: 'marketplace', auth: { type: 'oauth' } } });
    expect([...app.config.auth.requiredScopes].sort()).toEqual(hubspot.scopes.map((s) => s.scope).sort());
  });

  it('redirects, fetches and delivers webhooks to one Ledgerline, at the paths it serves', () => {
    const [redirect] = app.config.auth.redirectUrls;
    const origin = new URL(redirect!).origin;
    expect(app.config.auth.redirectUrls).toEqual([`${origin}/oauth/hubspot/callback`]);
    expect(app.config.permittedUrls.fetch).toEqual([origin]);
    expect(webhooks.config.settings.targetUrl).toBe(`${origin}/webhooks/hubspot`);
    const source = readFileSync(`${project}/src/app/cards/ledgerline-url.ts`, 'utf8');
    expect(source).toContain(`'${origin}'`);
  });

  it('subscribes to every webhook topic the plugin declares, and to nothing else', () => {
    const subscribed = new Set([...webhooks.config.subscriptions.crmObjects.map((s) => s.subscriptionType), ...webhooks.config.subscriptions.legacyCrmObjects.map((s) => s.subscriptionType)]);
    expect([...subscribed].sort()).toEqual(hubspot.webhookTopics.map((t) => t.topic).sort());
    // A classic property-change subscription names its property.
    for (const s of webhooks.config.subscriptions.legacyCrmObjects.filter((s) => s.subscriptionType.endsWith('.propertyChange'))) expect(s.propertyName).toMatch(/^[a-z_0-9]+$/);
  });

  it('places a card in each panel location the plugin declares, on contacts, companies and deals', () => {
    expect(cards.map((c) => c.config.location).sort()).toEqual(hubspot.panelLocations.map((l) => l.host).sort());
    for (const card of cards) {
      expect(card.type).toBe('card');
      expect(card.config.objectTypes).toEqual(['contacts', 'companies', 'deals']);
      expect(readFileSync(`${project}/src${card.config.entrypoint}`, 'utf8')).toContain('hubspot.extend<');
    }
  });

  it('bundles each card entry point for the extension worker without Node built-ins', async () => {
    for (const card of cards) {
      const result = (await build({
        configFile: false,
        logLevel: 'silent',
        root: project,
        build: { write: false, minify: true, rollupOptions: { input: `${project}/src${card.config.entrypoint}` }, lib: { entry: `${project}/src${card.config.entrypoint}`, formats: ['es'], fileName: 'card' } },
      })) as Rollup.RollupOutput | Rollup.RollupOutput[];
      const outputs = (Array.isArray(result) ? result : [result]).flatMap((r) => r.output);
      const code = outputs.filter((o): o is Rollup.OutputChunk => o.type === 'chunk').map((c) => c.code).join('\n');
      expect(code.length).toBeGreaterThan(1000);
      expect(code).not.toMatch(/from\s*["']node:|require\(["']node:/);
      expect(code).toContain('/panels/hubspot/summary');
    }
  });
});

describe('ledgerline hubspot-project', () => {
  it("writes the project for one Ledgerline's public URL: redirect, fetch, webhooks and the cards' base all point there", () => {
    const out = join(mkdtempSync(join(tmpdir(), 'll-hsproject-')), 'project');
    const files = writeHubspotProject(out, 'https://ll.acme.example');
    expect(files).toContain('hsproject.json');
    expect(files).toContain('src/app/cards/SummaryTab.tsx');
    const written = <T>(path: string): T => JSON.parse(readFileSync(join(out, path), 'utf8')) as T;
    const meta = written<AppMeta>('src/app/app-hsmeta.json');
    expect(meta.config.auth.redirectUrls).toEqual(['https://ll.acme.example/oauth/hubspot/callback']);
    expect(meta.config.permittedUrls.fetch).toEqual(['https://ll.acme.example']);
    expect(written<WebhooksMeta>('src/app/webhooks/webhooks-hsmeta.json').config.settings.targetUrl).toBe('https://ll.acme.example/webhooks/hubspot');
    expect(readFileSync(join(out, 'src/app/cards/ledgerline-url.ts'), 'utf8')).toContain("LEDGERLINE_URL = 'https://ll.acme.example'");
    // Nothing of the placeholder is left behind.
    expect(files.map((f) => readFileSync(join(out, f), 'utf8')).join('\n')).not.toContain('ledgerline.example.com');
  });

  it('refuses a URL HubSpot would refuse, and a directory that already holds files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'll-hsproject-'));
    expect(() => writeHubspotProject(join(dir, 'a'), 'http://ll.acme.example')).toThrow(/needs https/);
    expect(() => writeHubspotProject(join(dir, 'a'), 'https://ll.acme.example/ledgerline')).toThrow(/without a path/);
    expect(() => writeHubspotProject(join(dir, 'a'), 'not a url')).toThrow(/is not a URL/);
    expect(writeHubspotProject(join(dir, 'b'), 'http://localhost:3000')).toContain('hsproject.json');
    writeFileSync(join(dir, 'c-keep.txt'), 'mine');
    expect(() => writeHubspotProject(dir, 'https://ll.acme.example')).toThrow(/is not empty/);
    expect(readFileSync(join(dir, 'c-keep.txt'), 'utf8')).toBe('mine');
  });
});
