import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresDriver } from '../../src/server/store/postgres-driver.js';
import { ReadBatcher } from '../../src/server/store/read-batcher.js';
import type { SqlDriver } from '../../src/server/store/sql-driver.js';
import { SqliteDriver } from '../../src/server/store/sqlite-driver.js';
import { PG_URL, PgSchemas } from './support/pg-schemas.js';

const dir = mkdtempSync(join(tmpdir(), 'omadm-read-batcher-'));
const schemas = new PgSchemas();
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await schemas.dropAll();
});

async function withCounters(driver: SqlDriver): Promise<SqlDriver> {
  await driver.run(`CREATE TABLE counters (id TEXT PRIMARY KEY, value INTEGER NOT NULL)`);
  for (const [id, value] of [
    ['a', 1],
    ['b', 2],
    ['c', 3],
  ] as const)
    await driver.run(`INSERT INTO counters (id, value) VALUES (?, ?)`, [id, value]);
  return driver;
}

const VALUE = `SELECT value FROM counters WHERE id = ?`;
const valueOf = (rows: Record<string, unknown>[]): number | undefined =>
  rows[0] === undefined ? undefined : Number(rows[0]['value']);

describe('ReadBatcher on SQLite (WAL file, as the server runs)', () => {
  let n = 0;
  const open = async (): Promise<SqlDriver> => withCounters(new SqliteDriver(join(dir, `r${++n}.db`)));

  it('runs the reads submitted in one event-loop turn as one batch, each caller getting its own rows', async () => {
    const driver = await open();
    try {
      const batcher = new ReadBatcher(driver);
      const ids = ['c', 'a', 'x', 'b', 'a'];
      const rows = await Promise.all(ids.map((id) => batcher.all(VALUE, [id])));
      expect(rows.map(valueOf)).toEqual([3, 1, undefined, 2, 1]);
      expect(batcher.stats).toEqual({ batches: 1, reads: 5 });
      // Later turns are new batches; a batch of one works alike.
      expect(valueOf(await batcher.all(VALUE, ['b']))).toBe(2);
      expect(batcher.stats).toEqual({ batches: 2, reads: 6 });
    } finally {
      await driver.close();
    }
  });

  it('a failing read rejects only its own caller', async () => {
    const driver = await open();
    try {
      const batcher = new ReadBatcher(driver);
      const settled = await Promise.allSettled([
        batcher.all(VALUE, ['a']),
        batcher.all(`SELECT value FROM no_such_table WHERE id = ?`, ['a']),
        batcher.all(VALUE, ['c']),
      ]);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const [first, failed, third] = settled;
      expect(first?.status === 'fulfilled' ? valueOf(first.value) : first).toBe(1);
      expect(third?.status === 'fulfilled' ? valueOf(third.value) : third).toBe(3);
      expect(failed?.status === 'rejected' ? String(failed.reason) : failed).toMatch(/no_such_table/);
      // The read transaction was closed: writes go on.
      expect((await driver.run(`UPDATE counters SET value = 7 WHERE id = 'a'`)).changes).toBe(1);
    } finally {
      await driver.close();
    }
  });

  it('splits a long queue into batches of maxBatch', async () => {
    const driver = await open();
    try {
      const batcher = new ReadBatcher(driver, { maxBatch: 4 });
      const rows = await Promise.all(
        Array.from({ length: 10 }, (_, i) => batcher.all(VALUE, ['abc'[i % 3]!])),
      );
      expect(rows.map(valueOf)).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1]);
      expect(batcher.stats).toEqual({ batches: 3, reads: 10 });
    } finally {
      await driver.close();
    }
  });

  it('waits for a transaction in progress and sees what it committed', async () => {
    const driver = await open();
    try {
      const batcher = new ReadBatcher(driver);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const writing = driver.transaction(async (tx) => {
        await tx.run(`UPDATE counters SET value = 10 WHERE id = 'b'`);
        await held;
        await tx.run(`UPDATE counters SET value = 30 WHERE id = 'c'`);
      });
      const reads = Promise.all([batcher.all(VALUE, ['b']), batcher.all(VALUE, ['c'])]);
      await new Promise((resolve) => setImmediate(resolve));
      release();
      await writing;
      // One snapshot after the commit: both values of the transaction, never one of them.
      expect((await reads).map(valueOf)).toEqual([10, 30]);
    } finally {
      await driver.close();
    }
  });
});

describe('ReadBatcher on PostgreSQL (no readMany: reads at once)', () => {
  it('answers each read as the driver does, without batching', async () => {
    const driver = await withCounters(
      new PostgresDriver({ connection: PG_URL, schema: await schemas.create() }),
    );
    try {
      expect('readMany' in driver).toBe(false);
      const batcher = new ReadBatcher(driver);
      const rows = await Promise.all(['b', 'a', 'x'].map((id) => batcher.all(VALUE, [id])));
      expect(rows.map(valueOf)).toEqual([2, 1, undefined]);
      expect(batcher.stats).toEqual({ batches: 0, reads: 0 });
    } finally {
      await driver.close();
    }
  });
});
