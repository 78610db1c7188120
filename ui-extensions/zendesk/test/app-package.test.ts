/**
 * The Zendesk app package as an admin would upload it: it passes the rules Zendesk's validator
 * applies (restated in zaf-package-rules.ts, since `zcli apps:validate` needs account
 * credentials), each of those rules refuses a package that breaks it, and writeZendeskApp points
 * the package at one Ledgerline.
 */
/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- the breakages edit manifest and translation JSON as it is on disk, untyped */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { writeZendeskApp, zendeskAppPlaceholderOrigin } from '../build.ts';
import { readPng, zafPackageProblems } from './zaf-package-rules.ts';

const template = fileURLToPath(new URL('..', import.meta.url));
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
type Json = Record<string, any>;

const readJson = (dir: string, path: string): Json => JSON.parse(readFileSync(join(dir, path), 'utf8')) as Json;
const writeJson = (dir: string, path: string, value: unknown): void => writeFileSync(join(dir, path), JSON.stringify(value, null, 2));
const editJson = (path: string, change: (json: Json) => void) => (dir: string): void => {
  const json = readJson(dir, path);
  change(json);
  writeJson(dir, path, json);
};
const manifest = (change: (m: Json) => void) => editJson('manifest.json', change);
const param = (change: (p: Json, m: Json) => void) => manifest((m) => change(m.parameters[0], m));
const ticketSidebar = (change: (l: Json) => void) => manifest((m) => change(m.location.support.ticket_sidebar));

/** A PNG built independently of the checker (node's zlib CRC), for broken and resized logos. */
function png(width: number, height: number, colorType: 2 | 6, rowsOfPixels = height): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, colorType, 0, 0, 0], 8);
  const raw = Buffer.alloc(rowsOfPixels * (1 + width * (colorType === 6 ? 4 : 3)), 0x40);
  for (let y = 0; y < rowsOfPixels; y++) raw[y * (1 + width * (colorType === 6 ? 4 : 3))] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** A copy of just what the package ships, to break one rule at a time. */
function packageCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'll-zendesk-app-'));
  for (const entry of ['manifest.json', 'translations', 'assets']) cpSync(join(template, entry), join(dir, entry), { recursive: true });
  return dir;
}

