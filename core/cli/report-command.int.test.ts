/**
 * `ledgerline report` as a user runs it: a real process against a tenant seeded with activities,
 * on PostgreSQL when DATABASE_URL is set, else on the embedded database in a data directory.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli/run-cli.ts';
import { chromiumMissing } from '../../test/support/chromium.ts';
import { openPostgresTestDatabase, seedInstallation, testKeyring } from '../../test/support/database.ts';
import type { ActivityRecord } from '../model/index.ts';
import { createReportsService } from '../reports/index.ts';
import { createLogger } from '../log/index.ts';
import { ingestBatch, openDatabase, type Database } from '../store/index.ts';

// The key behind test/support's testKeyring, so the process opens what the seed sealed.
const encryptionKey = Buffer.alloc(32, 9).toString('base64');

function activity(person: string, kind: ActivityRecord['kind'], category: string, at: string, amount: string | null = null): ActivityRecord {
  return {
    kind,
    category,
    occurredAt: new Date(at),
    subject: { kind: 'person', objectType: 'contact', externalId: person },
    driver: null,
    source: { objectType: 'event', externalId: randomUUID() },
    discriminator: 'main',
    amount: amount ? { value: amount, currency: 'EUR' } : null,
    summary: `${category} by ${person}`,
    attributes: {},
  };
}

async function seed(db: Database): Promise<void> {
  const { tenantId, installationId } = await seedInstallation(db, { slug: 'acme', platform: 'hubspot' });
  const activities = [
    activity('ana', 'transaction', 'purchase', '2026-09-12T09:00:00Z', '120.00'),
    activity('ana', 'transaction', 'purchase', '2026-10-03T10:00:00Z', '80.50'),
    activity('ana', 'login', 'login', '2026-10-04T08:00:00Z'),
    activity('ben', 'transaction', 'purchase', '2026-10-08T11:30:00Z', '42.00'),
    activity('ben', 'transaction', 'refund', '2026-10-20T15:00:00Z', '12.00'),
    activity('ben', 'interaction', 'email', '2026-10-09T12:00:00Z'),
    activity('cleo', 'interaction', 'ticket', '2026-10-15T13:00:00Z'),
    activity('cleo', 'security_alert', 'failed_login', '2026-10-16T02:00:00Z'),
    activity('cleo', 'subscription', 'renewal', '2026-10-01T06:00:00Z', '19.00'),
    activity('dan', 'profile_change', 'email_changed', '2026-10-22T17:45:00Z'),
  ];
  await db.sql.transaction((tx) => ingestBatch((s, p) => tx.query(s, p), { tenantId, installationId, sourceRecords: [], activities, keyring: testKeyring }));
  // Synced just now, so a requested report passes the quality check's freshness rule.
  await db.sql.query(`insert into sync_state (installation_id, stream, tenant_id, status, last_success_at) values ($1, 'contacts', $2, 'idle', now())`, [installationId, tenantId]);
}

/** What the worker does with due report requests, done here on the command's database. */
async function processDueReports(db: Database): Promise<number> {
  const reports = createReportsService({ sql: db.sql, keyring: testKeyring, mail: null, mailFrom: 'reports@acme.example', publicUrl: 'http://127.0.0.1:9', log: createLogger({ level: 'silent', name: 'report-cli-test' }) });
  return reports.workflow.processDue();
}

/** A migrated, seeded database and the environment that points the command at it. */
interface Target {
  readonly label: string;
  open(dir: string): Promise<{ env: Record<string, string>; processDue(): Promise<number>; close(): Promise<void> }>;
}

// One engine per run (each command is a process that opens the database, which is what takes the
// time): PostgreSQL when DATABASE_URL is set, the embedded database in a data directory otherwise.
const target: Target = process.env.DATABASE_URL
  ? {
      label: 'PostgreSQL',
      async open(dir) {
        const db = await openPostgresTestDatabase();
        await seed(db);
        return { env: { LEDGERLINE_DATA_DIR: dir, DATABASE_URL: db.connectionUrl }, processDue: () => processDueReports(db), close: () => db.close() };
      },
    }
  : {
      label: 'the embedded database',
      async open(dir) {
        const db = await openDatabase({ dataDir: dir });
        await db.migrate();
        await seed(db);
        // The command opens the data directory itself: one process at a time.
        await db.close();
        return {
          env: { LEDGERLINE_DATA_DIR: dir },
          async processDue() {
            const opened = await openDatabase({ dataDir: dir });
            try {
              return await processDueReports(opened);
            } finally {
              await opened.close();
            }
          },
          close: async () => {},
        };
      },
    };

if (!process.env.DATABASE_URL) console.info('[report command] on the embedded database; set DATABASE_URL to run it on PostgreSQL instead');
if (chromiumMissing) console.info(`[report command] the PDF test does not run: ${chromiumMissing}`);

