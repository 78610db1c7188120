/**
 * The parts of a summary that are read live every time, also when the rest comes from a snapshot
 * (summary-snapshot.ts): the sources with their sync health, and the open notifications about the
 * subject. Both read the subject's member records (installation_id, object_type, external_id): by
 * default a `members` relation the statement around them defines, or the SQL expressions given.
 * They take the SQL expressions of the tenant and the subject's installation ($1 and $2 unless the
 * statement says otherwise).
 */

/** The installations the subject's records come from, with their sync state. */
export const sourcesJson = (tenant = '$1', installation = '$2::uuid', members = 'members'): string => `(select coalesce(json_agg(json_build_object('platform', i.platform, 'installation_id', i.id, 'account_name', i.display_name,
            'last_synced_at', (select min(last_success_at) from sync_state s where s.installation_id = i.id),
            'status', (select (array_agg(status order by case status when 'dead' then 0 when 'failed' then 1 when 'running' then 2 when 'waiting' then 3 else 4 end))[1]
                         from sync_state s where s.installation_id = i.id))
          order by i.platform), '[]')
     from installation i where i.tenant_id = ${tenant} and (i.id = ${installation} or i.id in (select m.installation_id from ${members} as m(installation_id, object_type, external_id))))`;

/** Where a summary's notifications (and security alerts) begin: 30 days before `now`. */
export function notificationsSince(now: Date): string {
  return new Date(now.getTime() - 30 * 86_400_000).toISOString();
}

/** Notifications about this customer that nobody has acknowledged yet (an obligation still open), created since `since`. */
export const notificationsJson = (since: string, tenant = '$1', members = 'members'): string => `(select coalesce(json_agg(json_build_object('message', n.message, 'status', n.status, 'due_at', n.due_at, 'created_at', n.created_at) order by n.created_at desc), '[]')
     from (select n.message, n.status, n.due_at, n.created_at from notification n
             join ${members} as m(installation_id, object_type, external_id) on n.subject ->> 'installationId' = m.installation_id::text and n.subject ->> 'objectType' = m.object_type and n.subject ->> 'externalId' = m.external_id
            where n.tenant_id = ${tenant} and n.status <> 'acknowledged' and n.created_at >= ${since}
            order by n.created_at desc limit 10) n)`;