describe('Zendesk app package', () => {
  it('passes every rule of the ZAF validator and of Ledgerline', () => {
    expect(zafPackageProblems(template)).toEqual([]);
  });

  it('is a framework 2.0 Marketplace app whose three sidebars load Ledgerline panels with signed URLs', () => {
    const m = readJson(template, 'manifest.json');
    expect(m).toMatchObject({ frameworkVersion: '2.0', signedUrls: true, private: false, defaultLocale: 'en', domainWhitelist: ['ledgerline.example.com'] });
    expect(Object.keys(m.location)).toEqual(['support']);
    expect(Object.entries(m.location.support as Json).map(([name, l]) => [name, (l as Json).url])).toEqual([
      ['ticket_sidebar', `${zendeskAppPlaceholderOrigin}/panels/zendesk/ticket_sidebar`],
      ['user_sidebar', `${zendeskAppPlaceholderOrigin}/panels/zendesk/user_sidebar`],
      ['organization_sidebar', `${zendeskAppPlaceholderOrigin}/panels/zendesk/organization_sidebar`],
    ]);
    expect(m.parameters).toEqual([{ name: 'ledgerline_install_token', type: 'text', required: true, secure: true, scopes: ['header'] }]);
  });

  it('ships logos of the documented sizes as RGBA PNGs', () => {
    expect(readPng(readFileSync(join(template, 'assets/logo.png')))).toEqual({ width: 320, height: 320, bitDepth: 8, colorType: 6 });
    expect(readPng(readFileSync(join(template, 'assets/logo-small.png')))).toEqual({ width: 128, height: 128, bitDepth: 8, colorType: 6 });
  });

  const breakages: [string, (dir: string) => void, RegExp][] = [
    ['has no manifest.json', (dir) => rmSync(join(dir, 'manifest.json')), /manifest.json is missing/],
    ['has a manifest that is not JSON', (dir) => writeFileSync(join(dir, 'manifest.json'), '{ "name": '), /not a JSON object/],
    ['misspells a manifest key', manifest((m) => (m.signedURLs = true)), /unknown key 'signedURLs'/],
    ['names no author email', manifest((m) => delete m.author.email), /author needs name and email/],
    ['gives an author url that is not a URL', manifest((m) => (m.author.url = 'ledgerline')), /author.url must be a valid URL/],
    ['has no app name', manifest((m) => delete m.name), /name is missing/],
    ['has a numeric version', manifest((m) => (m.version = 1)), /version must be a string/],
    ['targets framework 1.0', manifest((m) => (m.frameworkVersion = '1.0')), /frameworkVersion must be one of 2.0/],
    ['spells signedUrls as a string', manifest((m) => (m.signedUrls = 'true')), /signedUrls must be a boolean/],
    ['spells private as a string', manifest((m) => (m.private = 'false')), /private must be a boolean/],
    ['defaults to a locale it has no translations for', manifest((m) => (m.defaultLocale = 'fr')), /no translations\/fr.json/],
    ['defaults to something that is not a locale', manifest((m) => (m.defaultLocale = 'English')), /defaultLocale is missing or not a locale/],
    ['gives domainWhitelist as a string', manifest((m) => (m.domainWhitelist = 'ledgerline.example.com')), /domainWhitelist must be an array of strings/],
    ['has no locations', manifest((m) => delete m.location), /location is missing/],
    ['names an unknown product', manifest((m) => (m.location = { guide: m.location.support })), /unknown product 'guide'/],
    ['names an unknown Support location', manifest((m) => (m.location.support.ticket_side_bar = m.location.support.ticket_sidebar)), /'ticket_side_bar' is not a Support location/],
    ['gives a location no url', ticketSidebar((l) => delete l.url), /ticket_sidebar has no url/],
    ['loads a location over http', ticketSidebar((l) => (l.url = 'http://ledgerline.example.com/panels/zendesk/ticket_sidebar')), /does not use https/],
    ['loads a location from a host not whitelisted', ticketSidebar((l) => (l.url = 'https://elsewhere.example.org/panels/zendesk/ticket_sidebar')), /'elsewhere.example.org' is not in domainWhitelist/],
    ['signs a location served from the package', (dir) => {
      writeFileSync(join(dir, 'assets/iframe.html'), '<!doctype html>');
      ticketSidebar((l) => (l.url = 'assets/iframe.html'))(dir);
    }, /must be absolute: Zendesk posts the signed token/],
    ['points a location at a missing asset', ticketSidebar((l) => (l.url = 'assets/missing.html')), /neither https nor an asset/],
    ['gives flexible as a string', ticketSidebar((l) => (l.flexible = 'yes')), /flexible must be a boolean/],
    ['loads a location from a path Ledgerline does not serve for it', ticketSidebar((l) => (l.url = 'https://ledgerline.example.com/panels/zendesk/summary')), /must be <origin>\/panels\/zendesk\/ticket_sidebar/],
    ['gives parameters as an object', manifest((m) => (m.parameters = { ledgerline_install_token: {} })), /parameters must be an array/],
    ['uses the removed password type', param((p) => (p.type = 'password')), /type "password", not one of/],
    ['defines a parameter twice', manifest((m) => m.parameters.push({ ...m.parameters[0] })), /defined twice/],
    ["calls a parameter 'name'", manifest((m) => m.parameters.push({ name: 'name', type: 'text' })), /may not be called 'name'/],
    ['requires a hidden parameter', manifest((m) => m.parameters.push({ name: 'panel_mode', type: 'hidden', required: true })), /hidden parameter 'panel_mode' cannot be required/],
    ['makes an oauth parameter secure', manifest((m) => m.parameters.push({ name: 'zendesk_oauth', type: 'oauth', secure: true })), /oauth parameter 'zendesk_oauth' cannot be secure/],
    ['has two oauth parameters', manifest((m) => m.parameters.push({ name: 'a', type: 'oauth' }, { name: 'b', type: 'oauth' })), /at most one oauth parameter/],
    ['leaves a token setting insecure', param((p) => { p.secure = false; delete p.scopes; }), /looks like a credential and must be secure/],
    ['gives a secure parameter a default', param((p) => (p.default = 'changeme')), /must not have a default/],
    ['scopes a parameter that is not secure', manifest((m) => m.parameters.push({ name: 'region', type: 'text', scopes: ['header'] })), /'region'.scopes needs a secure parameter/],
    ['scopes a secure parameter to something unknown', param((p) => (p.scopes = ['cookie'])), /unknown scope "cookie"/],
    ['leaves a secure parameter unscoped', param((p) => delete p.scopes), /declares no scopes/],
    ['spells required as a string', param((p) => (p.required = 'yes')), /required must be a boolean/],
    ['names a translation file after no locale', (dir) => cpSync(join(dir, 'translations/es.json'), join(dir, 'translations/spanish.json')), /'spanish' is not a locale/],
    ['has a translation that is not JSON', (dir) => writeFileSync(join(dir, 'translations/de.json'), 'app.name = Ledgerline'), /translations\/de.json: not a JSON object/],
    ['lists on the Marketplace without a long description', editJson('translations/en.json', (t) => delete t.app.long_description), /en.json: app.long_description is missing/],
    ['labels a parameter without a label', editJson('translations/es.json', (t) => delete t.app.parameters.ledgerline_install_token.label), /es.json: app.parameters.ledgerline_install_token has no label/],
    ['translates a parameter the manifest does not have', editJson('translations/de.json', (t) => (t.app.parameters.ledgerline_url = { label: 'URL' })), /ledgerline_url is not a manifest parameter/],
    ['leaves a manifest parameter unlabelled in one language', editJson('translations/de.json', (t) => delete t.app.parameters), /de.json: manifest parameter 'ledgerline_install_token' has no label/],
    ['says something in English the other languages do not', editJson('translations/en.json', (t) => (t.app.title = 'Ledgerline')), /es.json: lacks app.title/],
    ['says something in one language that English does not', editJson('translations/de.json', (t) => (t.app.title = 'Ledgerline')), /de.json: has app.title, which en.json does not/],
    ['has no large logo', (dir) => rmSync(join(dir, 'assets/logo.png')), /assets\/logo.png: missing/],
    ['ships the small logo as the large one', (dir) => writeFileSync(join(dir, 'assets/logo.png'), png(128, 128, 6)), /logo.png: is 128×128, must be 320×320/],
    ['ships a small logo without transparency', (dir) => writeFileSync(join(dir, 'assets/logo-small.png'), png(128, 128, 2)), /logo-small.png: must be PNG-24 with transparency/],
    ['ships a logo that is not a PNG', (dir) => writeFileSync(join(dir, 'assets/logo.png'), '<svg/>'), /logo.png: not a PNG/],
    ['ships a logo with a corrupted chunk', (dir) => {
      const bytes = readFileSync(join(dir, 'assets/logo.png'));
      bytes[40] = bytes[40]! ^ 0xff;
      writeFileSync(join(dir, 'assets/logo.png'), bytes);
    }, /logo.png: bad CRC/],
    ['ships a logo whose pixels do not fill its size', (dir) => writeFileSync(join(dir, 'assets/logo-small.png'), png(128, 128, 6, 64)), /another number of pixels/],
    ['ships an archive', (dir) => writeFileSync(join(dir, 'assets/bundle.zip'), 'PK'), /assets\/bundle.zip: file type Zendesk refuses/],
    ['ships a private key', (dir) => writeFileSync(join(dir, 'assets/key.txt'), '-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n'), /assets\/key.txt: contains a private key/],
  ];

  it.each(breakages)('is refused when it %s', (_name, breakIt, problem) => {
    const dir = packageCopy();
    expect(zafPackageProblems(dir)).toEqual([]);
    breakIt(dir);
    expect(zafPackageProblems(dir)).toContainEqual(expect.stringMatching(problem));
  });

  it('asks a private app for its name only, and a Marketplace listing for all four strings', () => {
    const dir = packageCopy();
    for (const file of ['en', 'es', 'de']) editJson(`translations/${file}.json`, (t) => { delete t.app.short_description; delete t.app.long_description; delete t.app.installation_instructions; })(dir);
    expect(zafPackageProblems(dir)).toContainEqual(expect.stringMatching(/en.json: app.short_description is missing/));
    manifest((m) => (m.private = true))(dir);
    expect(zafPackageProblems(dir)).toEqual([]);
  });
});

