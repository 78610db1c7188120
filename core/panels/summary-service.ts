/**
 * Answers panel requests and console previews with the summary query model. A panel request is
 * verified by its plugin, mapped to the active installation of that platform account, and every
 * access is appended to the tenant's ledger (`panel.viewed`: which platform user saw whose summary).
 */
import type { LoadedPlugin, Logger, InboundRequest, PanelSubject } from '../contract/index.ts';
import type { SubjectRef } from '../model/index.ts';
import { LedgerlineError } from '../errors/index.ts';
import { createBatcher, type SqlSession } from '../store/index.ts';
import { createGroupAppender } from '../ledger/group-append.ts';
import type { SubjectKeyring } from '../privacy/index.ts';
import { buildSummary, defaultTimelineLimit, summaryJsonFromSnapshot, type SummaryRequest } from './summary.ts';
import { activeInstallationsQuery, panelSnapshotOf, readPanelRows, type PanelInstallation, type PanelLookup, type PanelRow } from './summary-snapshot.ts';
import type { AccountSummary } from './summary-schema.ts';

export interface SummaryServiceOptions {
  readonly sql: SqlSession;
  /** Opens the personal fields of the activities a summary shows. */
  readonly keyring: SubjectKeyring;
  readonly plugins: readonly LoadedPlugin[];
  readonly publicUrl: string;
  readonly log: Logger;
  readonly now?: () => Date;
  /** Panel reads in flight at once (batched beyond that; see `createBatcher`). */
  readonly panelReadsInFlight?: number;
}

export interface Previewable {
  readonly kind: 'person' | 'account' | 'deal' | 'ticket';
  readonly objectType: string;
  readonly externalId: string;
  readonly label: string;
  readonly activities: number;
}

const driverTypes = new Set(['deal', 'ticket']);

/**
 * What a framed panel's verified first load grants (see `openFrameSession`): reads of this
 * installation's summaries on behalf of this platform user, from this host location.
 */
export interface FrameSessionGrant {
  readonly tenantId: string;
  readonly installationId: string;
  readonly plugin: string;
  readonly location: string;
  readonly platformAccountId: string;
  readonly platformUserId: string | null;
}

export interface FrameSummaryOptions {
  /** The period counts and RFM cover; the summary's default (the last 365 days) when omitted. */
  readonly period?: { readonly from: Date; readonly to: Date };
  /** Timeline length (the summary's default when omitted). */
  readonly limit?: number;
}

