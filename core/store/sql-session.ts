/**
 * Raw SQL the hot paths (bulk ingest, sync state, rate budgets) run, and a transaction that hands
 * back the same shape, so a batch, its checkpoint and its rejects commit together.
 *
 * Rows come back as the ORM's driver parses them: timestamps as strings (`new Date(row.at)`),
 * bigint and numeric as strings, jsonb as values.
 */
export interface QueryOptions {
  /**
   * Run as a named prepared statement, so each pooled connection plans the text once instead of at
   * every call (PostgreSQL then settles on a generic plan when it costs no more than the custom
   * ones). For hot statements whose text is constant. Ignored inside transactions and on the
   * embedded database, whose connections share one session.
   */
  readonly prepared?: boolean;
}

export interface SqlSession {
  query<Row extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<Row[]>;
  transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T>;
}
