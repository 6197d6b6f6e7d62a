/**
 * SQLite driver over better-sqlite3 (synchronous) with WAL, foreign keys and a statement cache.
 *
 * better-sqlite3 runs on the calling thread, so an `async` transaction body could interleave with another
 * connection's transaction on the same file in this process and dead-lock on SQLite's busy wait. Transactions
 * and statements are therefore serialised through one async mutex per database file in this process; other
 * processes are held off by SQLite's own locking (`busy_timeout`).
 */
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { ReadOutcome, Row, SqlDriver, SqlExecutor, SqlQuery, SqlValue } from './sql-driver.js';

/** FIFO async mutex: `run(fn)` waits for every earlier holder. */
class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #held = false;
  /** Holders waiting or running. */
  #users = 0;
  get held(): boolean {
    return this.#held;
  }
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((r) => (release = r));
    this.#users++;
    await previous;
    this.#held = true;
    try {
      return await fn();
    } finally {
      this.#held = false;
      this.#users--;
      release();
    }
  }
  /**
   * Runs a synchronous `fn` at once when nobody holds or waits for the mutex (nothing can interleave with a
   * synchronous call), else queued like `run`. Saves the promise hops of `run` on the common uncontended read.
   */
  runSync<T>(fn: () => T): Promise<T> {
    // The executor runs synchronously, and a throw becomes the rejection.
    if (this.#users === 0) return new Promise<T>((resolve) => resolve(fn()));
    return this.run(fn);
  }
}

const mutexes = new Map<string, { mutex: Mutex; users: number }>();

export interface SqliteDriverOptions {
  /** Milliseconds another process's lock is waited for. Default 5000. */
  readonly busyTimeoutMs?: number;
}

export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  readonly #key: string;
  readonly #mutex: Mutex;
  #closed = false;

  constructor(filename: string, options: SqliteDriverOptions = {}) {
    this.#db = new Database(filename);
    this.#db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    if (filename !== ':memory:' && filename !== '') this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('foreign_keys = ON');
    this.#key = filename === ':memory:' || filename === '' ? `:memory:${Math.random()}` : resolve(filename);
    const entry = mutexes.get(this.#key) ?? { mutex: new Mutex(), users: 0 };
    entry.users++;
    mutexes.set(this.#key, entry);
    this.#mutex = entry.mutex;
  }

  #statement(sql: string): Database.Statement {
    let stmt = this.#statements.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  #all(sql: string, params: readonly SqlValue[]): Row[] {
    const stmt = this.#statement(sql);
    if (!stmt.reader) {
      stmt.run(...params);
      return [];
    }
    return stmt.all(...params) as Row[];
  }

  #run(sql: string, params: readonly SqlValue[]): { changes: number } {
    return { changes: this.#statement(sql).run(...params).changes };
  }

  readonly #direct: SqlExecutor = {
    all: async (sql, params = []) => this.#all(sql, params),
    run: async (sql, params = []) => this.#run(sql, params),
  };

  all(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    return this.#mutex.runSync(() => this.#all(sql, params));
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return this.#mutex.runSync(() => this.#run(sql, params));
  }

  readMany(queries: readonly SqlQuery[]): Promise<ReadOutcome[]> {
    return this.#mutex.runSync(() => {
      // One read transaction: WAL takes its read lock (and reads the WAL index header) once, not per query.
      const grouped = queries.length > 1;
      if (grouped) this.#db.exec('BEGIN');
      try {
        return queries.map((query): ReadOutcome => {
          try {
            return { rows: this.#all(query.sql, query.params) };
          } catch (error) {
            return { error };
          }
        });
      } finally {
        if (grouped && this.#db.inTransaction) this.#db.exec('COMMIT');
      }
    });
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.#mutex.run(async () => {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.#direct);
        this.#db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#mutex.run(() => undefined);
    this.#db.close();
    const entry = mutexes.get(this.#key);
    if (entry !== undefined && --entry.users === 0) mutexes.delete(this.#key);
  }
}
