import { afterAll, describe, expect, it } from 'vitest';
import { CommitBatcher } from '../../src/server/store/commit-batcher.js';
import { PostgresDriver } from '../../src/server/store/postgres-driver.js';
import type { SqlDriver } from '../../src/server/store/sql-driver.js';
import { SqliteDriver } from '../../src/server/store/sqlite-driver.js';
import { PG_URL, PgSchemas } from './support/pg-schemas.js';

const schemas = new PgSchemas();
afterAll(() => schemas.dropAll());

const drivers: Record<string, () => Promise<SqlDriver>> = {
  SQLite: async () => new SqliteDriver(':memory:'),
  PostgreSQL: async () => new PostgresDriver({ connection: PG_URL, schema: await schemas.create() }),
};

async function withCounters(open: () => Promise<SqlDriver>): Promise<SqlDriver> {
  const driver = await open();
  await driver.run(
    `CREATE TABLE counters (id TEXT PRIMARY KEY, value INTEGER NOT NULL CHECK (value < 1000))`,
  );
  for (const id of ['a', 'b', 'c', 'd'])
    await driver.run(`INSERT INTO counters (id, value) VALUES (?, 0)`, [id]);
  return driver;
}

const increment = (id: string, by: number) => async (tx: { run: SqlDriver['run'] }) =>
  (await tx.run(`UPDATE counters SET value = value + ? WHERE id = ?`, [by, id])).changes;

async function values(driver: SqlDriver): Promise<Record<string, number>> {
  const rows = await driver.all(`SELECT id, value FROM counters ORDER BY id`);
  return Object.fromEntries(rows.map((r) => [String(r['id']), Number(r['value'])]));
}

for (const [name, open] of Object.entries(drivers)) {
  describe(`CommitBatcher on ${name}`, () => {
    it('writes the commits submitted in one event-loop turn in one transaction, each caller getting its result', async () => {
      const driver = await withCounters(open);
      try {
        const batcher = new CommitBatcher(driver);
        const ids = ['d', 'a', 'c', 'b', 'a', 'd', 'x'];
        const results = await Promise.all(ids.map((id) => batcher.run(id, increment(id, 1))));
        // Unknown row 'x' changed nothing: its own result, not its neighbours'.
        expect(results).toEqual([1, 1, 1, 1, 1, 1, 0]);
        expect(batcher.stats).toEqual({ batches: 1, works: 7, retriedAlone: 0 });
        expect(await values(driver)).toEqual({ a: 2, b: 1, c: 1, d: 2 });
      } finally {
        await driver.close();
      }
    });

    it('runs a batch of one as the bare statement, and later turns as new batches', async () => {
      const driver = await withCounters(open);
      try {
        const batcher = new CommitBatcher(driver);
        expect(await batcher.run('a', increment('a', 5))).toBe(1);
        await Promise.all([batcher.run('b', increment('b', 1)), batcher.run('c', increment('c', 1))]);
        expect(batcher.stats).toEqual({ batches: 2, works: 3, retriedAlone: 0 });
        expect(await values(driver)).toEqual({ a: 5, b: 1, c: 1, d: 0 });
      } finally {
        await driver.close();
      }
    });

    it('a failing commit fails alone: the batch is rolled back and the others commit on their own', async () => {
      const driver = await withCounters(open);
      try {
        const batcher = new CommitBatcher(driver);
        const settled = await Promise.allSettled([
          batcher.run('a', increment('a', 1)),
          batcher.run('b', increment('b', 5000)), // violates the CHECK constraint
          batcher.run('c', increment('c', 1)),
        ]);
        expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect(batcher.stats.retriedAlone).toBe(3);
        // Exactly once each: the rolled-back batch left nothing behind.
        expect(await values(driver)).toEqual({ a: 1, b: 0, c: 1, d: 0 });
      } finally {
        await driver.close();
      }
    });

    it('splits a long queue into batches of maxBatch', async () => {
      const driver = await withCounters(open);
      try {
        const batcher = new CommitBatcher(driver, { maxBatch: 4 });
        await Promise.all(
          Array.from({ length: 10 }, (_, i) => batcher.run('abcd'[i % 4]!, increment('abcd'[i % 4]!, 1))),
        );
        expect(batcher.stats).toEqual({ batches: 3, works: 10, retriedAlone: 0 });
        expect(await values(driver)).toEqual({ a: 3, b: 3, c: 2, d: 2 });
      } finally {
        await driver.close();
      }
    });
  });
}
