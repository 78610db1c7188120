/**
 * Which database failures are worth retrying: a dropped or terminated connection, a server
 * restarting, a serialization conflict. They become LL_UNAVAILABLE (retryable); anything else is
 * left to the caller's taxonomy.
 */
import { LedgerlineError } from '../errors/index.ts';

// SQLSTATE classes 08 (connection exception), 57P0x (operator intervention), 40001/40P01 (retry the transaction).
const retryableStates = /^(08\d{3}|57P0[1-4]|40001|40P01|53300)$/;
const retryableMessages = /Connection terminated|connection (is )?closed|ECONNRESET|ECONNREFUSED|EPIPE|terminating connection/i;

function codeOf(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

export function isTransientDatabaseError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = codeOf(e);
    if (code && retryableStates.test(code)) return true;
    if (e instanceof Error && retryableMessages.test(e.message)) return true;
  }
  return false;
}

/** LL_UNAVAILABLE for transient database failures; null when the error is something else. */
export function transientDatabaseError(error: unknown): LedgerlineError | null {
  if (!isTransientDatabaseError(error)) return null;
  const message = error instanceof Error ? error.message : String(error);
  return new LedgerlineError('LL_UNAVAILABLE', `the database connection failed: ${message}`, { cause: error });
}
