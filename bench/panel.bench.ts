/**
 * `npm run bench -- panel [--duration 20] [--warmup 5] [--connections 50] [--activities 1000000] [--accounts 10000] [--fresh] [--database-url URL]`
 *
 * The HubSpot card's summary request under load, over the large tenant (bench/support/large-tenant.ts):
 * the server assembled as `serve` assembles it, on loopback, and `connections` keep-alive clients
 * (in a load-generator thread of their own, so the server's event loop serves only the server)
 * each asking for a random contact's summary exactly as a HubSpot card does (GET
 * /panels/hubspot/summary, signed with X-HubSpot-Signature-v3), answer after answer, for
 * `duration` seconds after a warm-up. Every answer is verified, summarized and recorded on the
 * ledger as in production.
 *
 * Baseline, same run, same server, same pool, same middleware: a route the bench mounts next to
 * the panels that does one indexed SELECT (an activity by id). It is measured before and after the
 * summary; the worse of the two p99s is used. ratio = summary p99 ÷ baseline p99 (target ≤ 3, and
 * summary p99 < 100 ms). Any non-2xx answer is an error (target: none).
 */
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import express from 'express';
import { z } from 'zod';
import { frameAncestorsFor, loadPlugins } from '../core/contract/index.ts';
import { createLogger } from '../core/log/index.ts';
import { createSummaryService } from '../core/panels/summary-service.ts';
import { compactSummaryChanges, refreshSummaries } from '../core/panels/summary-refresh.ts';
import { startServer, storeBackedDeps, type RunningServer } from '../core/server/index.ts';
import { tuneHeapForServing } from '../core/server/heap-tuning.ts';
import { pluginSummary } from '../core/cli/serve-command.ts';
import { hubspotPortalId, largeTenantArgs, largeTenantKeyring, largeTenantOptions, openLargeTenant, type LargeTenant } from './support/large-tenant.ts';
import { runLoadInWorker, type LoadResult } from './support/load.ts';
import { benchHubspot, cardRequest, type CardRequestsArgs, type IndexedRequestsArgs } from './support/panel-requests.ts';
import type { BenchResult } from './run.ts';

const say = (text: string): void => void process.stderr.write(`${text}\n`);
const manifestPath = fileURLToPath(new URL('../plugin.manifest.json', import.meta.url));
const requestsModule = new URL('./support/panel-requests.ts', import.meta.url).href;

