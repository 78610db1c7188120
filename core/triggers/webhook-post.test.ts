import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook, type HostResolver } from './webhook-post.ts';

let receiver: Server;
const received: { host: string | undefined; body: string }[] = [];
beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ host: req.headers.host, body });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise((resolve) => receiver.close(resolve)));

const port = () => (receiver.address() as AddressInfo).port;
const resolvingTo =
  (...addresses: string[]): HostResolver =>
  () =>
    Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
const post = (url: string, allowPrivate: boolean, resolver: HostResolver) => postWebhook(url, { headers: { 'content-type': 'application/json' }, body: '{"n":1}', timeoutMs: 5_000, allowPrivate, resolver });

describe('webhook posts', () => {
  it('refuses a public-looking name that resolves to an internal address, before connecting', async () => {
    const before = received.length;
    await expect(post(`http://hooks.partner.example:${port()}/in`, false, resolvingTo('10.1.2.3'))).rejects.toThrow(/hooks\.partner\.example resolves to an internal address \(10\.1\.2\.3 is a private/);
    await expect(post(`http://hooks.partner.example:${port()}/in`, false, resolvingTo('203.0.113.7', 'fd00::1'))).rejects.toThrow(/internal address \(fd00::1/);
    expect(received.length).toBe(before);
  });

  it('refuses an internal address written literally', async () => {
    await expect(post(`http://127.0.0.1:${port()}/in`, false, resolvingTo('127.0.0.1'))).rejects.toThrow(/127\.0\.0\.1 is a private or loopback address/);
  });

  it('connects to the address it checked (a name no DNS knows reaches the resolved address) when internal targets are allowed', async () => {
    expect(await post(`http://hooks.partner.example:${port()}/in`, true, resolvingTo('127.0.0.1'))).toBe(202);
    expect(received.at(-1)).toEqual({ host: `hooks.partner.example:${port()}`, body: '{"n":1}' });
  });
});
