/**
 * The settings the Zendesk plugin reads (declared in plugin.manifest.json), validated once here.
 * Zendesk has no global API host: every account lives at `https://{subdomain}.zendesk.com`, so the
 * base URL comes from the subdomain the admin names at install (or ZENDESK_SUBDOMAIN for a
 * single-account deployment); ZENDESK_API_BASE_URL replaces the whole host (the sandbox emulator).
 */
import { z } from 'zod';
import type { PluginSettings } from '../../core/contract/index.ts';
import { LedgerlineError } from '../../core/errors/index.ts';

/** A Zendesk subdomain: `acme` of `acme.zendesk.com` (letters, digits, inner hyphens). */
export const ZendeskSubdomain = z.preprocess(
  // Admins paste what their browser shows: `https://acme.zendesk.com/agent`, `acme.zendesk.com`, `Acme`.
  (value) => (typeof value === 'string' ? value.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/[/?#].*$/, '').replace(/\.zendesk\.com$/, '') : value),
  z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'a Zendesk subdomain such as acme (for acme.zendesk.com)'),
);

/** What the admin gives before the redirect; the subdomain may come from ZENDESK_SUBDOMAIN instead. */
export const ZendeskInstallParams = z.strictObject({ subdomain: ZendeskSubdomain.optional() });
export type ZendeskInstallParams = z.infer<typeof ZendeskInstallParams>;

/** Incremental export calls per minute: 10, or 30 with the High Volume API add-on. */
const ExportsPerMinute = z.enum(['10', '30']).transform(Number);

export interface ZendeskSettings {
  readonly clientId: string;
  readonly clientSecret: string;
  /** ZENDESK_API_BASE_URL (the sandbox), or null for `https://{subdomain}.zendesk.com`. */
  readonly apiBaseUrlOverride: string | null;
  readonly defaultSubdomain: string | null;
  /** The current signing secret first, then the previous one while a rotation rolls out. */
  readonly webhookSecrets: readonly string[];
}

const configError = (field: string, message: string, cause?: unknown): LedgerlineError =>
  new LedgerlineError('LL_INVALID_CONFIG', `zendesk: ${message}`, { details: { field, plugin: 'zendesk' }, ...(cause === undefined ? {} : { cause }) });

function required(settings: PluginSettings, name: 'ZENDESK_CLIENT_ID' | 'ZENDESK_CLIENT_SECRET'): string {
  const value = settings[name];
  if (value === undefined || value === '') {
    const what = name === 'ZENDESK_CLIENT_ID' ? 'unique identifier' : 'secret';
    throw configError(name, `${name} is not set (the OAuth client's ${what}: Admin Center → Apps and integrations → APIs → OAuth Clients)`);
  }
  return value;
}

function baseUrlOverride(settings: PluginSettings): string | null {
  const value = settings.ZENDESK_API_BASE_URL;
  if (value === undefined || value === '') return null;
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
  } catch (error) {
    throw configError('ZENDESK_API_BASE_URL', `ZENDESK_API_BASE_URL must be an http(s) URL, got ${JSON.stringify(value)}`, error);
  }
  return value.replace(/\/+$/, '');
}

function subdomainSetting(settings: PluginSettings): string | null {
  const value = settings.ZENDESK_SUBDOMAIN;
  if (value === undefined || value === '') return null;
  const parsed = ZendeskSubdomain.safeParse(value);
  if (!parsed.success) throw configError('ZENDESK_SUBDOMAIN', `ZENDESK_SUBDOMAIN must be a subdomain such as acme, got ${JSON.stringify(value)}`);
  return parsed.data;
}

export function zendeskSettings(settings: PluginSettings): ZendeskSettings {
  return {
    clientId: required(settings, 'ZENDESK_CLIENT_ID'),
    clientSecret: required(settings, 'ZENDESK_CLIENT_SECRET'),
    apiBaseUrlOverride: baseUrlOverride(settings),
    defaultSubdomain: subdomainSetting(settings),
    webhookSecrets: zendeskWebhookSecrets(settings),
  };
}

/** The webhook signing secrets: the current one, then the previous one while a reset rolls out. */
export function zendeskWebhookSecrets(settings: PluginSettings): readonly string[] {
  return [settings.ZENDESK_WEBHOOK_SIGNING_SECRET, settings.ZENDESK_WEBHOOK_SIGNING_SECRET_PREVIOUS].filter((s): s is string => s !== undefined && s !== '');
}

/** The Zendesk account an install is for: the admin's subdomain, else ZENDESK_SUBDOMAIN. */
export function zendeskAccountOf(settings: PluginSettings, params: ZendeskInstallParams): { subdomain: string; baseUrl: string } {
  const subdomain = params.subdomain ?? subdomainSetting(settings);
  if (subdomain === null) {
    throw new LedgerlineError('LL_INVALID_INPUT', 'zendesk: say which Zendesk account to install: its subdomain (acme for acme.zendesk.com)', { details: { field: 'subdomain' } });
  }
  return { subdomain, baseUrl: baseUrlOverride(settings) ?? `https://${subdomain}.zendesk.com` };
}

/**
 * ZENDESK_EXPORTS_PER_MINUTE. The connector's rate policy is fixed when the plugin module loads
 * (the contract takes a policy, not a function of settings), so it is read from the same
 * environment the loader resolves settings from, through this one schema.
 */
export function zendeskExportsPerMinute(env: Readonly<Record<string, string | undefined>>): number {
  const value = env.ZENDESK_EXPORTS_PER_MINUTE;
  if (value === undefined || value === '') return 10;
  const parsed = ExportsPerMinute.safeParse(value.trim());
  if (!parsed.success) throw configError('ZENDESK_EXPORTS_PER_MINUTE', `ZENDESK_EXPORTS_PER_MINUTE must be 10, or 30 with the High Volume API add-on; got ${JSON.stringify(value)}`);
  return parsed.data;
}
