/**
 * JSON Canonicalization Scheme (RFC 8785): the one serialisation of a JSON value that the ledger
 * hashes. Object members sorted by their names' UTF-16 code units, no whitespace, numbers as
 * ECMAScript prints them, strings escaped as JSON.stringify does. Values JSON cannot carry
 * (non-finite numbers, lone surrogates, functions, undefined inside arrays) are refused rather than
 * silently changed, so what is hashed is exactly what is stored.
 */
import { LedgerlineError } from '../errors/index.ts';

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function refuse(path: string, why: string): never {
  throw new LedgerlineError('LL_INVALID_INPUT', `canonical JSON: ${path || 'value'} ${why}`, { details: { field: path || 'value' } });
}

function serialize(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) refuse(path, `is ${value}, which JSON cannot represent`);
      return JSON.stringify(value);
    case 'string':
      if (loneSurrogate.test(value)) refuse(path, 'holds a lone surrogate');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v, i) => (v === undefined ? refuse(`${path}[${i}]`, 'is undefined') : serialize(v, `${path}[${i}]`))).join(',')}]`;
      if (value instanceof Date) return serialize(value.toISOString(), path);
      const members = Object.keys(value)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${members.map((k) => `${serialize(k, path)}:${serialize((value as Record<string, unknown>)[k], path ? `${path}.${k}` : k)}`).join(',')}}`;
    }
    default:
      return refuse(path, `is a ${typeof value}`);
  }
}

export function canonicalize(value: unknown): string {
  return serialize(value, '');
}
