import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, openPostgresStore, openStore } from '../../src/server/store/index.js';
import type { SqlStore, SqlStoreOptions } from '../../src/server/store/index.js';
import { storeContract } from './store-contract.js';

export const PG_URL = process.env['OMADM_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';

const schemas: string[] = [];
afterAll(async () => {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

storeContract('PostgreSQL', () => {
  const schema = `omadm_test_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  const opened: SqlStore[] = [];
  const open = async (options: SqlStoreOptions) => {
    const store = await openPostgresStore({ ...options, connection: PG_URL, schema });
    opened.push(store);
    return store;
  };
  return {
    open,
    openSecond: open,
    cleanup: async () => {
      for (const store of opened) await store.close();
    },
  };
});

describe('PostgreSQL store specifics', () => {
  it('openStore picks PostgreSQL for a postgres:// location, creating and migrating the named schema', async () => {
    const schema = `omadm_test_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    const store = await openStore(PG_URL, { schema });
    try {
      expect(store.driver.dialect).toBe('postgres');
      expect(
        await store.driver.all(`SELECT to_regclass(?) IS NOT NULL AS ok`, [`${schema}.omadm_migrations`]),
      ).toEqual([{ ok: true }]);
    } finally {
      await store.close();
    }
  });

  it('two processes migrating a fresh schema at once both end up open on one migrated schema', async () => {
    const schema = `omadm_test_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    const stores = await Promise.all([0, 1].map(() => openPostgresStore({ connection: PG_URL, schema })));
    try {
      const rows = await stores[0]!.driver.all(`SELECT count(*) AS n FROM omadm_migrations`);
      expect(rows).toEqual([{ n: MIGRATIONS.length }]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