export function createSummaryService(options: SummaryServiceOptions) {
  const now = (): Date => options.now?.() ?? new Date();
  /** Panel views and session openings: many at once under load, so they are group-committed. */
  const ledger = createGroupAppender(options.sql, { now });
  /**
   * Panel views of people, many at once under load, so their reads are batched: each answer reads
   * as of its batch's moment, which is no earlier than its request's arrival.
   */
  const readPanel = createBatcher<PanelLookup, { row: PanelRow; at: Date }>(
    async (lookups) => {
      const at = now();
      return (await readPanelRows(options.sql, lookups, at)).map((row) => ({ row, at }));
    },
    { inFlight: options.panelReadsInFlight ?? 2 },
  );

  async function tenantSlug(tenantId: string): Promise<string> {
    const [row] = await options.sql.query<{ slug: string }>(`select slug from tenant where id = $1`, [tenantId]);
    if (!row) throw new LedgerlineError('LL_NOT_FOUND', 'no such tenant');
    return row.slug;
  }

  function previewPath(slug: string, installationId: string, subject: PanelSubject): string {
    const kind = subject.kind === 'driver' ? subject.type : subject.kind;
    return `/tenants/${encodeURIComponent(slug)}/installations/${encodeURIComponent(installationId)}/summaries/${kind}/${encodeURIComponent(subject.objectType)}/${encodeURIComponent(subject.externalId)}`;
  }

  function summaryRequest(tenantId: string, installationId: string, subject: PanelSubject, extra: FrameSummaryOptions, slug: string): SummaryRequest {
    return {
      tenantId,
      installationId,
      subject,
      now: now(),
      reportUrl: `${options.publicUrl}${previewPath(slug, installationId, subject)}`,
      ...(extra.period ? { period: extra.period } : {}),
      ...(extra.limit !== undefined ? { limit: extra.limit } : {}),
    };
  }

  async function summarize(tenantId: string, installationId: string, subject: PanelSubject, extra: FrameSummaryOptions = {}, knownSlug?: string): Promise<AccountSummary> {
    const slug = knownSlug ?? (await tenantSlug(tenantId));
    return buildSummary(options.sql, options.keyring, summaryRequest(tenantId, installationId, subject, extra, slug));
  }

  /** The one active installation among a platform account's, as panels find it. */
  function onlyInstallation(pluginId: string, platformAccountId: string, installations: readonly PanelInstallation[]): PanelInstallation {
    const [installation] = installations;
    if (!installation) throw new LedgerlineError('LL_NOT_FOUND', `${pluginId} account ${platformAccountId} has no active Ledgerline installation`);
    if (installations.length > 1) {
      throw new LedgerlineError('LL_CONFLICT', `${pluginId} account ${platformAccountId} is installed in ${installations.length} tenants; uninstall it from all but one`);
    }
    return installation;
  }

  /** The one active installation of a platform account, as panels find it. */
  async function activeInstallation(pluginId: string, platformAccountId: string): Promise<PanelInstallation> {
    const installations = await options.sql.query<PanelInstallation>(activeInstallationsQuery, [pluginId, platformAccountId], { prepared: true });
    return onlyInstallation(pluginId, platformAccountId, installations);
  }

  /**
   * A panel's summary of its verified subject, as the JSON text it is sent. A person's usually
   * comes from a current snapshot, read in the same statement as the account's installation (one
   * statement for all the panel views waiting at that moment); anything else, or a miss, is
   * computed by `buildSummary` (which keeps a person's snapshot for next time).
   */
  async function panelSummary(pluginId: string, verified: { platformAccountId: string; subject: PanelSubject }): Promise<{ installation: PanelInstallation; json: string }> {
    if (verified.subject.kind === 'person') {
      const lookup: PanelLookup = { platform: pluginId, platformAccountId: verified.platformAccountId, objectType: verified.subject.objectType, externalId: verified.subject.externalId, limit: defaultTimelineLimit };
      const { row, at } = await readPanel(lookup);
      const read = panelSnapshotOf(options.keyring, lookup, row);
      const installation = onlyInstallation(pluginId, verified.platformAccountId, read.installations);
      const request = { ...summaryRequest(installation.tenant_id, installation.id, verified.subject, {}, installation.slug), now: at };
      if (read.parts) return { installation, json: summaryJsonFromSnapshot(request, read.parts) };
      return { installation, json: JSON.stringify(await buildSummary(options.sql, options.keyring, { ...request, snapshots: 'missed' })) };
    }
    const installation = await activeInstallation(pluginId, verified.platformAccountId);
    return { installation, json: JSON.stringify(await summarize(installation.tenant_id, installation.id, verified.subject, {}, installation.slug)) };
  }

  async function appendPanelEntry(tenantId: string, kind: 'panel.viewed' | 'panel.session_opened', body: Record<string, unknown>): Promise<void> {
    await ledger.append(tenantId, { kind, body });
  }

  return {
    /** A host's panel request, verified by its plugin, answered with the summary as JSON text (recorded on the ledger first). */
    async forPanel(pluginId: string, request: InboundRequest): Promise<string> {
      const plugin = options.plugins.find((p) => p.connector.id === pluginId);
      if (!plugin?.connector.panel) throw new LedgerlineError('LL_NOT_FOUND', `plugin '${pluginId}' has no panel`);
      const verified = await plugin.connector.panel.verify(request, plugin.settings, now());
      const { installation, json } = await panelSummary(pluginId, verified);
      await appendPanelEntry(installation.tenant_id, 'panel.viewed', {
        plugin: pluginId,
        installationId: installation.id,
        platformAccountId: verified.platformAccountId,
        platformUserId: verified.userId,
        subject: { ...verified.subject },
      });
      options.log.info(
        { plugin: pluginId, tenant: installation.tenant_id, installation: installation.id, platformUser: verified.userId, subject: verified.subject },
        'summary served to a panel',
      );
      return json;
    },

    /**
     * A framed panel's first load (Zendesk's signed POST): verified by its plugin, for one of the
     * plugin's frame locations, mapped to the account's active installation like `forPanel`, and
     * recorded on the ledger (`panel.session_opened`: which platform user opened which location).
     * Nothing is recorded when verification fails.
     */
    async openFrameSession(pluginId: string, location: string, request: InboundRequest): Promise<FrameSessionGrant> {
      const plugin = options.plugins.find((p) => p.connector.id === pluginId);
      const panel = plugin?.connector.panel;
      if (!plugin || !panel) throw new LedgerlineError('LL_NOT_FOUND', `plugin '${pluginId}' has no panel`);
      if (!panel.locations.some((l) => l.host === location && l.render === 'frame')) {
        throw new LedgerlineError('LL_NOT_FOUND', `plugin '${pluginId}' has no framed panel at '${location}'`);
      }
      const verified = await panel.verify(request, plugin.settings, now());
      const installation = await activeInstallation(pluginId, verified.platformAccountId);
      const grant: FrameSessionGrant = {
        tenantId: installation.tenant_id,
        installationId: installation.id,
        plugin: pluginId,
        location,
        platformAccountId: verified.platformAccountId,
        platformUserId: verified.userId,
      };
      await appendPanelEntry(grant.tenantId, 'panel.session_opened', {
        plugin: pluginId,
        location,
        installationId: grant.installationId,
        platformAccountId: grant.platformAccountId,
        platformUserId: grant.platformUserId,
      });
      options.log.info({ plugin: pluginId, location, tenant: grant.tenantId, installation: grant.installationId, platformUser: grant.platformUserId }, 'panel session opened');
      return grant;
    },

    /**
     * The summary a framed panel asks for within its session: the installation must still be the
     * account's active one in that tenant; the access is recorded like `forPanel`'s (`panel.viewed`).
     */
    async forFrameSession(grant: FrameSessionGrant, subject: SubjectRef, summaryOptions: FrameSummaryOptions = {}): Promise<AccountSummary> {
      const [installation] = await options.sql.query<{ id: string; slug: string }>(
        `select i.id, t.slug from installation i join tenant t on t.id = i.tenant_id
          where i.id = $1 and i.tenant_id = $2 and i.platform = $3 and i.platform_account_id = $4 and i.status = 'active'`,
        [grant.installationId, grant.tenantId, grant.plugin, grant.platformAccountId],
        { prepared: true },
      );
      if (!installation) throw new LedgerlineError('LL_FORBIDDEN', `the ${grant.plugin} installation of this panel session is no longer active`);
      const summary = await summarize(grant.tenantId, grant.installationId, subject, summaryOptions, installation.slug);
      await appendPanelEntry(grant.tenantId, 'panel.viewed', {
        plugin: grant.plugin,
        location: grant.location,
        installationId: grant.installationId,
        platformAccountId: grant.platformAccountId,
        platformUserId: grant.platformUserId,
        subject: { ...subject },
      });
      options.log.info({ plugin: grant.plugin, tenant: grant.tenantId, installation: grant.installationId, platformUser: grant.platformUserId, subject }, 'summary served to a framed panel');
      return summary;
    },

    async preview(tenantId: string, installationId: string, subject: PanelSubject): Promise<AccountSummary> {
      const [installation] = await options.sql.query<{ id: string }>(`select id from installation where id = $1 and tenant_id = $2`, [installationId, tenantId]);
      if (!installation) throw new LedgerlineError('LL_NOT_FOUND', 'no such installation in this tenant');
      return summarize(tenantId, installationId, subject);
    },

    /** The installation's most active people, accounts and drivers, for the console's preview list. */
    async previewables(tenantId: string, installationId: string): Promise<Previewable[]> {
      const subjects = await options.sql.query<{ kind: 'person' | 'account'; object_type: string; external_id: string; n: string; canonical: { persons?: { displayName?: string; email?: string }[]; accounts?: { name?: string }[] } | null }>(
        `select s.kind, s.object_type, s.external_id, s.n::text, r.canonical from (
           select subject_kind as kind, subject_object_type as object_type, subject_external_id as external_id, count(*) as n
             from activity where tenant_id = $1 and installation_id = $2
            group by 1, 2, 3 order by n desc, 3 limit 40) s
         left join source_record r on r.tenant_id = $1 and r.installation_id = $2 and r.object_type = s.object_type and r.external_id = s.external_id
         order by s.kind desc, s.n desc, s.external_id`,
        [tenantId, installationId],
      );
      const drivers = await options.sql.query<{ driver_type: string; driver_object_type: string; driver_external_id: string; n: string; title: string | null }>(
        `select driver_type, driver_object_type, driver_external_id, count(*)::text as n, max(attributes -> 'driverState' ->> 'title') as title
           from activity where tenant_id = $1 and installation_id = $2 and driver_external_id is not null
          group by 1, 2, 3 order by count(*) desc, 3 limit 20`,
        [tenantId, installationId],
      );
      return [
        ...subjects.map((s) => ({
          kind: s.kind,
          objectType: s.object_type,
          externalId: s.external_id,
          label: s.canonical?.persons?.[0]?.displayName ?? s.canonical?.persons?.[0]?.email ?? s.canonical?.accounts?.[0]?.name ?? `${s.object_type} ${s.external_id}`,
          activities: Number(s.n),
        })),
        ...drivers
          .filter((d) => driverTypes.has(d.driver_type))
          .map((d) => ({
            kind: d.driver_type as 'deal' | 'ticket',
            objectType: d.driver_object_type,
            externalId: d.driver_external_id,
            label: d.title ?? `${d.driver_object_type} ${d.driver_external_id}`,
            activities: Number(d.n),
          })),
      ];
    },
  };
}
