/**
 * Triggers end to end against real peers: an SMTP server (smtp-server) and HTTP receivers on
 * loopback, one of which always fails. Every state of every notification is on the ledger.
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation, testKeyring } from '../../test/support/database.ts';
import { listEntries } from '../ledger/ledger.ts';
import { verifyChain } from '../ledger/verify.ts';
import type { ActivityRecord } from '../model/index.ts';
import { buildSummary } from '../panels/summary.ts';
import { ingestBatch } from '../store/index.ts';
import { acknowledgeNotification, deliverNotifications, escalateOverdue, evaluateTriggers, type DeliveryOptions } from './notifications.ts';

const mails: { to: string[]; subject: string; text: string }[] = [];
const hooks: { body: string; timestamp: string; signature: string }[] = [];
let smtp: SMTPServer;
let receiver: Server;
let failing: Server;
let options: DeliveryOptions;
const portOf = (s: { address(): unknown }) => (s.address() as AddressInfo).port;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString()));
      stream.on('end', () => {
        const unfolded = raw.replace(/\r?\n[ \t]+/g, ' ');
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), subject: /^Subject: (.*)$/m.exec(unfolded)?.[1]?.trim() ?? '', text: raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hooks.push({ body, timestamp: String(req.headers['x-ledgerline-timestamp']), signature: String(req.headers['x-ledgerline-signature']) });
      res.writeHead(204).end();
    });
  });
  failing = createServer((_req, res) => res.writeHead(500).end('down'));
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
  options = {
    mail: nodemailer.createTransport({ host: '127.0.0.1', port: portOf(smtp.server), secure: false, ignoreTLS: true }),
    mailFrom: 'Ledgerline <ledgerline@acme.example>',
    maxAttempts: 3,
    retryBaseMs: 1000,
    // The test's webhook receivers listen on loopback.
    allowPrivateTargets: true,
  };
});
afterAll(async () => {
  await new Promise((resolve) => smtp.close(resolve as () => void));
  await new Promise((resolve) => receiver.close(resolve));
  await new Promise((resolve) => failing.close(resolve));
});

const activity = (key: string, kind: ActivityRecord['kind'], category: string, at: string, subject: string, amount?: [string, string]): ActivityRecord => ({
  kind,
  category,
  occurredAt: new Date(at),
  subject: { kind: 'person', objectType: 'contact', externalId: subject },
  driver: null,
  source: { objectType: 'event', externalId: key },
  discriminator: 'main',
  amount: amount ? { value: amount[0], currency: amount[1] } : null,
  summary: `${category} for ${subject}`,
  actor: null,
  attributes: {},
});

describeOnTestDatabases('triggers, notifications and obligations', (db) => {
  it('fires, delivers, retries into a dead letter, escalates and records acknowledgement, all on the ledger', async () => {
    mails.length = 0;
    hooks.length = 0;
    const { tenantId, installationId } = await seedInstallation(db(), { platform: 'hubspot' });
    const secret = 'whsec-test-not-a-real-secret';
    const [refundRule] = await db().sql.query<{ id: string }>(`insert into trigger_rule (tenant_id, name, definition) values ($1, 'Large refund', $2) returning id`, [
      tenantId,
      JSON.stringify({
        match: { kind: 'transaction', category: 'refund', amountAtLeast: { value: 100, currency: 'EUR' } },
        channels: [{ type: 'email', to: ['ops@acme.example'] }, { type: 'webhook', url: `http://127.0.0.1:${portOf(receiver)}/hook`, secret }],
        acknowledge: { withinMinutes: 30, escalateTo: ['lead@acme.example'] },
      }),
    ]);
    await db().sql.query(`insert into trigger_rule (tenant_id, name, definition) values ($1, 'Failed logins', $2)`, [
      tenantId,
      JSON.stringify({ match: { kind: 'security_alert', category: 'login_failed' }, threshold: { count: 3, withinMinutes: 10 }, channels: [{ type: 'webhook', url: `http://127.0.0.1:${portOf(failing)}/hook`, secret }] }),
    ]);
    await db().sql.transaction((tx) =>
      ingestBatch((s, p) => tx.query(s, p), {
        tenantId,
        installationId,
        keyring: testKeyring,
        sourceRecords: [],
        activities: [
          activity('r1', 'transaction', 'refund', '2026-11-20T10:00:00Z', 'c1', ['250', 'EUR']),
          activity('r2', 'transaction', 'refund', '2026-11-20T10:05:00Z', 'c1', ['50', 'EUR']),
          activity('l1', 'security_alert', 'login_failed', '2026-11-20T11:00:00Z', 'c2'),
          activity('l2', 'security_alert', 'login_failed', '2026-11-20T11:01:00Z', 'c2'),
          activity('l3', 'security_alert', 'login_failed', '2026-11-20T11:02:00Z', 'c2'),
          activity('l4', 'security_alert', 'login_failed', '2026-11-20T11:03:00Z', 'c2'),
        ],
      }),
    );
    const t0 = new Date('2026-11-20T12:00:00Z');
    // The refund of 250 fires on both channels; the third failed login fires once, the fourth is suppressed.
    expect(await evaluateTriggers(db().sql, testKeyring, tenantId, t0)).toEqual({ queued: 3, suppressed: 1 });
    expect(await evaluateTriggers(db().sql, testKeyring, tenantId, t0)).toEqual({ queued: 0, suppressed: 0 });

    expect(await deliverNotifications(db().sql, options, t0)).toEqual({ sent: 2, failed: 1, dead: 0, held: 0 });
    expect(mails.map((m) => [m.to, m.subject])).toEqual([[['ops@acme.example'], '[Ledgerline] Large refund: refund for c1']]);
    const [hook] = hooks;
    expect(hook!.signature).toBe(`sha256=${createHmac('sha256', secret).update(`${hook!.timestamp}.${hook!.body}`).digest('hex')}`);
    expect(JSON.parse(hook!.body)).toMatchObject({ message: 'Large refund: refund for c1', subject: { objectType: 'contact', externalId: 'c1' } });
    // Retries at 1 s and 2 s, then the dead letter.
    expect(await deliverNotifications(db().sql, options, new Date(t0.getTime() + 1_000))).toEqual({ sent: 0, failed: 1, dead: 0, held: 0 });
    expect(await deliverNotifications(db().sql, options, new Date(t0.getTime() + 3_000))).toEqual({ sent: 0, failed: 0, dead: 1, held: 0 });

    // The webhook notification is acknowledged in time; the e-mail one is not and escalates.
    const [webhookNotification] = await db().sql.query<{ id: string }>(`select id from notification where rule_id = $1 and channel ->> 'type' = 'webhook'`, [refundRule!.id]);
    await acknowledgeNotification(db().sql, tenantId, webhookNotification!.id, 'ops@acme.example', new Date(t0.getTime() + 60_000));
    await expect(acknowledgeNotification(db().sql, tenantId, webhookNotification!.id, 'again', t0)).rejects.toThrow(/is acknowledged/);
    const late = new Date(t0.getTime() + 31 * 60_000);
    expect(await escalateOverdue(db().sql, options, late)).toBe(1);
    expect(await deliverNotifications(db().sql, options, late)).toEqual({ sent: 1, failed: 0, dead: 0, held: 0 });
    expect(mails.at(-1)).toMatchObject({ to: ['lead@acme.example'], subject: expect.stringMatching(/Not acknowledged by 2026-11-20T12:30:00.000Z: Large refund/) });

    const kinds = (await listEntries((s, p) => db().sql.query(s, p), tenantId, { limit: 1000 })).map((e) => e.kind).filter((k) => k.startsWith('notification.'));
    // Each round's entries in the order the rounds ran (within the first delivery round, in any order).
    expect(kinds.slice(0, 4)).toEqual(['notification.queued', 'notification.queued', 'notification.queued', 'notification.suppressed']);
    expect([...kinds.slice(4, 7)].sort()).toEqual(['notification.failed', 'notification.sent', 'notification.sent']);
    expect(kinds.slice(7)).toEqual(['notification.failed', 'notification.dead', 'notification.acknowledged', 'notification.escalated', 'notification.sent']);
    const dead = (await listEntries((s, p) => db().sql.query(s, p), tenantId, { kind: 'notification.dead' }))[0]!;
    expect(dead.body).toMatchObject({ attempt: 3, reason: 'the webhook answered HTTP 500', channel: { type: 'webhook' } });
    expect(JSON.stringify(dead.body)).not.toContain(secret);
    expect((await verifyChain((s, p) => db().sql.query(s, p), tenantId)).ok).toBe(true);

    // Every panel showing this customer shows the obligation nobody met.
    await db().sql.query(`insert into source_record (tenant_id, installation_id, object_type, external_id, content_hash, payload, canonical) values ($1, $2, 'contact', 'c1', 'h', '{}', '{"persons": [{"displayName": "C One"}]}')`, [tenantId, installationId]);
    const summary = await buildSummary(db().sql, testKeyring, { tenantId, installationId, subject: { kind: 'person', objectType: 'contact', externalId: 'c1' }, now: late, reportUrl: 'https://ledgerline.test/r' });
    expect(summary.alerts.filter((a) => a.message.startsWith('Large refund'))).toEqual([
      { severity: 'critical', message: 'Large refund: refund for c1 (to be acknowledged by 2026-11-20T12:30:00.000Z; escalated)', occurredAt: expect.any(String) },
    ]);
  });

  it('holds a notification through quiet hours, records that, and sends it when they end', async () => {
    mails.length = 0;
    const { tenantId, installationId } = await seedInstallation(db(), { platform: 'hubspot' });
    await db().sql.query(`insert into trigger_rule (tenant_id, name, definition) values ($1, 'Cancellation', $2)`, [
      tenantId,
      JSON.stringify({ match: { category: 'cancellation' }, channels: [{ type: 'email', to: ['ops@acme.example'] }], quietHours: { from: '22:00', to: '07:00', timeZone: 'Europe/Berlin' } }),
    ]);
    await db().sql.transaction((tx) =>
      ingestBatch((s, p) => tx.query(s, p), { tenantId, installationId, sourceRecords: [], activities: [activity('x1', 'subscription', 'cancellation', '2026-11-20T22:30:00Z', 'c9')], keyring: testKeyring }),
    );
    const night = new Date('2026-11-20T22:31:00Z'); // 23:31 in Berlin
    await evaluateTriggers(db().sql, testKeyring, tenantId, night);
    expect(await deliverNotifications(db().sql, options, night)).toEqual({ sent: 0, failed: 0, dead: 0, held: 1 });
    expect(mails).toEqual([]);
    const [held] = await listEntries((s, p) => db().sql.query(s, p), tenantId, { kind: 'notification.held' });
    expect(held!.body).toMatchObject({ reason: 'quiet hours', until: '2026-11-21T06:00:00.000Z' });
    expect(await deliverNotifications(db().sql, options, new Date('2026-11-21T05:59:00Z'))).toEqual({ sent: 0, failed: 0, dead: 0, held: 0 });
    expect(await deliverNotifications(db().sql, options, new Date('2026-11-21T06:00:00Z'))).toEqual({ sent: 1, failed: 0, dead: 0, held: 0 });
    expect(mails.map((m) => m.to)).toEqual([['ops@acme.example']]);
  });
});
