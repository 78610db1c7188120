import { Migration } from '@mikro-orm/migrations';

/**
 * Upstream merges a platform reports only as an event (a Zendesk user merge moves the duplicate's
 * tickets to the survivor) are stored as `merged` profile changes; identity resolution reads them
 * per tenant, and those recorded since its last run, through this index.
 */
export class Migration20261202001200_upstream_merges extends Migration {
  override up(): void {
    this.addSql(`create index activity_upstream_merge on activity (tenant_id, recorded_at) where kind = 'profile_change' and category = 'merged'`);
  }

  override down(): void {
    this.addSql(`drop index activity_upstream_merge`);
  }
}
