/**
 * JSON Canonicalization Scheme (RFC 8785): the one serialisation of a JSON value that the ledger
 * hashes. Object members sorted by their names' UTF-16 code units, no whitespace, numbers as
 * ECMAScript prints them, strings escaped as JSON.stringify does. Values JSON cannot carry
 * (non-finite numbers, lone surrogates, functions, undefined inside arrays) are refused rather than
 * silently changed, so what is hashed is exactly what is stored.
 */
import { LedgerlineError } from '../errors/index.ts';

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
      if (!value.isWellFormed()) refuse(path, 'holds a lone surrogate');
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

/** Thrown by the fast path; the careful path then says where and why. */
const notJson = new Error('not JSON');

// Most strings need no escaping: quote those directly, and only the rest through JSON.stringify.
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const needsEscape = /["\\\u0000-\u001f]/;
const quote = (text: string): string => (needsEscape.test(text) ? JSON.stringify(text) : `"${text}"`);
/** Member names repeat from entry to entry: quote each once. */
const quotedNames = new Map<string, string>();
const quoteName = (name: string): string => {
  let quoted = quotedNames.get(name);
  if (quoted === undefined) {
    if (!name.isWellFormed()) throw notJson;
    quoted = quote(name);
    if (quotedNames.size < 10_000) quotedNames.set(name, quoted);
  }
  return quoted;
};

function fast(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw notJson;
      return JSON.stringify(value);
    case 'string':
      if (!value.isWellFormed()) throw notJson;
      return quote(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          if (v === undefined) throw notJson;
          out += (i === 0 ? '' : ',') + fast(v);
        }
        return `${out}]`;
      }
      if (value instanceof Date) return quote(value.toISOString());
      const record = value as Record<string, unknown>;
      // The default sort compares UTF-16 code units, which is RFC 8785's order.
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = record[k];
        if (v === undefined) continue;
        out += `${first ? '' : ','}${quoteName(k)}:${fast(v)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw notJson;
  }
}

export function canonicalize(value: unknown): string {
  try {
    return fast(value);
  } catch (error) {
    if (error !== notJson) throw error;
    // Walk again, tracking the path, to name what JSON cannot carry.
    return serialize(value, '');
  }
}
