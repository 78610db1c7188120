/**
 * HTTP plumbing shared by the Zendesk emulator's handlers: the error that becomes a response,
 * request bodies (JSON or form, as Zendesk's /oauth/tokens takes both), and the rolling windows
 * its rate limits are counted in.
 */
import type { IncomingMessage } from 'node:http';

/** Thrown by a handler; the server answers with it. A string body is sent as text/plain. */
export class HttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** Zendesk's error body for API calls: `{"error": "RecordNotFound", "description": "Not found"}`. */
export const apiError = (status: number, error: string, description: string, headers: Readonly<Record<string, string>> = {}): HttpError =>
  new HttpError(status, { error, description }, headers);

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > 1_000_000) throw apiError(413, 'RequestTooLarge', 'Request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON object or an application/x-www-form-urlencoded body, as flat string fields. */
export function fieldsOf(body: string, contentType: string | undefined): Record<string, string> {
  if (body.trim() === '') return {};
  if ((contentType ?? '').includes('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new HttpError(400, { error: 'invalid_request', error_description: 'The request body is not valid JSON.' });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new HttpError(400, { error: 'invalid_request', error_description: 'The request body must be a JSON object.' });
    }
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
    }
    return out;
  }
  return Object.fromEntries(new URLSearchParams(body));
}

/** A rolling window of request instants (milliseconds on the real clock, already scaled). */
export class RollingWindow {
  private readonly times: number[] = [];
  readonly capacity: number;
  private readonly spanMs: number;
  constructor(capacity: number, spanMs: number) {
    this.capacity = capacity;
    this.spanMs = spanMs;
  }

  /** Takes a slot if one is free. `freesInMs`: how long until the oldest counted request leaves. */
  take(now: number): { ok: boolean; remaining: number; freesInMs: number } {
    while (this.times.length > 0 && (this.times[0] ?? 0) <= now - this.spanMs) this.times.shift();
    const ok = this.times.length < this.capacity;
    if (ok) this.times.push(now);
    const oldest = this.times[0] ?? now;
    return { ok, remaining: this.capacity - this.times.length, freesInMs: Math.max(0, oldest + this.spanMs - now) };
  }
}
