import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore, openStore } from '../../src/server/store/index.js';
import type { SqlStore } from '../../src/server/store/index.js';
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
});
