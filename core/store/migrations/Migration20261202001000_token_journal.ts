import { Migration } from '@mikro-orm/migrations';

/**
 * The token keeper's write-ahead journal (core/sync/token-keeper.ts). Platforms that rotate
 * refresh tokens (Zendesk, Shopify) delete the old pair the moment they answer a refresh, so the new
 * pair is written here — sealed like `installation.sealed_tokens`, in its own autocommit statement —
 * before anything else happens to it; then it is saved to the installation and the entry cleared.
 * An entry still present later is adopted by whichever keeper reads the installation next.
 *
 * `replaces_refresh_hash` is the SHA-256 of the refresh token the refresh used: an entry is adopted
 * only over exactly the pair it replaced, so an entry left from before a reinstall is discarded.
 * No foreign key, as for `token_refresh_lease`: the journal must accept its write whatever else
 * is happening to the installation row (a lock held by an install transaction, a status change).
 */
export class Migration20261202001000_token_journal extends Migration {
  override up(): void {
    this.addSql(`create table token_journal (
      installation_id uuid primary key,
      sealed_tokens text not null,
      replaces_refresh_hash text not null check (length(replaces_refresh_hash) = 64),
      obtained_at timestamptz not null default clock_timestamp()
    )`);
  }
}
