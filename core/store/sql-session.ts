/**
 * Raw SQL the hot paths (bulk ingest, sync state, rate budgets) run, and a transaction that hands
 * back the same shape, so a batch, its checkpoint and its rejects commit together.
 *
 * Rows come back as the ORM's driver parses them: timestamps as strings (`new Date(row.at)`),
 * bigint and numeric as strings, jsonb as values.
 */
export interface SqlSession {
  query<Row extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T>;
}