const PanelBenchOptions = z.object({
  duration: z.coerce.number().min(1).max(600),
  warmup: z.coerce.number().min(0).max(120),
  connections: z.coerce.number().int().min(1).max(500),
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const IndexedQuery = z.object({ id: z.string().regex(/^\d{1,18}$/, 'an activity id') });

/** The baseline: one primary-key SELECT through the same pool, behind the same middleware. */
function indexedSelectRoute(tenant: LargeTenant): express.Router {
  const router = express.Router();
  router.get('/bench/indexed', async (req, res) => {
    const query = IndexedQuery.safeParse(req.query);
    if (!query.success) {
      res.status(400).json({ error: { code: 'LL_INVALID_INPUT', message: query.error.issues[0]?.message ?? 'invalid query' } });
      return;
    }
    const rows = await tenant.db.sql.query<{ id: string }>(`select id::text from activity where tenant_id = $1 and id = $2`, [tenant.tenantId, query.data.id]);
    res.set('Cache-Control', 'private, no-store').json({ id: rows[0]?.id ?? null });
  });
  return router;
}

/** Ledgerline's server wired as `serve` wires it for panels: store-backed deps, the manifest's plugins, the summary service. */
async function startPanelServer(tenant: LargeTenant): Promise<RunningServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = createLogger({ level: 'silent', name: 'bench-panel' });
  const plugins = await loadPlugins(manifestPath, benchHubspot);
  const config = { env: 'production' as const, adminToken: 'bench-admin-token-not-used-by-panels', publicUrl: url, environment: benchHubspot, encryptionKeySource: 'environment' as const };
  const deps = storeBackedDeps({ config, log, database: tenant.db, plugins: plugins.map(pluginSummary), frameAncestors: frameAncestorsFor(plugins), panels: indexedSelectRoute(tenant) });
  const summaries = createSummaryService({ sql: tenant.db.sql, keyring: largeTenantKeyring, plugins, publicUrl: url, log });
  return startServer({ ...deps, summaries }, { port, host: '127.0.0.1' });
}

const SummaryAnswer = z.object({ subject: z.object({ displayName: z.string(), email: z.string().nullable() }), kpis: z.object({ activityCount: z.number() }), timeline: z.array(z.unknown()) });

/** One request by hand before the load: the card answers with this contact's summary. */
async function checkOneSummary(server: RunningServer, tenant: LargeTenant): Promise<void> {
  const person = tenant.persons[0]!;
  const { path, headers } = cardRequest(server.url, hubspotPortalId, person.contactId);
  const response = await fetch(`${server.url}${path}`, { headers });
  if (response.status !== 200) throw new Error(`the card request answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  const summary = SummaryAnswer.parse(await response.json());
  if (summary.subject.email !== person.email || summary.timeline.length === 0) {
    throw new Error(`the summary of contact ${person.contactId} is not that person's (${summary.subject.displayName}, ${summary.timeline.length} timeline items)`);
  }
  say(`  contact ${person.contactId}: ${summary.kpis.activityCount} activities in the last 365 days, ${summary.timeline.length} on the timeline`);
}

const describe = (name: string, r: LoadResult): string =>
  `  ${name}: ${r.requests.toLocaleString('en-US')} requests, ${Math.round(r.throughput)}/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, max ${r.maxMs.toFixed(1)} ms, ${r.errors} errors${r.errorSamples.length > 0 ? ` (${r.errorSamples.join(' | ')})` : ''}`;

export async function run(argv: string[]): Promise<BenchResult> {
  // The server's process is tuned as serve's and worker's are (openRuntime).
  tuneHeapForServing();
  const { values } = parseArgs({
    args: argv,
    options: { ...largeTenantArgs, duration: { type: 'string', default: '20' }, warmup: { type: 'string', default: '5' }, connections: { type: 'string', default: '50' } },
  });
  const load = PanelBenchOptions.parse(values);
  const tenant = await openLargeTenant(largeTenantOptions(values), say);
  let server: RunningServer | null = null;
  try {
    const [range] = await tenant.db.sql.query<{ low: string; high: string }>(`select min(id)::text as low, max(id)::text as high from activity where tenant_id = $1`, [tenant.tenantId]);
    const low = Number(range!.low);
    const span = Number(range!.high) - low + 1;
    // What serve and workers keep current after every sync: the people's summary snapshots.
    const started = performance.now();
    const refresh = await refreshSummaries(tenant.db.sql, largeTenantKeyring, tenant.tenantId, { limit: Number.MAX_SAFE_INTEGER });
    say(`  summary snapshots: ${refresh.refreshed.toLocaleString('en-US')} computed in ${((performance.now() - started) / 1000).toFixed(1)} s, ${refresh.current.toLocaleString('en-US')} current`);
    // …and compact as they do after each refresh: the change rows every stored snapshot has seen go.
    const compacted = await compactSummaryChanges(tenant.db.sql);
    say(`  summary changes: ${compacted.toLocaleString('en-US')} compacted`);
    server = await startPanelServer(tenant);
    const url = server.url;
    await checkOneSummary(server, tenant);
    const contacts = tenant.persons.map((p) => p.contactId);
    const options = { baseUrl: url, connections: load.connections, warmupMs: load.warmup * 1000, durationMs: load.duration * 1000 };
    say(`panel: ${load.connections} connections from a load-generator thread, ${load.warmup} s warm-up + ${load.duration} s per phase, ${contacts.length.toLocaleString('en-US')} contacts to pick from`);

    const indexed = { module: requestsModule, name: 'indexedRequests', args: { low, span } satisfies IndexedRequestsArgs };
    const baseline1 = await runLoadInWorker({ ...options, factory: indexed });
    say(describe('indexed SELECT', baseline1));
    const summary = await runLoadInWorker({ ...options, factory: { module: requestsModule, name: 'cardRequests', args: { serverUrl: url, portalId: hubspotPortalId, contacts } satisfies CardRequestsArgs } });
    say(describe('card summary', summary));
    const baseline2 = await runLoadInWorker({ ...options, factory: indexed });
    say(describe('indexed SELECT again', baseline2));

    const baseline = baseline1.p99Ms >= baseline2.p99Ms ? baseline1 : baseline2;
    const round = (n: number): number => Number(n.toFixed(2));
    return {
      bench: 'panel',
      metric: 'p99 ms of GET /panels/hubspot/summary (signed HubSpot card fetch, random contacts)',
      value: round(summary.p99Ms),
      baseline: 'p99 ms of an indexed SELECT by id behind the same server, pool and middleware (worse of a run before and after)',
      baselineValue: round(baseline.p99Ms),
      ratio: Number((summary.p99Ms / baseline.p99Ms).toFixed(2)),
      p50s: { summary: round(summary.p50Ms), baseline: round(baseline.p50Ms) },
      throughput: { summary: Math.round(summary.throughput), baseline: Math.round(baseline.throughput) },
      requests: { summary: summary.requests, baseline: baseline1.requests + baseline2.requests },
      errors: { summary: summary.errors, baseline: baseline1.errors + baseline2.errors },
      connections: load.connections,
      activities: tenant.activities,
      accounts: tenant.accounts,
      reusedTenant: tenant.reused,
      database: tenant.database,
    };
  } finally {
    await server?.close();
    await tenant.db.close();
  }
}
