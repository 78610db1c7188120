/**
 * The token Zendesk sends with a panel's first load. With `signedUrls: true` in the app manifest,
 * Zendesk loads each location URL with a POST whose form field `token` is a JWT signed RS256 with
 * the app's private key (https://developer.zendesk.com/documentation/apps/app-developer-guide/using-the-apps-framework/#authenticating-zendesk-in-your-server-side-app,
 * tutorial: https://developer.zendesk.com/documentation/apps/build-an-app/building-a-server-side-app/part-5-secure-the-app/).
 * The public key is per app, `GET https://{subdomain}.zendesk.com/api/v2/apps/{app_id}/public_key.pem`;
 * `iss` is the account host (`acme.zendesk.com`) and `aud` the installation's API URL
 * (`https://acme.zendesk.com/api/v2/apps/installations/{installation_id}.json`). It is sent on the
 * first load only, so the panel mints its own short session from it.
 *
 * Parsed here with node:crypto rather than a JWT library so that exactly one algorithm is ever
 * possible: the header must say RS256 and the key must be an RSA public key, which rules out
 * `none` and the HS256-keyed-with-the-public-key confusion before any signature is computed.
 */
import { createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { invalidInput, LedgerlineError } from '../../core/errors/index.ts';

/** Allowance for Zendesk's clock against ours when reading exp, nbf and iat. */
export const zendeskPanelTokenClockSkewSeconds = 60;
/** A ZAF token is a few hundred bytes; anything near this is not one, and is refused before parsing. */
const maxTokenLength = 16 * 1024;

const numericDate = z.number().int().nonnegative();

/**
 * The claims Ledgerline relies on are required; the others Zendesk adds are typed where known
 * and otherwise kept as they came (the object is loose so a new claim does not break panels).
 */
export const ZendeskPanelClaims = z.looseObject({
  /** The account host: `acme.zendesk.com`. */
  iss: z.string().min(1),
  /** The installation: `https://acme.zendesk.com/api/v2/apps/installations/{id}.json`. */
  aud: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  exp: numericDate,
  iat: numericDate.optional(),
  nbf: numericDate.optional(),
  jti: z.string().optional(),
  sub: z.union([z.string(), z.number()]).optional(),
  /** Query string hash: binds the token to the URL it was issued for. */
  qsh: z.string().optional(),
  /** What the panel shows (product, location, ids); its shape is Zendesk's and may grow. */
  context: z.record(z.string(), z.unknown()).optional(),
});
export type ZendeskPanelClaims = z.infer<typeof ZendeskPanelClaims>;

const JoseHeader = z.looseObject({
  alg: z.string(),
  typ: z.string().optional(),
  kid: z.string().optional(),
  crit: z.unknown().optional(),
});

export interface ZendeskPanelTokenVerification {
  /** The app's public key as `public_key.pem` returns it (SPKI or PKCS#1 PEM). */
  readonly publicKeyPem: string | KeyObject;
  /** The installation's API URL this panel belongs to; see zendeskInstallationAudience. */
  readonly audience: string;
  /** The account host, `acme.zendesk.com`; checked when given. */
  readonly issuer?: string;
  readonly now: Date;
  readonly clockSkewSeconds?: number;
}

const bad = (message: string): LedgerlineError => new LedgerlineError('LL_BAD_SIGNATURE', `zendesk panel token: ${message}`, { details: { field: 'token' } });
const malformed = (message: string): LedgerlineError => new LedgerlineError('LL_INVALID_INPUT', `zendesk panel token: ${message}`, { details: { field: 'token' } });

/** `aud` for one installation, as Zendesk writes it. */
export function zendeskInstallationAudience(subdomain: string, installationId: number | string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/i.test(subdomain) || !/^\d+$/.test(String(installationId))) {
    throw new LedgerlineError('LL_INVALID_INPUT', `zendesk: '${subdomain}' / '${String(installationId)}' is not a subdomain and installation id`);
  }
  return `https://${subdomain.toLowerCase()}.zendesk.com/api/v2/apps/installations/${String(installationId)}.json`;
}

/** Where the app's public key is served (an admin-authenticated Zendesk API call). */
export function zendeskAppPublicKeyPath(appId: number | string): string {
  if (!/^\d+$/.test(String(appId))) throw new LedgerlineError('LL_INVALID_INPUT', `zendesk: app id '${String(appId)}' is not a number`);
  return `/api/v2/apps/${String(appId)}/public_key.pem`;
}

const base64url = /^[A-Za-z0-9_-]+$/;

/** Strict base64url: the JWT alphabet, no padding, and only the canonical spelling of the bytes. */
function decodeSegment(segment: string, what: string): Buffer {
  if (!base64url.test(segment) || segment.length % 4 === 1) throw malformed(`the ${what} is not base64url`);
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment) throw malformed(`the ${what} is not canonical base64url`);
  return bytes;
}

function jsonSegment(segment: string, what: string): unknown {
  const text = decodeSegment(segment, what).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformed(`the ${what} is not JSON`);
  }
}

interface SplitToken {
  readonly signingInput: string;
  readonly header: z.infer<typeof JoseHeader>;
  readonly payloadSegment: string;
  readonly signatureSegment: string;
}

