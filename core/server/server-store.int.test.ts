/**
 * The server over the real store: PGlite always, PostgreSQL too when DATABASE_URL is set.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedInstallation, testDatabases } from '../../test/support/database.ts';
import type { TestDatabase } from '../../test/support/database.ts';
import { createLogger } from '../log/index.ts';
import { openDatabase } from '../store/index.ts';
import { samplePlugins } from './server-test-harness.ts';
import type { ServerConfig } from './server-deps.ts';
import { startServer } from './start-server.ts';
import type { RunningServer } from './start-server.ts';
import { storeBackedDeps } from './store-backed-deps.ts';

const config: ServerConfig = {
  env: 'test',
  adminToken: undefined,
  publicUrl: 'http://localhost:3000',
  environment: {},
  encryptionKeySource: 'environment',
};
const log = createLogger({ level: 'silent' });
const json = { 'content-type': 'application/json' };

function serve(database: Parameters<typeof storeBackedDeps>[0]['database']): Promise<RunningServer> {
  return startServer(storeBackedDeps({ config, log, database, plugins: samplePlugins, frameAncestors: [] }), { port: 0, host: '127.0.0.1' });
}

for (const variant of testDatabases()) {
  describe.skipIf(variant.skipReason !== null)(`server over the store on ${variant.label}`, () => {
    let db: TestDatabase;
    let server: RunningServer;
    let seeded: { tenantId: string; installationId: string };
    const slug = `store-${randomUUID().slice(0, 8)}`;

    beforeAll(async () => {
      db = await variant.open();
      seeded = await seedInstallation(db, { slug, platform: 'zendesk', platformAccountId: 'acme.zendesk.com' });
      server = await serve(db);
    });
    afterAll(async () => {
      await server?.close();
      await db?.close();
    });

    it('is ready on a migrated database', async () => {
      const response = await fetch(`${server.url}/readyz`);
      expect(response.status).toBe(200);
    });

    it('creates tenants and answers 409 from the real unique constraint', async () => {
      const create = () => fetch(`${server.url}/api/v1/tenants`, { method: 'POST', headers: json, body: JSON.stringify({ slug: 'globex', name: 'Globex' }) });
      expect((await create()).status).toBe(201);
      const duplicate = await create();
      expect(duplicate.status).toBe(409);
      expect(((await duplicate.json()) as { error: { code: string; field: string } }).error).toMatchObject({ code: 'LL_CONFLICT', field: 'slug' });
      const listed = (await (await fetch(`${server.url}/api/v1/tenants`)).json()) as { tenants: { slug: string }[] };
      expect(listed.tenants.map((t) => t.slug).sort()).toEqual(['globex', slug].sort());
    });

    it('lists and reads installations inside their tenant only, honestly never synced', async () => {
      const listed = (await (await fetch(`${server.url}/api/v1/tenants/${slug}/installations`)).json()) as {
        installations: { id: string; sync: unknown; status: string }[];
      };
      expect(listed.installations).toHaveLength(1);
      expect(listed.installations[0]).toMatchObject({ id: seeded.installationId, status: 'active', sync: { status: null, lastSyncedAt: null } });
      const foreign = await fetch(`${server.url}/api/v1/tenants/globex/installations/${seeded.installationId}`);
      expect(foreign.status).toBe(404);
      const unknown = await fetch(`${server.url}/api/v1/tenants/${slug}/installations/${randomUUID()}`);
      expect(unknown.status).toBe(404);
    });

    it('renders the console rows from the store', async () => {
      const html = await (await fetch(`${server.url}/`)).text();
      expect(html).toContain(`/tenants/${slug}/installations/${seeded.installationId}`);
      expect(html).toContain('acme.zendesk.com');
      expect(html).toContain('never synced');
    });

    it('uninstalls through the API and the store remembers', async () => {
      const response = await fetch(`${server.url}/api/v1/tenants/${slug}/installations/${seeded.installationId}/uninstall`, { method: 'POST' });
      expect(response.status).toBe(200);
      const [row] = await db.sql.query<{ status: string; uninstalled: boolean; sealed_tokens: string | null }>(
        'select status, uninstalled_at is not null as uninstalled, sealed_tokens from installation where id = $1',
        [seeded.installationId],
      );
      expect(row).toEqual({ status: 'uninstalled', uninstalled: true, sealed_tokens: null });
    });
  });
}

describe('readiness over the embedded store', () => {
  it('answers 503 naming migrations before they run, 200 after, and 503 naming the database once it is closed', async () => {
    const db = await openDatabase({ inMemory: true });
    const server = await serve(db);
    try {
      const before = await fetch(`${server.url}/readyz`);
      expect(before.status).toBe(503);
      expect(((await before.json()) as { error: { field: string } }).error.field).toBe('migrations');
      await db.migrate();
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      await db.close();
      const after = await fetch(`${server.url}/readyz`);
      expect(after.status).toBe(503);
      expect(((await after.json()) as { error: { field: string } }).error.field).toBe('database');
    } finally {
      await server.close();
      await db.close();
    }
  });
});
