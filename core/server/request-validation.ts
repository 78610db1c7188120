/**
 * The edge of every route: params, query and body go through zod once, and the handler works
 * with the typed result. A failure is LL_INVALID_INPUT naming the field.
 */
import type { Request } from 'express';
import type { z } from 'zod';
import { invalidInput } from '../errors/index.ts';

interface RequestSchemas {
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
}

type ParsedRequest<S extends RequestSchemas> = { [K in keyof S]: S[K] extends z.ZodType ? z.output<S[K]> : never };

const partNames = { params: 'Path parameter', query: 'Query parameter', body: 'Request body' } as const;

export function parseRequest<S extends RequestSchemas>(req: Request, schemas: S): ParsedRequest<S> {
  const out: Record<string, unknown> = {};
  for (const part of ['params', 'query', 'body'] as const) {
    const schema = schemas[part];
    if (schema === undefined) continue;
    const parsed = schema.safeParse(req[part]);
    if (!parsed.success) throw invalidInput(partNames[part], parsed.error.issues);
    out[part] = parsed.data;
  }
  return out as ParsedRequest<S>;
}
