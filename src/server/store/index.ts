export * from './store.js';
export * from './command-spec.js';
export { clientSecretDigest, normalizeUri } from './rows.js';
export { SqlStore, DEFAULT_RETENTION } from './sql-store.js';
export type { SqlStoreOptions } from './sql-store.js';
export { openStore, openSqliteStore, openPostgresStore, DEFAULT_SQLITE_PATH } from './open-store.js';
export { MIGRATIONS, migrate } from './migrations.js';
export type { Migration } from './migrations.js';
