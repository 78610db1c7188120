/**
 * The slice of the store the sync engine needs: raw SQL and a transaction that hands back the same
 * shape, so a batch, its checkpoint and its rejects commit together.
 */
export interface SqlSession {
  query<Row extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T>;
}
