/**
 * The settings the HubSpot plugin reads (declared in plugin.manifest.json). With none set, the
 * demo points them at the sandbox emulator; real values switch the same code to HubSpot.
 */
import type { PluginSettings } from '../../core/contract/index.ts';
import { LedgerlineError } from '../../core/errors/index.ts';

export const hubspotDefaults = {
  HUBSPOT_API_BASE_URL: 'https://api.hubapi.com',
  HUBSPOT_AUTHORIZE_URL: 'https://app.hubspot.com/oauth/authorize',
  /** v3 only. v1/v2 carry no timestamp, so a captured delivery can be replayed forever. */
  HUBSPOT_WEBHOOK_SIGNATURE_VERSIONS: 'v3',
} as const;

export type SignatureVersion = 'v1' | 'v2' | 'v3';

export interface HubspotSettings {
  readonly apiBaseUrl: string;
  readonly authorizeUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly appId: string | null;
  readonly signatureVersions: ReadonlySet<SignatureVersion>;
}

function required(settings: PluginSettings, name: string): string {
  const value = settings[name];
  if (value === undefined || value === '') {
    throw new LedgerlineError('LL_INVALID_CONFIG', `hubspot: ${name} is not set (the app's ${name === 'HUBSPOT_CLIENT_ID' ? 'client id' : 'client secret'} from the HubSpot developer account)`, {
      details: { field: name, plugin: 'hubspot' },
    });
  }
  return value;
}

function baseUrl(settings: PluginSettings, name: 'HUBSPOT_API_BASE_URL' | 'HUBSPOT_AUTHORIZE_URL'): string {
  const value = settings[name] || hubspotDefaults[name];
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
  } catch (error) {
    throw new LedgerlineError('LL_INVALID_CONFIG', `hubspot: ${name} must be an http(s) URL, got ${JSON.stringify(value)}`, { cause: error, details: { field: name, plugin: 'hubspot' } });
  }
  return value.replace(/\/+$/, '');
}

export function signatureVersionsOf(value: string | undefined): ReadonlySet<SignatureVersion> {
  const raw = (value || hubspotDefaults.HUBSPOT_WEBHOOK_SIGNATURE_VERSIONS).split(',').map((v) => v.trim().toLowerCase()).filter((v) => v !== '');
  const versions = new Set<SignatureVersion>();
  for (const v of raw) {
    if (v !== 'v1' && v !== 'v2' && v !== 'v3') {
      throw new LedgerlineError('LL_INVALID_CONFIG', `hubspot: HUBSPOT_WEBHOOK_SIGNATURE_VERSIONS lists ${JSON.stringify(v)}; allowed: v1, v2, v3`, {
        details: { field: 'HUBSPOT_WEBHOOK_SIGNATURE_VERSIONS', plugin: 'hubspot' },
      });
    }
    versions.add(v);
  }
  if (versions.size === 0) versions.add('v3');
  return versions;
}

export function hubspotSettings(settings: PluginSettings): HubspotSettings {
  return {
    apiBaseUrl: baseUrl(settings, 'HUBSPOT_API_BASE_URL'),
    authorizeUrl: baseUrl(settings, 'HUBSPOT_AUTHORIZE_URL'),
    clientId: required(settings, 'HUBSPOT_CLIENT_ID'),
    clientSecret: required(settings, 'HUBSPOT_CLIENT_SECRET'),
    appId: settings.HUBSPOT_APP_ID || null,
    signatureVersions: signatureVersionsOf(settings.HUBSPOT_WEBHOOK_SIGNATURE_VERSIONS),
  };
}
