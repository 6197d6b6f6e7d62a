/**
 * Opening a store: pick the implementation from a location, connect, and migrate.
 * `./omadm.db` (default), any file path or `:memory:` → SQLite; `postgres://…` / `postgresql://…` → PostgreSQL.
 */

import { systemClock } from '../../platform/clock.js';
import { migrate } from './migrations.js';
import { PostgresDriver, quoteIdentifier } from './postgres-driver.js';
import type { PostgresDriverOptions } from './postgres-driver.js';
import { SqliteDriver } from './sqlite-driver.js';
import type { SqliteDriverOptions } from './sqlite-driver.js';
import { SqlStore } from './sql-store.js';
import type { SqlStoreOptions } from './sql-store.js';

export const DEFAULT_SQLITE_PATH = './omadm.db';

export async function openSqliteStore(
  filename: string = DEFAULT_SQLITE_PATH,
  options: SqlStoreOptions & SqliteDriverOptions = {},
): Promise<SqlStore> {
  const driver = new SqliteDriver(filename, options);
  try {
    await migrate(driver, (options.clock ?? systemClock).now());
  } catch (error) {
    await driver.close();
    throw error;
  }
  return new SqlStore(driver, options);
}

export async function openPostgresStore(options: SqlStoreOptions & PostgresDriverOptions): Promise<SqlStore> {
  const driver = new PostgresDriver(options);
  try {
    if (options.schema !== undefined) {
      await driver
        .run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(options.schema)}`)
        .catch(async (error: unknown) => {
          // Two processes creating the schema at once: the loser sees a duplicate; the schema exists either way.
          const exists = await driver.all(`SELECT 1 FROM pg_namespace WHERE nspname = ?`, [options.schema!]);
          if (exists.length === 0) throw error;
        });
    }
    await migrate(driver, (options.clock ?? systemClock).now());
  } catch (error) {
    await driver.close();
    throw error;
  }
  return new SqlStore(driver, options);
}

/** Opens the store a `--db` value names. `schema` applies to PostgreSQL only (default: the search path's first). */
export async function openStore(
  location: string = DEFAULT_SQLITE_PATH,
  options: SqlStoreOptions & { schema?: string } = {},
): Promise<SqlStore> {
  if (/^postgres(ql)?:\/\//i.test(location)) return openPostgresStore({ ...options, connection: location });
  return openSqliteStore(location, options);
}
