/**
 * PostgreSQL driver over a `pg` Pool. BIGINT (int8) and NUMERIC counts are parsed as JavaScript numbers (all our
 * BIGINTs are millisecond times and row ids, far below 2^53). An optional schema is put first on the search path
 * of every connection, so tests (and tenants) can keep to their own schema.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Row, SqlDriver, SqlExecutor, SqlValue } from './sql-driver.js';

const INT8_OID = 20;

function getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
  return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
}

interface Prepared {
  readonly name: string;
  readonly text: string;
}
const prepared = new Map<string, Prepared>();
/**
 * `?` → `$1`, `$2`, … (our SQL never has `?` inside literals), and a statement name, so each connection parses
 * and plans a statement once and then only binds and executes it (the idle fast path's read is planned once).
 */
export function numberPlaceholders(sql: string): Prepared {
  let out = prepared.get(sql);
  if (out === undefined) {
    let n = 0;
    const text = sql.replace(/\?/g, () => `$${++n}`);
    out = { name: `omadm_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`, text };
    prepared.set(sql, out);
  }
  return out;
}

function executor(client: pg.Pool | pg.PoolClient): SqlExecutor {
  const query = (sql: string, params: readonly SqlValue[]) =>
    client.query({ ...numberPlaceholders(sql), values: params as SqlValue[] });
  return {
    all: async (sql, params = []) => (await query(sql, params)).rows as Row[],
    run: async (sql, params = []) => ({ changes: (await query(sql, params)).rowCount ?? 0 }),
  };
}

export interface PostgresDriverOptions {
  /** A connection string (`postgres://…`) or pg Pool configuration. */
  readonly connection: string | pg.PoolConfig;
  /** Schema to use (created if missing). Must be a plain identifier. */
  readonly schema?: string;
  readonly maxConnections?: number;
}

export function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain SQL identifier: ${name}`);
  return `"${name}"`;
}

export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  readonly schema: string | undefined;
  readonly #direct: SqlExecutor;

  constructor(options: PostgresDriverOptions) {
    const base: pg.PoolConfig =
      typeof options.connection === 'string'
        ? { connectionString: options.connection }
        : { ...options.connection };
    const config: pg.PoolConfig = { ...base, types: { getTypeParser } };
    if (options.maxConnections !== undefined) config.max = options.maxConnections;
    if (options.schema !== undefined)
      config.options = `-c search_path=${quoteIdentifier(options.schema)},public`;
    this.schema = options.schema;
    this.pool = new pg.Pool(config);
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on('error', () => undefined);
    this.#direct = executor(this.pool);
  }

  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    return this.#direct.all(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.#direct.run(sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(executor(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  #closing: Promise<void> | undefined;

  /** Idempotent (pg's `Pool.end` throws when called twice). */
  async close(): Promise<void> {
    this.#closing ??= this.pool.end();
    await this.#closing;
  }
}
