/**
 * Every committed migration, in order. Listed statically (no directory scan) so they run the same
 * from source under Node's type stripping and from any packaging.
 */
import { Migration20261122000000_initial } from './Migration20261122000000_initial.ts';
import { Migration20261122000100_sync } from './Migration20261122000100_sync.ts';
import { Migration20261122000200_activity_timelines } from './Migration20261122000200_activity_timelines.ts';
import { Migration20261123000300_install } from './Migration20261123000300_install.ts';
import { Migration20261123000400_ledger } from './Migration20261123000400_ledger.ts';
import { Migration20261123000500_identity } from './Migration20261123000500_identity.ts';
import { Migration20261123000600_triggers } from './Migration20261123000600_triggers.ts';
import { Migration20261202000700_privacy } from './Migration20261202000700_privacy.ts';
import { Migration20261202000800_ledger_archive } from './Migration20261202000800_ledger_archive.ts';
import { Migration20261202000900_identity_keys } from './Migration20261202000900_identity_keys.ts';
import { Migration20261202001000_token_journal } from './Migration20261202001000_token_journal.ts';
import { Migration20261202001100_reports } from './Migration20261202001100_reports.ts';
import { Migration20261202001200_upstream_merges } from './Migration20261202001200_upstream_merges.ts';
import { Migration20261202001300_summary_snapshots } from './Migration20261202001300_summary_snapshots.ts';
import { Migration20261203001400_periodic_leases } from './Migration20261203001400_periodic_leases.ts';

export const migrations = [
  { name: 'Migration20261122000000_initial', class: Migration20261122000000_initial },
  { name: 'Migration20261122000100_sync', class: Migration20261122000100_sync },
  { name: 'Migration20261122000200_activity_timelines', class: Migration20261122000200_activity_timelines },
  { name: 'Migration20261123000300_install', class: Migration20261123000300_install },
  { name: 'Migration20261123000400_ledger', class: Migration20261123000400_ledger },
  { name: 'Migration20261123000500_identity', class: Migration20261123000500_identity },
  { name: 'Migration20261123000600_triggers', class: Migration20261123000600_triggers },
  { name: 'Migration20261202000700_privacy', class: Migration20261202000700_privacy },
  { name: 'Migration20261202000800_ledger_archive', class: Migration20261202000800_ledger_archive },
  { name: 'Migration20261202000900_identity_keys', class: Migration20261202000900_identity_keys },
  { name: 'Migration20261202001000_token_journal', class: Migration20261202001000_token_journal },
  { name: 'Migration20261202001100_reports', class: Migration20261202001100_reports },
  { name: 'Migration20261202001200_upstream_merges', class: Migration20261202001200_upstream_merges },
  { name: 'Migration20261202001300_summary_snapshots', class: Migration20261202001300_summary_snapshots },
  { name: 'Migration20261203001400_periodic_leases', class: Migration20261203001400_periodic_leases },
];