function split(token: unknown): SplitToken {
  if (typeof token !== 'string' || token.length === 0) throw malformed('missing (the form field `token` of the first load)');
  if (token.length > maxTokenLength) throw malformed(`longer than ${maxTokenLength} characters`);
  const parts = token.split('.');
  if (parts.length !== 3) throw malformed(`has ${parts.length} segments; a JWS has 3`);
  const [headerSegment, payloadSegment, signatureSegment] = parts as [string, string, string];
  const header = JoseHeader.safeParse(jsonSegment(headerSegment, 'header'));
  if (!header.success) throw malformed('the header is not a JOSE header with an alg');
  return { signingInput: `${headerSegment}.${payloadSegment}`, header: header.data, payloadSegment, signatureSegment };
}

function rsaPublicKey(key: string | KeyObject): KeyObject {
  let object: KeyObject;
  try {
    object = typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key;
  } catch (error) {
    throw new LedgerlineError('LL_INVALID_CONFIG', 'zendesk panel token: the app public key is not a PEM key', { cause: error });
  }
  // An HMAC secret or an EC key here would let another algorithm in through the back door.
  if (object.type !== 'public' || object.asymmetricKeyType !== 'rsa') {
    throw new LedgerlineError('LL_INVALID_CONFIG', `zendesk panel token: the app public key must be an RSA public key, not ${object.asymmetricKeyType ?? object.type}`);
  }
  if ((object.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new LedgerlineError('LL_INVALID_CONFIG', 'zendesk panel token: the app public key is shorter than 2048 bits');
  }
  return object;
}

/**
 * Reads `iss` without verifying anything, to choose which tenant's key and audience to verify
 * with. Never act on it before verifyZendeskPanelToken has returned.
 */
export function unverifiedZendeskPanelIssuer(token: unknown): string {
  const { payloadSegment } = split(token);
  const claims = z.looseObject({ iss: z.string().min(1) }).safeParse(jsonSegment(payloadSegment, 'payload'));
  if (!claims.success) throw malformed('the payload has no iss');
  return claims.data.iss;
}

function checkTimes(claims: ZendeskPanelClaims, now: Date, skew: number): void {
  const nowSeconds = now.getTime() / 1000;
  if (nowSeconds >= claims.exp + skew) throw bad(`expired ${Math.round(nowSeconds - claims.exp)} s ago`);
  if (claims.nbf !== undefined && nowSeconds < claims.nbf - skew) throw bad(`not valid for another ${Math.round(claims.nbf - nowSeconds)} s`);
  if (claims.iat !== undefined && claims.iat > nowSeconds + skew) throw bad(`issued ${Math.round(claims.iat - nowSeconds)} s in the future`);
}

/**
 * Verifies the token of a panel's first load and returns its claims. LL_BAD_SIGNATURE when the
 * algorithm is not RS256, the signature does not verify, or it is expired, not yet valid, or for
 * another audience or issuer; LL_INVALID_INPUT when it is not a well-formed JWT or its claims
 * are not the ones Zendesk sends; LL_INVALID_CONFIG when the key is unusable.
 */
export function verifyZendeskPanelToken(token: unknown, options: ZendeskPanelTokenVerification): ZendeskPanelClaims {
  const key = rsaPublicKey(options.publicKeyPem);
  const { signingInput, header, payloadSegment, signatureSegment } = split(token);
  if (header.alg !== 'RS256') throw bad(`alg '${header.alg}' is refused; Zendesk signs panel tokens with RS256 only`);
  if (header.crit !== undefined) throw bad('the header lists critical extensions, which are not understood here');
  if (signatureSegment === '') throw bad('has no signature');
  const signature = decodeSegment(signatureSegment, 'signature');
  if (!verify('RSA-SHA256', Buffer.from(signingInput, 'ascii'), key, signature)) throw bad('the signature does not verify with the app public key');

  const parsed = ZendeskPanelClaims.safeParse(jsonSegment(payloadSegment, 'payload'));
  if (!parsed.success) throw invalidInput('zendesk panel token claims', parsed.error.issues, 'token');
  const claims = parsed.data;
  checkTimes(claims, options.now, options.clockSkewSeconds ?? zendeskPanelTokenClockSkewSeconds);
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  if (!audiences.includes(options.audience)) throw bad('issued for another app installation (aud)');
  if (options.issuer !== undefined && claims.iss !== options.issuer) throw bad(`issued by ${claims.iss}, not ${options.issuer} (iss)`);
  return claims;
}

/**
 * Plays Zendesk's part for the sandbox host harness and tests: signs claims RS256 the way
 * Zendesk signs a panel token.
 */
export function signZendeskPanelToken(claims: ZendeskPanelClaims, privateKeyPem: string | KeyObject): string {
  const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'RS256' })).toString('base64url');
  const parsed = ZendeskPanelClaims.safeParse(claims);
  if (!parsed.success) throw invalidInput('zendesk panel token claims to sign', parsed.error.issues);
  const payload = Buffer.from(JSON.stringify(parsed.data)).toString('base64url');
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${payload}`, 'ascii'), privateKeyPem);
  return `${header}.${payload}.${signature.toString('base64url')}`;
}

export interface SandboxAppKeyPair {
  readonly publicKeyPem: string;
  readonly privateKeyPem: string;
}

/** A fresh RSA 2048 key pair standing in for a Zendesk app's, for the sandbox and tests. */
export function generateSandboxAppKeyPair(): SandboxAppKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}
