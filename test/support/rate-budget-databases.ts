/**
 * The store's fresh, migrated test databases (PGlite always, PostgreSQL when DATABASE_URL is set),
 * seen as the raw SQL executors the rate governor and token keeper take, through two separate
 * connection pools: two processes sharing one budget.
 */
import { openDatabase, type Database, type SqlExecutor } from '../../core/store/index.ts';
import { testDatabases } from './database.ts';

export interface RateBudgetDatabase {
  /** This "process"'s connection. */
  readonly sql: SqlExecutor;
  /** Another pool on the same database: a second process. */
  readonly otherProcess: SqlExecutor;
  close(): Promise<void>;
}

export interface DatabaseVariant {
  readonly label: string;
  /** Why this variant cannot run here; null when it can. */
  readonly skipReason: string | null;
  open(): Promise<RateBudgetDatabase>;
}

const executorOf = (db: Database): SqlExecutor => (text, params) => db.sql.query(text, params);

export function databaseVariants(): DatabaseVariant[] {
  return testDatabases().map((variant) => ({
    label: variant.label,
    skipReason: variant.skipReason,
    async open() {
      const main = await variant.open();
      const other = await openDatabase({ databaseUrl: main.connectionUrl, poolSize: 4 });
      return {
        sql: executorOf(main),
        otherProcess: executorOf(other),
        async close() {
          await other.close();
          await main.close();
        },
      };
    },
  }));
}