describe(`ledgerline report on ${target.label}`, () => {
  let dir: string;
  let out: string;
  let env: Record<string, string>;
  let close: () => Promise<void> = async () => {};
  let processDue: () => Promise<number> = () => Promise.reject(new Error('not opened'));
  const report = (...args: string[]) => runCli(['report', ...args], env);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'll-report-cli-'));
    out = join(dir, 'out');
    mkdirSync(out);
    const opened = await target.open(dir);
    env = { ...opened.env, LEDGERLINE_ENCRYPTION_KEY: encryptionKey };
    close = () => opened.close();
    processDue = () => opened.processDue();
  }, 60_000);
  afterAll(async () => {
    await close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the template library with titles and section counts', async () => {
    const listed = await report('list');
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^account-activity\s+Account activity report \(12 sections, built in\)$/m);
    for (const slug of ['monthly-customer-summary', 'churn-review', 'support-load', 'security-review', 'segment-comparison']) expect(listed.stdout).toMatch(new RegExp(`^${slug}\\s`, 'm'));
  });

  it('runs the account activity report to CSV, with timed progress on stderr and the path and size on stdout', async () => {
    const file = join(out, 'october.csv');
    const run = await report('run', 'account-activity', '--period', '2026-10', '--format', 'csv', '--out', file);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')} \\(\\d+(\\.\\d)? (KB|bytes)\\)$`));
    expect(run.stderr).toMatch(/^\[\d+\.\d+s\] .*render csv$/m);
    expect(run.stderr).toMatch(/^\[\d+\.\d+s\] wrote csv$/m);
    const csv = readFileSync(file, 'utf8');
    const lines = csv.split('\r\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(20);
    // The seeded October purchases and the refund are in the transaction rows.
    expect(csv).toMatch(/,80\.5,EUR/);
    expect(csv).toMatch(/,2026-10-20T15:00:00[^,]*,hubspot,transaction,refund,/);
    expect(csv).not.toContain('120.00');
    // Written through a temp file renamed into place: nothing else is left behind.
    expect(readdirSync(out)).toEqual(['october.csv']);
  });

  it.skipIf(chromiumMissing !== null)(`renders the PDF through Chromium${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`, async () => {
    const file = join(out, 'october.pdf');
    const run = await report('run', 'account-activity', '--period', '2026-10', '--locale', 'de', '--tz', 'Europe/Berlin', '--out', file);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/render pdf/);
    expect(readFileSync(file).subarray(0, 5).toString('latin1')).toBe('%PDF-');
  }, 120_000);

  it('imports acquisition spend from a CSV file', async () => {
    const csvFile = join(dir, 'spend.csv');
    writeFileSync(csvFile, 'date,channel,currency,amount\n2026-10-01,search,EUR,250.00\n2026-10-01,social,EUR,99.50\n');
    const imported = await report('spend', 'import', csvFile);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/Imported 2 spend line\(s\) from .*spend\.csv \(0 replaced\)/);
  });

  it('requests a report for the portal, lists it through generation and delivery, then takes its acknowledgement and a dispute', async () => {
    const requested = await report('request', 'account-activity', '--period', '2026-10', '--delivery', 'portal', '--format', 'csv');
    expect(requested.code, requested.stderr).toBe(0);
    const id = /^Requested (\S+): account-activity 2026-10 \(csv\) by portal, due by \d{4}-\d\d-\d\dT/m.exec(requested.stdout)?.[1];
    expect(id, requested.stdout).toBeDefined();
    // Not delivered yet: nothing to acknowledge, and the refusal says why.
    const early = await report('acknowledge', id!);
    expect(early.code).not.toBe(0);
    expect(early.stderr).toMatch(/is requested: only a delivered or escalated report can be acknowledged/);

    expect(await processDue()).toBe(1);
    const listed = await report('requests', '--status', 'delivered', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ id, status: 'delivered', templateSlug: 'account-activity', delivery: 'portal', requestedVia: 'cli' }]);

    const acknowledged = await report('acknowledge', id!);
    expect(acknowledged.code, acknowledged.stderr).toBe(0);
    expect(acknowledged.stdout.trim()).toBe(`Acknowledged ${id}`);
    const noReason = await report('dispute', id!);
    expect(noReason.code).toBe(64);
    expect(noReason.stderr).toMatch(/--reason/);
    const disputed = await report('dispute', id!, '--reason', 'October refunds are missing');
    expect(disputed.code, disputed.stderr).toBe(0);
    expect(disputed.stdout.trim()).toBe(`Disputed ${id}`);
  });

  it('creates, lists and removes a weekly schedule, and refuses a bad local time naming the flag', async () => {
    const bad = await report('schedule', 'create', '--template', 'account-activity', '--recipient', 'ops@acme.example', '--cadence', 'weekly', '--at', '25:00');
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/--at|localTime/);

    const created = await report('schedule', 'create', '--template', 'account-activity', '--recipient', 'ops@acme.example', '--cadence', 'weekly', '--weekday', '1', '--at', '08:00', '--tz', 'Europe/Berlin', '--format', 'csv');
    expect(created.code, created.stderr).toBe(0);
    const id = /^Scheduled account-activity weekly at 08:00 Europe\/Berlin to ops@acme\.example: (\S+), first run (\S+)$/m.exec(created.stdout);
    expect(id, created.stdout).not.toBeNull();
    // Mondays at 08:00 in Berlin: 06:00 or 07:00 UTC, whichever the season says.
    const firstRun = new Date(id![2]!);
    expect(firstRun.getUTCDay()).toBe(1);
    expect([6, 7]).toContain(firstRun.getUTCHours());
    expect((await report('schedule', 'list')).stdout).toMatch(new RegExp(`^${id![1]}\\s+account-activity weekly at 08:00 Europe/Berlin to ops@acme.example by attachment \\(csv\\); next ${id![2]}$`, 'm'));

    const removed = await report('schedule', 'remove', id![1]!);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await report('schedule', 'list')).stdout.trim()).toBe('No schedules');
  });

  it('refuses a bad --period with exit 64, naming the flag, and writes nothing', async () => {
    const file = join(out, 'never.csv');
    const run = await report('run', 'account-activity', '--period', '2026-13', '--format', 'csv', '--out', file);
    expect(run.code).toBe(64);
    expect(run.stderr).toMatch(/--period: period '2026-13': no such month/);
    expect(run.stdout).toBe('');
    expect(existsSync(file)).toBe(false);
  });
});
