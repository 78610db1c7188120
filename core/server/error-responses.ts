/**
 * The one place HTTP errors are shaped. Everything that goes wrong in a request ends here as a
 * LedgerlineError; clients get `{ error: { code, message, field?, issues? } }` (or the error page),
 * and 5xx details (message, stack, cause) go to the log only.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { LedgerlineError, errorCodes, invalidInput, isLedgerlineError } from '../errors/index.ts';
import type { ErrorCode } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { transientDatabaseError } from '../store/index.ts';

export interface ErrorBody {
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly field?: string;
    readonly issues?: readonly { path: string; message: string }[];
  };
}

/** Errors raised by express's body parsers carry a `type` and a `status` (http-errors). */
const BodyParserError = z.object({ type: z.string(), status: z.number().int() });

const bodyParserCodes: Readonly<Record<string, { code: ErrorCode; message: string }>> = {
  'entity.parse.failed': { code: 'LL_INVALID_INPUT', message: 'The request body is not valid JSON.' },
  'entity.too.large': { code: 'LL_PAYLOAD_TOO_LARGE', message: 'The request body is larger than allowed.' },
  'charset.unsupported': { code: 'LL_UNSUPPORTED_MEDIA_TYPE', message: 'The request body charset is not supported.' },
  'encoding.unsupported': { code: 'LL_UNSUPPORTED_MEDIA_TYPE', message: 'The request body encoding is not supported.' },
  'request.aborted': { code: 'LL_INVALID_INPUT', message: 'The request body was not received completely.' },
  'request.size.invalid': { code: 'LL_INVALID_INPUT', message: 'The request body length does not match Content-Length.' },
};

/** Turns whatever was thrown into the LedgerlineError the client will see (before redaction). */
export function classifyRequestError(error: unknown): LedgerlineError {
  if (isLedgerlineError(error)) return error;
  if (error instanceof z.ZodError) return invalidInput('Request', error.issues);
  // A dropped database connection is "try again", not a bug: 503 LL_UNAVAILABLE.
  const transient = transientDatabaseError(error);
  if (transient !== null) return transient;
  const parsed = BodyParserError.safeParse(error);
  if (parsed.success) {
    const known = bodyParserCodes[parsed.data.type];
    if (known) return new LedgerlineError(known.code, known.message, { cause: error });
    if (parsed.data.status >= 400 && parsed.data.status < 500) {
      return new LedgerlineError('LL_INVALID_INPUT', 'The request could not be read.', { cause: error });
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return new LedgerlineError('LL_INTERNAL', message, { cause: error });
}

/** What a client may read: for 5xx only the code's fixed summary, never the internal message. */
export function errorBody(error: LedgerlineError): ErrorBody {
  const exposed = error.status < 500;
  const { field, issues } = error.details;
  return {
    error: {
      code: error.code,
      message: exposed ? error.message : errorCodes[error.code].summary,
      ...(exposed && field !== undefined ? { field } : {}),
      ...(exposed && issues !== undefined ? { issues } : {}),
    },
  };
}

/** Console routes set this so their errors render as a page, not JSON. */
export function renderErrorsAsHtml(_req: Request, res: Response, next: () => void): void {
  res.locals.htmlErrors = true;
  next();
}

function wantsHtml(req: Request, res: Response): boolean {
  if (res.locals.htmlErrors === true) return true;
  if (req.path.startsWith('/api/')) return false;
  return req.accepts(['json', 'html']) === 'html';
}

/** Unknown routes: a LedgerlineError like any other, so they share the shape and the metrics. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new LedgerlineError('LL_NOT_FOUND', `No route for ${req.method} ${req.path}.`));
};

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (thrown: unknown, req, res, next) => {
    const error = classifyRequestError(thrown);
    if (error.status >= 500) {
      log.error({ err: thrown, code: error.code, method: req.method, path: req.path }, 'request failed');
    } else {
      log.debug({ code: error.code, method: req.method, path: req.path, message: error.message }, 'request refused');
    }
    // Too late to send an error document; express closes the connection.
    if (res.headersSent) return next(thrown);
    const retryAfter = error.details.retryAfterSeconds;
    if (retryAfter !== undefined) res.set('Retry-After', String(Math.ceil(retryAfter)));
    if (error.code === 'LL_UNAUTHENTICATED') res.set('WWW-Authenticate', 'Bearer realm="ledgerline"');
    const body = errorBody(error);
    res.status(error.status);
    if (!wantsHtml(req, res)) return void res.json(body);
    res.render('error', { title: 'Error', status: error.status, ...body.error }, (renderError: Error | null, html?: string) => {
      if (renderError) {
        log.error({ err: renderError }, 'error page failed to render');
        return void res.type('text/plain').send(`${error.status} ${body.error.message}`);
      }
      res.type('html').send(html);
    });
  };
}
