/**
 * Posts a notification to a rule's webhook over node:http(s), resolving the host name itself and
 * connecting to exactly the address it checked. A rule's URL is checked as written when the rule is
 * saved (`privateTarget`), but a public name can resolve to an internal address later (or change
 * between a check and the connection: DNS rebinding); so every address the name resolves to is
 * checked again at send time, and the socket is opened to the checked address — unless the operator
 * allows internal targets (LEDGERLINE_ALLOW_PRIVATE_WEBHOOKS).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { LedgerlineError } from '../errors/index.ts';
import { privateTarget } from './rules.ts';

export type HostResolver = (hostname: string) => Promise<readonly LookupAddress[]>;

const systemResolver: HostResolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

const literalHost = (address: string, family: number) => (family === 6 ? `http://[${address}]/` : `http://${address}/`);

/** A `lookup` for the socket that refuses names resolving to internal addresses. */
function guardedLookup(resolver: HostResolver, allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolver(hostname).then(
      (addresses) => {
        if (addresses.length === 0) return callback(new Error(`${hostname} did not resolve`), '', 0);
        const internal = allowPrivate ? null : addresses.map((a) => privateTarget(literalHost(a.address, a.family))).find((why) => why !== null);
        if (internal) return callback(new LedgerlineError('LL_INVALID_INPUT', `the webhook host ${hostname} resolves to an internal address (${internal}); set LEDGERLINE_ALLOW_PRIVATE_WEBHOOKS=true to allow it`), '', 0);
        const wanted = options.family === 6 || options.family === 4 ? addresses.filter((a) => a.family === options.family) : addresses;
        const chosen = wanted[0] ?? addresses[0]!;
        if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [chosen]);
        callback(null, chosen.address, chosen.family);
      },
      (error: unknown) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };
}

export interface WebhookPostOptions {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
  readonly allowPrivate: boolean;
  readonly resolver?: HostResolver;
}

/** The status the webhook answered; rejects when it cannot be reached or is internal. */
export function postWebhook(url: string, options: WebhookPostOptions): Promise<number> {
  const target = new URL(url);
  const literal = privateTarget(url);
  if (literal && !options.allowPrivate) return Promise.reject(new LedgerlineError('LL_INVALID_INPUT', `${literal}; set LEDGERLINE_ALLOW_PRIVATE_WEBHOOKS=true to allow internal targets`));
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
        lookup: guardedLookup(options.resolver ?? systemResolver, options.allowPrivate),
        timeout: options.timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`the webhook did not answer within ${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
