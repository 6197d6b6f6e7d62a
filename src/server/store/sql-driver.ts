/**
 * The little a SQL store needs from a database driver (Kysely-style: declare the subset, nothing more).
 * SQL is written once with `?` placeholders; the PostgreSQL driver numbers them (`$1`, `$2`, …).
 * Values: strings, numbers, null and Buffers (BLOB / BYTEA); arrays of strings on PostgreSQL only (`?::text[]`).
 * BIGINT columns come back as numbers.
 */
export type SqlValue = string | number | null | Buffer | readonly string[];
export type Row = Record<string, unknown>;

export interface SqlExecutor {
  /** Rows of a query (SELECT, or a write with RETURNING). */
  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** Runs a write; `changes` is the number of rows written. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

export interface SqlQuery {
  readonly sql: string;
  readonly params: readonly SqlValue[];
}

/** One query's outcome in `readMany`: its rows, or what it threw (the others are unaffected). */
export type ReadOutcome = { readonly rows: Row[] } | { readonly error: unknown };

export interface SqlDriver extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Runs read-only queries back to back in one read transaction (one snapshot, one lock round trip). Offered by
   * drivers for which that is cheaper than the queries one by one (SQLite, in process); see read-batcher.ts.
   */
  readMany?(queries: readonly SqlQuery[]): Promise<ReadOutcome[]>;
  close(): Promise<void>;
}
