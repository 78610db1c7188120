/** Reading platforms' budget headers, for rate policies. */

/** The first of `names` that carries a finite number; undefined when none does. */
export function numericHeader(headers: Headers, ...names: string[]): number | undefined {
  for (const name of names) {
    const value = headers.get(name);
    if (value !== null && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  }
  return undefined;
}
