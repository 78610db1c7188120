/**
 * The template store on both databases: custom templates round-trip per tenant, the library cannot
 * be overwritten, bad definitions are refused naming the path, and every change is on the ledger.
 * Then the generator that runs them: template lookup, masking per role, one render per format.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation, testKeyring } from '../../test/support/database.ts';
import { listEntries } from '../ledger/ledger.ts';
import { ingestBatch } from '../store/index.ts';
import { createReportGenerator } from './generate.ts';
import type { PdfPrinter } from './render/index.ts';
import { ReportParameters, type TemplateDefinitionInput } from './report-model.ts';
import { createSegmentStore } from './segments.ts';
import { builtInTemplates, createTemplateStore, definitionSha256 } from './templates.ts';

const custom: TemplateDefinitionInput = {
  title: 'Weekly logins',
  sections: [{ type: 'kpis', metrics: ['failed_logins'] }, { type: 'summary', summary: 'login_history', limit: 10 }],
};

describeOnTestDatabases('report template store', (db) => {
  const ledger = (tenantId: string, kind: string) => listEntries((s, p) => db().sql.query(s, p), tenantId, { kind });

  it('saves, lists, reads, replaces and removes a tenant template, each change on the ledger', async () => {
    const { tenantId } = await seedInstallation(db());
    const other = await seedInstallation(db());
    const store = createTemplateStore(db().sql);

    const saved = await store.save(tenantId, 'weekly-logins', custom, 'ana@example.com');
    expect(saved).toMatchObject({ slug: 'weekly-logins', builtIn: false, definition: { title: 'Weekly logins', lost: { kind: 'inactive', days: 90 } } });
    expect(saved.updatedAt).toBeInstanceOf(Date);
    expect(await store.get(tenantId, 'weekly-logins')).toEqual(saved);
    const listed = await store.list(tenantId);
    expect(listed.map((t) => t.slug)).toEqual([...builtInTemplates.map((t) => t.slug), 'weekly-logins']);
    // Tenants do not see each other's templates.
    expect(await store.get(other.tenantId, 'weekly-logins')).toBeNull();
    expect((await store.list(other.tenantId)).length).toBe(builtInTemplates.length);

    const replaced = await store.save(tenantId, 'weekly-logins', { ...custom, title: 'Logins per week' }, 'ben@example.com');
    expect(replaced.definition.title).toBe('Logins per week');
    expect((await store.list(tenantId)).filter((t) => t.slug === 'weekly-logins')).toHaveLength(1);

    await store.remove(tenantId, 'weekly-logins', 'ana@example.com');
    expect(await store.get(tenantId, 'weekly-logins')).toBeNull();

    const savedEntries = await ledger(tenantId, 'template.saved');
    expect(savedEntries.map((e) => e.body)).toEqual([
      { slug: 'weekly-logins', by: 'ana@example.com', sha256: definitionSha256(saved.definition) },
      { slug: 'weekly-logins', by: 'ben@example.com', sha256: definitionSha256(replaced.definition) },
    ]);
    expect((await ledger(tenantId, 'template.removed')).map((e) => e.body)).toEqual([{ slug: 'weekly-logins', by: 'ana@example.com' }]);
    await expect(store.remove(tenantId, 'weekly-logins', 'ana@example.com')).rejects.toMatchObject({ code: 'LL_NOT_FOUND' });
  });

  it('refuses to overwrite or remove a built-in template (LL_CONFLICT) and writes nothing', async () => {
    const { tenantId } = await seedInstallation(db());
    const store = createTemplateStore(db().sql);
    await expect(store.save(tenantId, 'account-activity', custom, 'ana')).rejects.toMatchObject({ code: 'LL_CONFLICT' });
    await expect(store.remove(tenantId, 'churn-review', 'ana')).rejects.toMatchObject({ code: 'LL_CONFLICT' });
    expect((await store.get(tenantId, 'account-activity'))?.builtIn).toBe(true);
    expect(await db().sql.query(`select slug from report_template where tenant_id = $1`, [tenantId])).toEqual([]);
    expect(await ledger(tenantId, 'template.saved')).toEqual([]);
  });

  it('refuses a bad definition or slug with LL_INVALID_INPUT naming the path', async () => {
    const { tenantId } = await seedInstallation(db());
    const store = createTemplateStore(db().sql);
    const badSummary = { ...custom, sections: [{ type: 'kpis' }, { type: 'summary', summary: 'gossip' }] };
    await expect(store.save(tenantId, 'bad-one', badSummary, 'ana')).rejects.toMatchObject({ code: 'LL_INVALID_INPUT', details: { field: 'sections.1.summary' } });
    await expect(store.save(tenantId, 'bad-one', { ...custom, sections: [] }, 'ana')).rejects.toMatchObject({ code: 'LL_INVALID_INPUT', message: expect.stringContaining('sections') });
    await expect(store.save(tenantId, 'Bad Slug', custom, 'ana')).rejects.toMatchObject({ code: 'LL_INVALID_INPUT', details: { field: 'slug' } });
    expect(await store.get(tenantId, 'bad-one')).toBeNull();
  });

  it('accepts a segment comparison only over saved segments of the same tenant', async () => {
    const { tenantId } = await seedInstallation(db());
    const other = await seedInstallation(db());
    const definition = { name: 'VIP', conditions: [{ type: 'country', countries: ['DE'] }] };
    await db().sql.query(`insert into segment (tenant_id, slug, definition, updated_by) values ($1, 'vip', $2::jsonb, 'ana'), ($3, 'trial', $2::jsonb, 'ana')`, [tenantId, JSON.stringify(definition), other.tenantId]);
    const store = createTemplateStore(db().sql);
    const comparison = (segments: string[]) => ({ title: 'Compare', sections: [{ type: 'text', text: 'Side by side' }, { type: 'segment_comparison', segments, metrics: ['revenue'] }] });
    await expect(store.save(tenantId, 'compare', comparison(['vip', 'trial']), 'ana')).rejects.toMatchObject({
      code: 'LL_INVALID_INPUT',
      message: expect.stringContaining('no saved segment trial'),
      details: { field: 'sections.1.segments' },
    });
    expect((await store.save(tenantId, 'compare', comparison(['vip']), 'ana')).definition.sections[1]).toMatchObject({ segments: ['vip'] });
  });

  it('reports a stored definition the schema no longer accepts instead of trusting it', async () => {
    const { tenantId } = await seedInstallation(db());
    await db().sql.query(`insert into report_template (tenant_id, slug, definition, updated_by) values ($1, 'stale', '{"title":"Old","sections":[]}'::jsonb, 'ana')`, [tenantId]);
    await expect(createTemplateStore(db().sql).get(tenantId, 'stale')).rejects.toMatchObject({ code: 'LL_INTEGRITY', message: expect.stringContaining('stale') });
  });
});

describeOnTestDatabases('report generator', (db) => {
  const printed: string[] = [];
  const fakePrinter: PdfPrinter = {
    print: (html) => (printed.push(html), Promise.resolve(Buffer.from('%PDF-1.7 fake'))),
    close: () => Promise.resolve(),
  };
  const generator = () =>
    createReportGenerator({ sql: db().sql, keyring: testKeyring, templates: createTemplateStore(db().sql), segments: createSegmentStore(db().sql), printer: () => Promise.resolve(fakePrinter), now: () => new Date('2026-11-02T00:00:00Z') });
  const parameters = (input: Partial<ReportParameters> = {}) => ReportParameters.parse({ period: '2026-10', ...input });

  async function tenantWithLogin() {
    const { tenantId, installationId } = await seedInstallation(db(), { platform: 'hubspot' });
    const login = {
      kind: 'login' as const,
      category: 'login',
      occurredAt: new Date('2026-10-05T09:00:00Z'),
      subject: { kind: 'person' as const, objectType: 'contact', externalId: 'p1' },
      driver: null,
      source: { objectType: 'event', externalId: randomUUID() },
      discriminator: 'main',
      amount: null,
      summary: 'Signed in as grace.hopper@example.com',
      attributes: {},
    };
    await db().sql.transaction((tx) => ingestBatch((s, p) => tx.query(s, p), { tenantId, installationId, sourceRecords: [], activities: [login], keyring: testKeyring }));
    return tenantId;
  }

  it('collects, masks for the role, and renders every requested format from the same data, reporting each step', async () => {
    const tenantId = await tenantWithLogin();
    const steps: string[] = [];
    const run = (role: ReportParameters['role']) => generator()({ tenantId, templateSlug: 'security-review', parameters: parameters({ role }), formats: ['json', 'pdf', 'json'], onProgress: (step) => steps.push(step) });
    const forAdmin = await run('admin');
    expect(forAdmin.data.masking).toBe('none');
    expect(forAdmin.files.map((f) => f.format)).toEqual(['json', 'pdf']);
    expect(forAdmin.files[1]!.body.toString()).toBe('%PDF-1.7 fake');
    expect(JSON.stringify(forAdmin.data)).toContain('grace.hopper@example.com');
    expect(steps).toEqual(expect.arrayContaining(['mask: none', 'render json', 'render pdf']));
    expect(steps.indexOf('mask: none')).toBeLessThan(steps.indexOf('render json'));

    const forAnalyst = await run('analyst');
    expect(forAnalyst.data.masking).toBe('masked');
    const json = forAnalyst.files[0]!.body.toString();
    expect(json).not.toContain('grace.hopper@example.com');
    expect(printed.at(-1)).not.toContain('grace.hopper@example.com');
  });

  it('names a built-in template in the language of the run', async () => {
    const tenantId = await tenantWithLogin();
    const { data, files } = await generator()({ tenantId, templateSlug: 'security-review', parameters: parameters({ locale: 'de' }), formats: ['html'] });
    expect(data.template).toMatchObject({ slug: 'security-review', title: 'Sicherheitsüberprüfung' });
    expect(files[0]!.body.toString()).toContain('<title>Sicherheitsüberprüfung');
  });

  it('refuses an unknown template (LL_NOT_FOUND), bad parameters and no formats (LL_INVALID_INPUT)', async () => {
    const { tenantId } = await seedInstallation(db());
    const generate = generator();
    await expect(generate({ tenantId, templateSlug: 'no-such-report', parameters: parameters(), formats: ['json'] })).rejects.toMatchObject({ code: 'LL_NOT_FOUND' });
    const badParameters = { ...parameters(), locale: 'fr' } as unknown as ReportParameters;
    await expect(generate({ tenantId, templateSlug: 'account-activity', parameters: badParameters, formats: ['json'] })).rejects.toMatchObject({ code: 'LL_INVALID_INPUT', details: { field: 'locale' } });
    await expect(generate({ tenantId, templateSlug: 'account-activity', parameters: parameters(), formats: [] })).rejects.toMatchObject({ code: 'LL_INVALID_INPUT' });
  });

  it("compares the tenant's saved segments in the built-in segment comparison, and refuses to run without any", async () => {
    const { tenantId } = await seedInstallation(db());
    const generate = generator();
    const run = () => generate({ tenantId, templateSlug: 'segment-comparison', parameters: parameters(), formats: ['json'] });
    await expect(run()).rejects.toMatchObject({ code: 'LL_INVALID_INPUT', message: expect.stringContaining('save a segment') });
    const segments = createSegmentStore(db().sql);
    await segments.save(tenantId, 'germany', { name: 'Germany', conditions: [{ type: 'country', countries: ['DE'] }] }, 'ana');
    await segments.save(tenantId, 'buyers', { name: 'Buyers', conditions: [{ type: 'activity', kind: 'transaction', days: 365 }] }, 'ana');
    const report = await run();
    const comparison = report.data.sections.find((s) => s.type === 'segment_comparison');
    expect(comparison?.type === 'segment_comparison' ? comparison.columns.map((c) => c.segment) : []).toEqual(['buyers', 'germany']);
  });
});
