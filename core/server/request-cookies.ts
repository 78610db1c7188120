/**
 * Reading the Cookie header. Express sets cookies but does not parse them, and the two cookies
 * the console uses do not justify another dependency.
 */
import type { Request } from 'express';

/** The value of one cookie, or undefined. Later duplicates lose, as browsers send the most specific first. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    const raw = pair.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    try {
      return decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Cookies the console sets: never readable by script, never sent cross-site, Secure over https. */
export function consoleCookieOptions(secure: boolean, maxAgeMs?: number) {
  return {
    httpOnly: true,
    sameSite: 'strict' as const,
    secure,
    path: '/',
    ...(maxAgeMs === undefined ? {} : { maxAge: maxAgeMs }),
  };
}