describe('writeZendeskApp', () => {
  const out = (): string => join(mkdtempSync(join(tmpdir(), 'll-zendesk-out-')), 'app');

  it("points the panels and the whitelist at one Ledgerline's public URL and ships only the package", () => {
    const dir = out();
    expect(writeZendeskApp({ outDir: dir, publicUrl: 'https://ll.acme.example' })).toEqual([
      'assets/logo-small.png',
      'assets/logo.png',
      'manifest.json',
      'translations/de.json',
      'translations/en.json',
      'translations/es.json',
    ]);
    const m = readJson(dir, 'manifest.json');
    expect(m.location.support.user_sidebar.url).toBe('https://ll.acme.example/panels/zendesk/user_sidebar');
    expect(m.domainWhitelist).toEqual(['ll.acme.example']);
    expect(m.private).toBe(false);
    expect(m.author.url).toBe('https://ledgerline-support.example.net');
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).not.toContain('ledgerline.example.com');
    expect(readFileSync(join(dir, 'assets/logo.png'))).toEqual(readFileSync(join(template, 'assets/logo.png')));
    expect(zafPackageProblems(dir)).toEqual([]);
  });

  it('writes a private app for one account when asked, and takes localhost over http for zcli apps:server', () => {
    const dir = out();
    writeZendeskApp({ outDir: dir, publicUrl: 'http://localhost:4567', private: true });
    const m = readJson(dir, 'manifest.json');
    expect(m.private).toBe(true);
    expect(m.location.support.ticket_sidebar.url).toBe('http://localhost:4567/panels/zendesk/ticket_sidebar');
    expect(m.domainWhitelist).toEqual(['localhost']);
    expect(zafPackageProblems(dir)).toEqual([]);
  });

  it('refuses a URL Zendesk would refuse, and a directory that already holds files', () => {
    expect(() => writeZendeskApp({ outDir: out(), publicUrl: 'http://ll.acme.example' })).toThrow(/https only/);
    expect(() => writeZendeskApp({ outDir: out(), publicUrl: 'https://ll.acme.example/ledgerline' })).toThrow(/without a path/);
    expect(() => writeZendeskApp({ outDir: out(), publicUrl: 'not a url' })).toThrow(/is not a URL/);
    const dir = out();
    cpSync(join(template, 'translations'), dir, { recursive: true });
    expect(() => writeZendeskApp({ outDir: dir, publicUrl: 'https://ll.acme.example' })).toThrow(/is not empty/);
    expect(readJson(dir, 'en.json').app.name).toBe('Ledgerline');
  });
});
