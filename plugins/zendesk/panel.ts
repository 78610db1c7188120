/**
 * The Zendesk sidebar: a ZAF v2 app whose locations (ticket, user and organization sidebars) load
 * Ledgerline's page in an iframe. With `signedUrls: true` Zendesk loads each location with a POST
 * whose form field `token` is an RS256 JWT signed with the app's private key, and whose query
 * carries `origin` and `app_guid` for the ZAF SDK
 * (https://developer.zendesk.com/documentation/apps/app-developer-guide/using-the-apps-framework/#authenticating-zendesk-in-your-server-side-app).
 * The token comes with the first load only, so the server turns it into its own short session.
 *
 * The first load names no record: the page learns which requester, user or organization it sits
 * beside by asking its host through the SDK (`zendeskSidebarLocations` says what to ask).
 */
import { z } from 'zod';
import type { InboundRequest, PanelContribution, PanelSubject, PluginSettings, VerifiedPanelRequest } from '../../core/contract/index.ts';
import { invalidInput, LedgerlineError } from '../../core/errors/index.ts';
import { signZendeskPanelToken, unverifiedZendeskPanelIssuer, verifyZendeskPanelToken, zendeskInstallationAudience } from './panel-token.ts';

export const zendeskPanelLocations = ['ticket_sidebar', 'user_sidebar', 'organization_sidebar'] as const;
export type ZendeskPanelLocation = (typeof zendeskPanelLocations)[number];

/**
 * What the sidebar page asks its host (ZAF `client.get(path)`) and which synced record the answer
 * names. A ticket's sidebar shows its requester's history, not the ticket's.
 */
export const zendeskSidebarLocations: Readonly<Record<ZendeskPanelLocation, { readonly contextPath: string; readonly subject: { readonly kind: 'person' | 'account'; readonly objectType: string } }>> = {
  ticket_sidebar: { contextPath: 'ticket.requester.id', subject: { kind: 'person', objectType: 'user' } },
  user_sidebar: { contextPath: 'user.id', subject: { kind: 'person', objectType: 'user' } },
  organization_sidebar: { contextPath: 'organization.id', subject: { kind: 'account', objectType: 'organization' } },
};

/** `acme.zendesk.com` → `acme`: the platform account a Zendesk installation is bound to. */
const accountHost = /^([a-z0-9][a-z0-9-]{0,62})\.zendesk\.com$/;

const FirstLoadForm = z.object({ token: z.string().min(1).max(16 * 1024) });
const FirstLoadQuery = z.object({
  // The agent's Zendesk origin (or the console harness): the SDK talks to nothing else.
  origin: z.url({ protocol: /^https?$/ }).refine((value) => new URL(value).origin === value, 'an origin (scheme, host and port only)'),
  app_guid: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a ZAF app guid'),
});
const FirstLoadPath = z.object({ location: z.enum(zendeskPanelLocations) });
const UnverifiedAudience = z.looseObject({ aud: z.union([z.string(), z.array(z.string())]) });

const bad = (message: string): LedgerlineError => new LedgerlineError('LL_BAD_SIGNATURE', `zendesk panel token: ${message}`, { details: { field: 'token' } });

function appPublicKey(settings: PluginSettings): string {
  const pem = settings.ZENDESK_APP_PUBLIC_KEY;
  if (pem === undefined || pem.trim() === '') {
    throw new LedgerlineError('LL_INVALID_CONFIG', 'Invalid configuration: ZENDESK_APP_PUBLIC_KEY (the app public key, PEM) is not set, so Zendesk panels cannot be verified', {
      details: { field: 'ZENDESK_APP_PUBLIC_KEY' },
    });
  }
  // Environment files often carry a PEM on one line with literal \n.
  return pem.replace(/\\n/g, '\n');
}

/**
 * The installation audience the token names on the issuer's own host. The id is Zendesk's, per
 * account that installed the app, and unknown to us in advance; the signature covers both claims,
 * so what is checked is that `aud` is an app installation of the account in `iss`.
 */
function audienceOf(token: string, subdomain: string): string {
  const payload = token.split('.')[1] ?? '';
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw bad('the payload is not JSON');
  }
  const parsed = UnverifiedAudience.safeParse(claims);
  if (!parsed.success) throw bad('the payload has no aud');
  const audiences = typeof parsed.data.aud === 'string' ? [parsed.data.aud] : parsed.data.aud;
  const pattern = new RegExp(`^https://${subdomain}\\.zendesk\\.com/api/v2/apps/installations/(\\d{1,20})\\.json$`);
  for (const audience of audiences) {
    const id = pattern.exec(audience)?.[1];
    if (id !== undefined) return zendeskInstallationAudience(subdomain, id);
  }
  throw bad(`issued for another audience, not an app installation of ${subdomain}.zendesk.com (aud)`);
}

