import { z } from 'zod';

/** `--tenant`: a tenant slug (its own module: the command registry imports every command). */
export const TenantSlugArg = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a tenant slug');
