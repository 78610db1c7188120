import { Migration } from '@mikro-orm/migrations';

/**
 * The two timelines panels and reports read: everything about a subject, newest first, and
 * everything belonging to a driver (a ticket, deal or order) in order. Currencies are ISO 4217 codes.
 */
export class Migration20261122000200_activity_timelines extends Migration {
  override up(): void {
    this.addSql(`alter table activity alter column currency type char(3)`);
    this.addSql(`drop index activity_subject_time`);
    this.addSql(`create index activity_subject_timeline on activity (tenant_id, subject_object_type, subject_external_id, occurred_at desc)`);
    // Most activities have no driver; leaving them out keeps this index small.
    this.addSql(
      `create index activity_driver_timeline on activity (tenant_id, driver_object_type, driver_external_id, occurred_at) where driver_external_id is not null`,
    );
  }
}
