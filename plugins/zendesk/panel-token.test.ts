import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { isLedgerlineError, type ErrorCode } from '../../core/errors/index.ts';
import {
  generateSandboxAppKeyPair,
  signZendeskPanelToken,
  unverifiedZendeskPanelIssuer,
  verifyZendeskPanelToken,
  zendeskAppPublicKeyPath,
  zendeskInstallationAudience,
  type SandboxAppKeyPair,
  type ZendeskPanelClaims,
  type ZendeskPanelTokenVerification,
} from './panel-token.ts';

const now = new Date('2026-11-23T10:00:00Z');
const nowSeconds = now.getTime() / 1000;
const audience = 'https://acme.zendesk.com/api/v2/apps/installations/360001234.json';
const claims: ZendeskPanelClaims = {
  iss: 'acme.zendesk.com',
  aud: audience,
  iat: nowSeconds - 5,
  exp: nowSeconds + 300,
  qsh: 'a'.repeat(64),
  context: { product: 'support', location: 'ticket_sidebar' },
};

let zendesk: SandboxAppKeyPair;
let stranger: SandboxAppKeyPair;
beforeAll(() => {
  zendesk = generateSandboxAppKeyPair();
  stranger = generateSandboxAppKeyPair();
});

const options = (overrides: Partial<ZendeskPanelTokenVerification> = {}): ZendeskPanelTokenVerification => ({ publicKeyPem: zendesk.publicKeyPem, audience, now, ...overrides });
const b64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A token with any header and payload, RS256-signed by the given private key (for claims the signer would refuse). */
function rawRs256(header: unknown, payload: unknown, privateKeyPem: string): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${sign('RSA-SHA256', Buffer.from(input), privateKeyPem).toString('base64url')}`;
}

function refusal(token: unknown, opts = options()): { code: ErrorCode; message: string } {
  try {
    verifyZendeskPanelToken(token, opts);
  } catch (error) {
    if (isLedgerlineError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('the token was accepted');
}

describe('Zendesk panel token (signed URLs)', () => {
  it('accepts a token Zendesk signed for this installation and returns its claims', () => {
    const token = signZendeskPanelToken(claims, zendesk.privateKeyPem);
    expect(verifyZendeskPanelToken(token, options({ issuer: 'acme.zendesk.com' }))).toEqual(claims);
  });

  it('produces a JWS whose header says RS256 and whose signature any RS256 implementation checks', () => {
    const token = signZendeskPanelToken(claims, zendesk.privateKeyPem);
    const [header, payload, signature] = token.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ typ: 'JWT', alg: 'RS256' });
    // Independently of the verifier: PKCS#1 v1.5 over SHA-256 is deterministic, so re-signing gives the same bytes.
    expect(sign('sha256', Buffer.from(`${header}.${payload}`), createPrivateKey(zendesk.privateKeyPem)).toString('base64url')).toBe(signature);
  });

  it('refuses to sign claims Zendesk would not send', () => {
    expect(() => signZendeskPanelToken({ ...claims, exp: -1 }, zendesk.privateKeyPem)).toThrow(/claims to sign: exp/);
  });

  it('keeps claims it does not know, so a new Zendesk claim does not break panels', () => {
    const token = signZendeskPanelToken({ ...claims, user_id: 42 }, zendesk.privateKeyPem);
    expect(verifyZendeskPanelToken(token, options())).toMatchObject({ user_id: 42 });
  });

  it('refuses a token forged with another key', () => {
    const { code, message } = refusal(signZendeskPanelToken(claims, stranger.privateKeyPem));
    expect(code).toBe('LL_BAD_SIGNATURE');
    expect(message).toMatch(/signature does not verify/);
  });

  it('refuses a tampered payload', () => {
    const [header, , signature] = signZendeskPanelToken(claims, zendesk.privateKeyPem).split('.');
    const tampered = `${header}.${b64url({ ...claims, iss: 'evil.zendesk.com' })}.${signature}`;
    expect(refusal(tampered)).toMatchObject({ code: 'LL_BAD_SIGNATURE', message: expect.stringMatching(/signature does not verify/) });
  });

  it('refuses an expired token, allowing the clock skew', () => {
    const expiredAt = nowSeconds - 61;
    expect(refusal(signZendeskPanelToken({ ...claims, iat: expiredAt - 300, exp: expiredAt }, zendesk.privateKeyPem))).toMatchObject({
      code: 'LL_BAD_SIGNATURE',
      message: expect.stringMatching(/expired 61 s ago/),
    });
    const withinSkew = signZendeskPanelToken({ ...claims, exp: nowSeconds - 30 }, zendesk.privateKeyPem);
    expect(verifyZendeskPanelToken(withinSkew, options()).exp).toBe(nowSeconds - 30);
    expect(refusal(withinSkew, options({ clockSkewSeconds: 0 })).message).toMatch(/expired/);
  });

  it('refuses a token not yet valid, or issued in the future', () => {
    expect(refusal(signZendeskPanelToken({ ...claims, nbf: nowSeconds + 120 }, zendesk.privateKeyPem)).message).toMatch(/not valid for another 120 s/);
    expect(refusal(signZendeskPanelToken({ ...claims, iat: nowSeconds + 120 }, zendesk.privateKeyPem)).message).toMatch(/issued 120 s in the future/);
  });

  it('refuses a token for another installation or another account', () => {
    const other = signZendeskPanelToken({ ...claims, aud: 'https://acme.zendesk.com/api/v2/apps/installations/999.json' }, zendesk.privateKeyPem);
    expect(refusal(other)).toMatchObject({ code: 'LL_BAD_SIGNATURE', message: expect.stringMatching(/another app installation/) });
    const token = signZendeskPanelToken(claims, zendesk.privateKeyPem);
    expect(refusal(token, options({ issuer: 'globex.zendesk.com' })).message).toMatch(/not globex.zendesk.com/);
  });

  it("refuses alg 'none', with or without a signature", () => {
    const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
    expect(refusal(unsigned)).toMatchObject({ code: 'LL_BAD_SIGNATURE', message: expect.stringMatching(/alg 'none' is refused/) });
    const [, , signature] = signZendeskPanelToken(claims, zendesk.privateKeyPem).split('.');
    expect(refusal(`${b64url({ alg: 'none' })}.${b64url(claims)}.${signature}`).message).toMatch(/alg 'none'/);
    expect(refusal(`${b64url({ alg: 'NONE' })}.${b64url(claims)}.`).message).toMatch(/alg 'NONE'/);
  });

  it('refuses HS256 signed with the public key as the HMAC secret (algorithm confusion)', () => {
    const input = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
    const forged = `${input}.${createHmac('sha256', zendesk.publicKeyPem).update(input).digest('base64url')}`;
    expect(refusal(forged)).toMatchObject({ code: 'LL_BAD_SIGNATURE', message: expect.stringMatching(/alg 'HS256' is refused/) });
    // The same HMAC under a header that claims RS256 fails as a signature instead.
    const lying = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(claims)}`;
    const lyingToken = `${lying}.${createHmac('sha256', zendesk.publicKeyPem).update(lying).digest('base64url')}`;
    expect(refusal(lyingToken).message).toMatch(/signature does not verify/);
  });

  it('refuses other asymmetric algorithms too (RS512, PS256, ES256)', () => {
    for (const alg of ['RS512', 'PS256', 'ES256']) expect(refusal(rawRs256({ alg }, claims, zendesk.privateKeyPem)).message).toMatch(new RegExp(`alg '${alg}'`));
  });

  it('refuses a header with critical extensions it cannot honour', () => {
    expect(refusal(rawRs256({ alg: 'RS256', crit: ['b64'], b64: false }, claims, zendesk.privateKeyPem)).message).toMatch(/critical/);
  });

  it.each([
    ['no token at all', undefined],
    ['an empty token', ''],
    ['two segments', 'eyJhbGciOiJSUzI1NiJ9.e30'],
    ['four segments', 'a.b.c.d'],
    ['a header that is not base64url', '***.e30.AAAA'],
    ['a padded segment', `${b64url({ alg: 'RS256' })}=.e30.AAAA`],
    ['a header that is not JSON', `${b64url('not json')}.e30.AAAA`],
    ['a header without alg', `${b64url({ typ: 'JWT' })}.e30.AAAA`],
    ['a header that is an array', `${b64url([{ alg: 'RS256' }])}.e30.AAAA`],
    ['a huge token', `${'a'.repeat(20_000)}.b.c`],
  ])('refuses %s as malformed', (_name, token) => {
    expect(refusal(token).code).toBe('LL_INVALID_INPUT');
  });

  it('refuses a non-canonical base64url signature (the same bytes spelled another way)', () => {
    const token = signZendeskPanelToken(claims, zendesk.privateKeyPem);
    // 256 signature bytes take 342 characters, the last carrying 4 unused bits: flipping one is another spelling.
    const last = token.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    expect(Buffer.from(`${token.slice(0, -1)}${sibling}`.split('.')[2]!, 'base64url')).toEqual(Buffer.from(token.split('.')[2]!, 'base64url'));
    expect(refusal(`${token.slice(0, -1)}${sibling}`)).toMatchObject({ code: 'LL_INVALID_INPUT', message: expect.stringMatching(/canonical/) });
  });

  it('refuses signed claims that are not what Zendesk sends, naming the claim', () => {
    const { exp: _exp, ...withoutExp } = claims;
    expect(refusal(rawRs256({ alg: 'RS256' }, withoutExp, zendesk.privateKeyPem))).toMatchObject({ code: 'LL_INVALID_INPUT', message: expect.stringMatching(/exp/) });
    expect(refusal(rawRs256({ alg: 'RS256' }, { ...claims, exp: '2026-11-23' }, zendesk.privateKeyPem)).message).toMatch(/exp/);
    expect(refusal(rawRs256({ alg: 'RS256' }, 'just a string', zendesk.privateKeyPem)).code).toBe('LL_INVALID_INPUT');
  });

  it('accepts aud as a list when this installation is in it', () => {
    const token = signZendeskPanelToken({ ...claims, aud: ['https://other.example/', audience] }, zendesk.privateKeyPem);
    expect(verifyZendeskPanelToken(token, options()).aud).toContain(audience);
  });

  it('takes the PEM in SPKI or PKCS#1 form, and refuses keys that are not RSA public keys of 2048 bits or more', () => {
    const token = signZendeskPanelToken(claims, zendesk.privateKeyPem);
    const pkcs1 = createPublicKey(zendesk.publicKeyPem).export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(pkcs1).toMatch(/BEGIN RSA PUBLIC KEY/);
    expect(verifyZendeskPanelToken(token, options({ publicKeyPem: pkcs1 })).iss).toBe('acme.zendesk.com');
    expect(refusal(token, options({ publicKeyPem: 'not a key' })).code).toBe('LL_INVALID_CONFIG');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    expect(refusal(token, options({ publicKeyPem: ec.publicKey })).message).toMatch(/must be an RSA public key/);
    const short = generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    expect(refusal(signZendeskPanelToken(claims, short.privateKey), options({ publicKeyPem: short.publicKey })).message).toMatch(/shorter than 2048/);
  });

  it('reads iss unverified only to pick the tenant, and still refuses a forgery afterwards', () => {
    const forged = signZendeskPanelToken(claims, stranger.privateKeyPem);
    expect(unverifiedZendeskPanelIssuer(forged)).toBe('acme.zendesk.com');
    expect(refusal(forged).code).toBe('LL_BAD_SIGNATURE');
    expect(() => unverifiedZendeskPanelIssuer('a.b')).toThrow(/3/);
  });

  it('generates fresh 2048-bit RSA key pairs as PEM', () => {
    const pair = generateSandboxAppKeyPair();
    expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(createPublicKey(pair.publicKeyPem).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(pair.publicKeyPem).not.toBe(zendesk.publicKeyPem);
  });

  it('builds the audience and the public key path Zendesk uses', () => {
    expect(zendeskInstallationAudience('Acme', 360001234)).toBe(audience);
    expect(zendeskAppPublicKeyPath(123456)).toBe('/api/v2/apps/123456/public_key.pem');
    expect(() => zendeskInstallationAudience('acme.evil.com/x', 1)).toThrow(/not a subdomain/);
    expect(() => zendeskAppPublicKeyPath('../x')).toThrow(/not a number/);
  });
});
