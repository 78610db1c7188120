/**
 * How `serve` lets the sandbox play the Zendesk app's key holder: with Zendesk on its emulator and
 * no ZENDESK_APP_PUBLIC_KEY, the app key pair lives in the data directory (made once), the
 * plugin's setting defaults to its public half, and the harness signs first loads the plugin
 * accepts. A configured key, or a Zendesk that is not sandboxed, gets no harness.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { zendeskSandboxPanel } from '../../../core/cli/serve-command.ts';
import { verifyZendeskFirstLoad } from '../panel.ts';
import { zendeskPanelPlugin } from './cross-system-stack.ts';

const now = new Date('2026-11-23T10:00:00Z');

describe('the sandbox Zendesk app key', () => {
  it('is made once per data directory; the plugin verifies with its public half what the harness signs with its private half', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'll-zendesk-key-'));
    const first = zendeskSandboxPanel([zendeskPanelPlugin({})], ['zendesk'], dataDir);
    const second = zendeskSandboxPanel([zendeskPanelPlugin({})], ['zendesk'], dataDir);
    const publicKey = first.plugins[0]!.settings.ZENDESK_APP_PUBLIC_KEY;
    expect(publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(second.plugins[0]!.settings.ZENDESK_APP_PUBLIC_KEY).toBe(publicKey);
    const file = join(dataDir, 'zendesk-sandbox-app-key.pem');
    expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(statSync(file).mode & 0o077).toBe(0);

    const token = first.harness!.signFirstLoad({ platformAccountId: 'ledgerline-sandbox', location: 'ticket_sidebar', agentId: '380000000001', now });
    const verified = await verifyZendeskFirstLoad(
      {
        method: 'POST',
        url: 'http://127.0.0.1:3000/panels/zendesk/ticket_sidebar?origin=http%3A%2F%2F127.0.0.1%3A3000&app_guid=4b4b5d4e-1c1a-4f4e-9d3b-0a1b2c3d4e5f',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        rawBody: Buffer.from(new URLSearchParams({ token }).toString()),
      },
      second.plugins[0]!.settings,
      now,
    );
    expect(verified).toMatchObject({ platformAccountId: 'ledgerline-sandbox', userId: '380000000001' });
    expect(() => first.harness!.signFirstLoad({ platformAccountId: 'ledgerline-sandbox', location: 'nav_bar', agentId: null, now })).toThrow(/not a Zendesk app location/);
  });

  it('stays out of the way when the key is configured or Zendesk is not on its sandbox', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'll-zendesk-key-'));
    const configured = zendeskSandboxPanel([zendeskPanelPlugin({ ZENDESK_APP_PUBLIC_KEY: 'operator key' })], ['zendesk'], dataDir);
    expect(configured.harness).toBeNull();
    expect(configured.plugins[0]!.settings.ZENDESK_APP_PUBLIC_KEY).toBe('operator key');
    const live = zendeskSandboxPanel([zendeskPanelPlugin({})], [], dataDir);
    expect(live.harness).toBeNull();
    expect(live.plugins[0]!.settings.ZENDESK_APP_PUBLIC_KEY).toBeUndefined();
  });
});