/** `sub` as Zendesk sends it: the agent's id, or the agent's API URL ending in /users/{id}.json. */
function agentId(sub: string | number | undefined): string | null {
  if (sub === undefined) return null;
  const text = String(sub);
  if (/^\d{1,20}$/.test(text)) return text;
  return /\/users\/(\d{1,20})(\.json)?$/.exec(text)?.[1] ?? null;
}

function parsed<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidInput(what, result.error.issues);
  return result.data;
}

/**
 * Verifies Zendesk's signed first load of a sidebar: the form-encoded `token` (RS256 with the app
 * public key, unexpired, `aud` an app installation of the account in `iss`, `context.location` the
 * location loaded), and the SDK's `origin` and `app_guid` in the query. The platform account is
 * the subdomain.
 */
export function verifyZendeskFirstLoad(request: InboundRequest, settings: PluginSettings, now: Date): Promise<VerifiedPanelRequest> {
  const publicKeyPem = appPublicKey(settings);
  const url = new URL(request.url);
  const { location } = parsed(FirstLoadPath, { location: url.pathname.split('/').at(-1) }, 'Zendesk panel location');
  parsed(FirstLoadQuery, Object.fromEntries(url.searchParams), 'Zendesk first-load query');
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (request.method !== 'POST' || contentType !== 'application/x-www-form-urlencoded') {
    throw bad('a signed first load is a form POST (signedUrls: true in the app manifest)');
  }
  const { token } = parsed(FirstLoadForm, Object.fromEntries(new URLSearchParams(request.rawBody.toString('utf8'))), 'Zendesk first-load form');

  const issuer = unverifiedZendeskPanelIssuer(token);
  const subdomain = accountHost.exec(issuer)?.[1];
  if (subdomain === undefined) throw bad(`issued by ${issuer}, which is not a Zendesk account host (iss)`);
  const claims = verifyZendeskPanelToken(token, { publicKeyPem, audience: audienceOf(token, subdomain), issuer, now });

  const context = z.looseObject({ product: z.string().optional(), location: z.string().optional() }).safeParse(claims.context ?? {});
  if (!context.success) throw bad('the context claim is not an object of strings');
  if (context.data.product !== undefined && context.data.product !== 'support') throw bad(`issued for ${context.data.product}, not Zendesk Support`);
  if (context.data.location !== undefined && context.data.location !== location) throw bad(`issued for the ${context.data.location}, not the ${location}`);

  // Until the SDK names a record, the panel is about the account as a whole.
  const subject: PanelSubject = { kind: 'account', objectType: 'zendesk_account', externalId: subdomain };
  return Promise.resolve({ platformAccountId: subdomain, userId: agentId(claims.sub), subject });
}

export const zendeskPanel: PanelContribution = {
  locations: [
    { host: 'ticket_sidebar', description: "The requester's history across every connected system, beside a ticket", render: 'frame' },
    { host: 'user_sidebar', description: "The user's history across every connected system, on their profile", render: 'frame' },
    { host: 'organization_sidebar', description: "The organization's history across every connected system", render: 'frame' },
  ],
  // Agents use Zendesk at their account's subdomain. The console's own origin is added by the
  // server only while the sandbox harness plays Zendesk (it is not known here).
  frameAncestors: ['https://*.zendesk.com'],
  verify: verifyZendeskFirstLoad,
};

/**
 * Plays Zendesk for the sandbox harness: the token Zendesk would POST with the first load of
 * `location` for an agent of `subdomain`, signed with the sandbox app's private key.
 */
export function signZendeskSandboxFirstLoad(
  input: { readonly subdomain: string; readonly appInstallationId: number; readonly agentId: string | null; readonly location: ZendeskPanelLocation; readonly now: Date; readonly lifetimeSeconds?: number },
  privateKeyPem: string,
): string {
  const issuedAt = Math.floor(input.now.getTime() / 1000);
  return signZendeskPanelToken(
    {
      iss: `${input.subdomain}.zendesk.com`,
      aud: zendeskInstallationAudience(input.subdomain, input.appInstallationId),
      iat: issuedAt,
      exp: issuedAt + (input.lifetimeSeconds ?? 300),
      ...(input.agentId !== null ? { sub: input.agentId } : {}),
      context: { product: 'support', location: input.location },
    },
    privateKeyPem,
  );
}
