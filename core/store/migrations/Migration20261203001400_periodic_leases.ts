import { Migration } from '@mikro-orm/migrations';

/**
 * Leases of background rounds one process at a time is enough for (core/scheduling/periodic-lease.ts):
 * who holds each and until when.
 */
export class Migration20261203001400_periodic_leases extends Migration {
  override up(): void {
    this.addSql(`create table periodic_lease (
      name text primary key,
      owner text not null,
      expires_at timestamptz not null
    )`);
  }

  override down(): void {
    this.addSql(`drop table periodic_lease`);
  }
}
