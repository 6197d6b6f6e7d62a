import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore, openStore } from '../../src/server/store/index.js';
import type { SqlStore } from '../../src/server/store/index.js';
import { LOAD_EXCHANGE_SQLITE } from '../../src/server/store/sql-statements.js';
import { storeContract } from './store-contract.js';

storeContract('SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'omadm-store-'));
  const file = join(dir, 'omadm.db');
  const opened: SqlStore[] = [];
  return {
    open: async (options) => {
      const store = await openSqliteStore(file, options);
      opened.push(store);
      return store;
    },
    openSecond: async (options) => {
      const store = await openSqliteStore(file, options);
      opened.push(store);
      return store;
    },
    cleanup: async () => {
      for (const store of opened) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite store specifics', () => {
  it('opens in WAL mode with foreign keys on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omadm-store-'));
    const store = await openStore(join(dir, 'x.db'));
    try {
      expect(await store.driver.all('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
      expect(await store.driver.all('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an idle check-in reads only the pending commands, not the device’s command history (query plan)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omadm-store-'));
    const store = await openStore(join(dir, 'x.db'));
    try {
      await store.createDevice({
        deviceId: 'busy',
        username: 'u',
        password: 'p',
        authType: 'md5',
        serverPassword: 's',
      });
      // A long history of finished commands beside one queued: the read must not walk the history.
      for (let i = 0; i < 300; i++) {
        const command = (await store.enqueueCommand('busy', { command: 'Get', target: './DevInfo/Mod' }))!;
        await store.driver.run(`UPDATE commands SET state = 'done' WHERE id = ?`, [command.id]);
      }
      const queued = (await store.enqueueCommand('busy', { command: 'Get', target: './DevInfo/Lang' }))!;
      const plan = await store.driver.all(`EXPLAIN QUERY PLAN ${LOAD_EXCHANGE_SQLITE}`, [
        '1',
        Date.now(),
        '1',
        3,
        '1',
        'busy',
      ]);
      const details = plan.map((row) => String(row['detail']));
      expect(
        details.some((d) =>
          /SEARCH c USING INDEX commands_device_state \(device_id=\? AND state=\?\)/.test(d),
        ),
      ).toBe(true);
      const exchange = await store.loadExchange('busy', '1');
      expect(exchange?.pending.map((c) => c.id)).toEqual([queued.id]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('housekeeping (expiry, orphaned sessions) reads the live queue through partial indexes, not the history', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omadm-store-'));
    const store = await openStore(join(dir, 'x.db'));
    try {
      const plan = async (sql: string, params: unknown[]) =>
        (await store.driver.all(`EXPLAIN QUERY PLAN ${sql}`, params as never[]))
          .map((row) => String(row['detail']))
          .join('\n');
      expect(
        await plan(
          `UPDATE commands SET state = 'expired', done_at = ? WHERE state = 'queued' AND expires_at IS NOT NULL AND expires_at <= ?`,
          [1, 1],
        ),
      ).toMatch(/USING INDEX commands_queued_expiry/);
      expect(
        await plan(`UPDATE commands SET state = 'queued' WHERE state = 'sent' AND sent_at < ?`, [1]),
      ).toMatch(/USING INDEX commands_sent_at/);
      // And they still do their work.
      await store.createDevice({
        deviceId: 'd',
        username: 'u',
        password: 'p',
        authType: 'basic',
        serverPassword: 's',
      });
      await store.enqueueCommand(
        'd',
        { command: 'Get', target: './DevInfo/Mod' },
        { expiresAt: Date.now() - 1 },
      );
      expect(await store.expireDue()).toBe(1);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
