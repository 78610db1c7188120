/**
 * The one error taxonomy of Ledgerline. Every failure that crosses a boundary (HTTP response, CLI
 * exit, job retry decision) is one of these codes; callers branch on `code`, never on a message.
 */

export const errorCodes = {
  LL_INVALID_INPUT: { status: 400, retryable: false, summary: 'The request or input is malformed or fails validation.' },
  LL_INVALID_CONFIG: { status: 500, retryable: false, summary: 'A setting is missing or malformed; Ledgerline will not start.' },
  LL_UNAUTHENTICATED: { status: 401, retryable: false, summary: 'No valid credentials were presented.' },
  LL_BAD_SIGNATURE: { status: 401, retryable: false, summary: 'A signature, token or HMAC did not verify, or is stale.' },
  LL_FORBIDDEN: { status: 403, retryable: false, summary: 'The caller may not do this for this tenant.' },
  LL_NOT_FOUND: { status: 404, retryable: false, summary: 'No such resource in this tenant.' },
  LL_CONFLICT: { status: 409, retryable: false, summary: 'The resource is in a state that does not allow this.' },
  LL_PAYLOAD_TOO_LARGE: { status: 413, retryable: false, summary: 'The request body is larger than allowed.' },
  LL_UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, summary: 'The request body has an unsupported content type.' },
  LL_RATE_LIMITED: { status: 429, retryable: true, summary: 'A rate budget is exhausted; retry after the indicated time.' },
  LL_AUTH_EXPIRED: { status: 401, retryable: true, summary: 'Platform credentials expired; a refresh is needed.' },
  LL_AUTH_REVOKED: { status: 401, retryable: false, summary: 'Platform credentials were revoked; the installation must be reinstalled.' },
  LL_INTEGRITY: { status: 500, retryable: false, summary: 'Stored data failed an integrity check (tampered or wrong key).' },
  LL_UPSTREAM: { status: 502, retryable: true, summary: 'A platform API failed or answered with something unexpected.' },
  LL_UNAVAILABLE: { status: 503, retryable: true, summary: 'A dependency (database, migrations) is not ready.' },
  LL_INTERNAL: { status: 500, retryable: false, summary: 'An unexpected internal error.' },
} as const satisfies Record<string, { status: number; retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof errorCodes;

export interface ErrorDetails {
  /** Where the problem is: a config setting, a field path, a header name. */
  readonly field?: string;
  /** Seconds after which a retry may succeed (rate limits). */
  readonly retryAfterSeconds?: number;
  /** Which plugin and hook raised it, when the engine ran plugin code. */
  readonly plugin?: string;
  readonly hook?: string;
  readonly issues?: readonly { path: string; message: string }[];
}

export class LedgerlineError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LedgerlineError';
    this.code = code;
    this.details = options.details ?? {};
  }

  get status(): number {
    return errorCodes[this.code].status;
  }

  get retryable(): boolean {
    return errorCodes[this.code].retryable;
  }
}

export function isLedgerlineError(error: unknown, code?: ErrorCode): error is LedgerlineError {
  return error instanceof LedgerlineError && (code === undefined || error.code === code);
}

/** Turns any thrown value into a LedgerlineError, keeping the original as `cause`. */
export function toLedgerlineError(error: unknown): LedgerlineError {
  if (error instanceof LedgerlineError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new LedgerlineError('LL_INTERNAL', message, { cause: error });
}

/** Tags an error raised inside plugin code with the plugin and hook that threw it. */
export function inPlugin(plugin: string, hook: string, error: unknown): LedgerlineError {
  const base = toLedgerlineError(error);
  return new LedgerlineError(base.code, `${plugin}.${hook}: ${base.message}`, {
    cause: error,
    details: { ...base.details, plugin, hook },
  });
}

interface IssueLike {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** Renders zod issues as one readable line and keeps them as structured details. */
export function invalidInput(what: string, issues: readonly IssueLike[], field?: string): LedgerlineError {
  const flat = issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const first = flat[0];
  const where = field ?? first?.path ?? '';
  const line = first ? `${what}: ${first.path ? `${first.path}: ` : ''}${first.message}` : `${what} is invalid`;
  return new LedgerlineError('LL_INVALID_INPUT', line, {
    details: { issues: flat, ...(where ? { field: where } : {}) },
  });
}
