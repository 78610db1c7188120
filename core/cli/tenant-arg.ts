import { z } from 'zod';
import { createTenantDirectory, type Database, type TenantView } from '../store/index.ts';

/** `--tenant`: a tenant slug (its own module: the command registry imports every command). */
export const TenantSlugArg = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a tenant slug');

/**
 * The tenants a command works on: every tenant, or the one `--tenant` names. Null (after saying
 * so on stderr, as `ledgerline <command>: no tenant <slug>`) when the named one does not exist.
 */
export async function tenantsFor(command: string, db: Database, slug: string | undefined): Promise<TenantView[] | null> {
  const tenants = (await createTenantDirectory(() => db.fork()).list()).filter((t) => !slug || t.slug === slug);
  if (slug && tenants.length === 0) {
    console.error(`ledgerline ${command}: no tenant ${slug}`);
    return null;
  }
  return tenants;
}
