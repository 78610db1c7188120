import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { frameAncestorList, originAllowedBy } from './security-headers.ts';
import { startTestServer } from './server-test-harness.ts';
import type { TestServer } from './server-test-harness.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The only panel route in this suite; real panels are mounted by the plugin work. */
function testPanels() {
  const router = express.Router();
  router.get('/test', (_req, res) => {
    res.type('html').send('<p>panel</p>');
  });
  return router;
}

function directives(header: string | null): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) map.set(name, values.join(' '));
  }
  return map;
}

describe('strict CSP outside /panels', () => {
  it.each(['/healthz', '/', '/api/v1/errors', '/metrics', '/no-such-route'])('sets it on %s', async (path) => {
    server = await startTestServer({ frameAncestors: ['https://acme.zendesk.com'], panels: testPanels() });
    const response = await fetch(`${server.url}${path}`);
    const csp = directives(response.headers.get('content-security-policy'));
    expect(csp.get('default-src')).toBe("'self'");
    expect(csp.get('script-src')).toBe("'self'");
    expect(csp.get('script-src-attr')).toBe("'none'");
    expect(csp.get('style-src')).toBe("'self'");
    expect(csp.get('frame-ancestors')).toBe("'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-powered-by')).toBeNull();
  });
});

describe('panel CSP under /panels', () => {
  it('allows exactly the union of the plugins frame ancestors, deduplicated', async () => {
    server = await startTestServer({
      frameAncestors: ['https://*.zendesk.com', 'https://acme.my.salesforce.com', 'https://*.zendesk.com'],
      panels: testPanels(),
    });
    const response = await fetch(`${server.url}/panels/test`);
    expect(response.status).toBe(200);
    const csp = directives(response.headers.get('content-security-policy'));
    expect(csp.get('frame-ancestors')).toBe('https://*.zendesk.com https://acme.my.salesforce.com');
    expect(csp.get('default-src')).toBe("'self'");
    expect(csp.get('script-src')).toBe("'self'");
    // X-Frame-Options cannot list origins; it must not veto the CSP.
    expect(response.headers.get('x-frame-options')).toBeNull();
  });

  it("answers frame-ancestors 'none' when no plugin declares any, also on unknown panel paths", async () => {
    server = await startTestServer({ frameAncestors: [], panels: testPanels() });
    for (const path of ['/panels/test', '/panels/unknown']) {
      const response = await fetch(`${server.url}${path}`);
      expect(directives(response.headers.get('content-security-policy')).get('frame-ancestors')).toBe("'none'");
    }
  });

  it('adds upgrade-insecure-requests only when served over https', async () => {
    server = await startTestServer({ publicUrl: 'https://ledgerline.example.com' });
    const csp = directives((await fetch(`${server.url}/healthz`)).headers.get('content-security-policy'));
    expect(csp.has('upgrade-insecure-requests')).toBe(true);
  });
});

describe('frameAncestorList', () => {
  it('refuses something that is not an origin, so nothing can be injected into the header', () => {
    expect(() => frameAncestorList(["https://a.example.com; script-src 'unsafe-inline'"])).toThrow(/frame ancestor/);
    expect(() => frameAncestorList(['*'])).toThrow(/frame ancestor/);
    expect(frameAncestorList(['https://a.example.com:8443', 'http://localhost:3001'])).toEqual([
      'https://a.example.com:8443',
      'http://localhost:3001',
    ]);
  });
});

describe('originAllowedBy (the SDK origin a framed panel accepts)', () => {
  const sources = ['https://*.zendesk.com', 'http://127.0.0.1:4100'];

  it('allows what the CSP host sources allow: any subdomain under a wildcard, an exact origin with its port', () => {
    expect(originAllowedBy('https://acme.zendesk.com', sources)).toBe(true);
    expect(originAllowedBy('https://eu.acme.zendesk.com', sources)).toBe(true);
    expect(originAllowedBy('http://127.0.0.1:4100', sources)).toBe(true);
  });

  it('refuses the bare wildcard domain, another scheme or port, look-alike hosts and anything that is not an origin', () => {
    for (const origin of ['https://zendesk.com', 'http://acme.zendesk.com', 'https://acme.zendesk.com:8443', 'https://acme.zendesk.com.evil.example', 'https://evilzendesk.com', 'http://127.0.0.1:4101', 'https://acme.zendesk.com/path', 'null', '']) {
      expect(originAllowedBy(origin, sources), origin).toBe(false);
    }
    expect(originAllowedBy('https://acme.zendesk.com', [])).toBe(false);
  });
});
