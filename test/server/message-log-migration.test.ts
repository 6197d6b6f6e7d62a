/**
 * Migration 5 (message log segments) on a database that has message rows of the previous form: one gzipped body
 * per row. Those rows keep reading back byte for byte beside the new segment rows, page across both forms, and are
 * pruned like the others. Migration 6 (age pruning through segments) over segments written before it. Run on SQLite
 * and on PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { MIGRATIONS, SqlStore, migrate } from '../../src/server/store/index.js';
import { CorruptMessageLogError, encodeSegments } from '../../src/server/store/message-segment.js';
import { PostgresDriver, quoteIdentifier } from '../../src/server/store/postgres-driver.js';
import type { SqlDriver } from '../../src/server/store/sql-driver.js';
import { SqliteDriver } from '../../src/server/store/sqlite-driver.js';

const PG_URL = process.env['OMADM_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const SEGMENTS_VERSION = 5;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function sqlite(): Promise<SqlDriver> {
  const dir = mkdtempSync(join(tmpdir(), 'omadm-migration-'));
  const driver = new SqliteDriver(join(dir, 'omadm.db'));
  cleanups.push(async () => {
    await driver.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return driver;
}

async function postgres(): Promise<SqlDriver> {
  const schema = `omadm_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
  await admin.end();
  const driver = new PostgresDriver({ connection: PG_URL, schema });
  cleanups.push(async () => {
    await driver.close();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
    await client.end();
  });
  return driver;
}

/** Rows as the store wrote them before migration 5: the body gzipped on its own (level 1, 4 KiB window, as e3c0b4a). */
async function insertOldRow(driver: SqlDriver, deviceId: string, body: Uint8Array, createdAt: number) {
  await driver.run(
    `INSERT INTO messages (device_id, session_id, direction, content_type, body, size, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [
      deviceId,
      '7',
      'in',
      'application/vnd.syncml.dm+xml',
      gzipSync(body, { level: 1, windowBits: 12, memLevel: 5 }),
      body.byteLength,
      createdAt,
    ],
  );
}

describe.each([
  ['SQLite', sqlite],
  ['PostgreSQL', postgres],
])('message log migration to segments (%s)', (_name, open) => {
  it('rows gzipped one by one read back the same after the migration, beside segment rows, and are pruned', async () => {
    const driver = await open();
    const clock = new ManualClock(1_700_000_000_000);
    const previous = MIGRATIONS.filter((m) => m.version < SEGMENTS_VERSION);
    expect(await migrate(driver, clock.now(), previous)).toEqual(previous.map((m) => m.version));
    await driver.run(
      `INSERT INTO devices (device_id, username, client_secret_digest, auth_type, server_password, created_at)
       VALUES ('old', 'u', 'd', 'md5', 's', ?), ('gz-bad', 'u', 'd', 'md5', 's', ?)`,
      [clock.now(), clock.now()],
    );
    const oldBodies = [
      new TextEncoder().encode(`<SyncML>${'<Status><CmdID>1</CmdID></Status>'.repeat(50)}</SyncML>`),
      randomBytes(3000),
      new Uint8Array(),
    ];
    for (const body of oldBodies) await insertOldRow(driver, 'old', body, clock.now());
    await driver.run(
      `INSERT INTO messages (device_id, direction, content_type, body, size, created_at)
       VALUES ('gz-bad', 'in', 'text/plain', ?, 3, ?)`,
      [randomBytes(20), clock.now()],
    );

    expect(await migrate(driver, clock.now())).toEqual(
      MIGRATIONS.filter((m) => m.version >= SEGMENTS_VERSION).map((m) => m.version),
    );
    const store = new SqlStore(driver, { clock, retention: { maxAgeMs: 60_000, maxPerDevice: 1000 } });
    const newBodies = [randomBytes(500), randomBytes(700)];
    await store.commitExchange({
      deviceId: 'old',
      messages: newBodies.map((body) => ({
        sessionId: '8',
        direction: 'out' as const,
        contentType: 'x/y',
        body,
      })),
    });

    // Newest first across both forms, by offset and through cursors.
    const expected = [...oldBodies, ...newBodies].reverse().map((b) => Buffer.from(b));
    const all = await store.listMessages('old', { limit: 10 });
    expect(all.items.map((m) => Buffer.from(m.body))).toEqual(expected);
    expect(all.items.map((m) => m.size)).toEqual(expected.map((b) => b.length));
    expect(all.items.map((m) => m.sessionId)).toEqual(['8', '8', '7', '7', '7']);
    const paged = [];
    let cursor: string | undefined;
    do {
      const page = await store.listMessages(
        'old',
        cursor === undefined ? { limit: 2 } : { limit: 2, cursor },
      );
      paged.push(...page.items.map((m) => Buffer.from(m.body)));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(paged).toEqual(expected);

    // A damaged old body is a clear error for that read only.
    await expect(store.listMessages('gz-bad')).rejects.toThrow(CorruptMessageLogError);
    await expect(store.listMessages('gz-bad')).rejects.toThrow(/gzipped body does not inflate/);

    // Old rows are pruned by count and by age like the new ones.
    expect(await store.pruneMessages({ maxPerDevice: 3 })).toBe(2);
    expect((await store.listMessages('old')).items.map((m) => Buffer.from(m.body))).toEqual(
      expected.slice(0, 3),
    );
    clock.advance(61_000);
    expect(await store.pruneMessages()).toBe(4);
    expect((await store.listMessages('old')).items).toEqual([]);
    expect((await driver.all(`SELECT id FROM message_segments`)).length).toBe(0);
  });

  it('migration 6: segments written before it get their oldest message time, and age pruning stays exact per row', async () => {
    const driver = await open();
    const clock = new ManualClock(1_700_000_000_000);
    const upToSegments = MIGRATIONS.filter((m) => m.version <= SEGMENTS_VERSION);
    await migrate(driver, clock.now(), upToSegments);
    await driver.run(
      `INSERT INTO devices (device_id, username, client_secret_digest, auth_type, server_password, created_at)
       VALUES ('dev', 'u', 'd', 'md5', 's', ?)`,
      [clock.now()],
    );
    // A flush of the version-5 code: one segment, two rows ten seconds apart (no oldest_at column yet).
    const bodies = [randomBytes(300), randomBytes(400)];
    const segment = encodeSegments(bodies)[0]!;
    const segmentId = Number(
      (
        await driver.all(
          `INSERT INTO message_segments (codec, body, raw_size) VALUES (?, ?, ?) RETURNING id`,
          [segment.codec, segment.body, segment.rawSize],
        )
      )[0]!['id'],
    );
    for (const [i, body] of bodies.entries()) {
      await driver.run(
        `INSERT INTO messages (device_id, session_id, direction, content_type, body, size, created_at, segment_id, segment_offset)
         VALUES ('dev', '1', 'in', 'x/y', ?, ?, ?, ?, ?)`,
        [Buffer.alloc(0), body.byteLength, clock.now() + i * 10_000, segmentId, segment.offsets[i]!],
      );
    }

    // Migration 6 and every one after it.
    expect(await migrate(driver, clock.now())).toEqual(
      MIGRATIONS.filter((m) => m.version >= 6).map((m) => m.version),
    );
    const oldest = await driver.all(`SELECT oldest_at FROM message_segments WHERE id = ?`, [segmentId]);
    expect(Number(oldest[0]!['oldest_at'])).toBe(clock.now());
    const indexes =
      driver.dialect === 'sqlite'
        ? await driver.all(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'`)
        : await driver.all(
            `SELECT indexname AS name FROM pg_indexes WHERE tablename = 'messages' AND schemaname = current_schema()`,
          );
    const names = indexes.map((r) => String(r['name']));
    expect(names).not.toContain('messages_created');
    expect(names).toContain('messages_unsegmented_created');

    // Between the two rows' ages: only the older row goes, though both share the segment.
    const store = new SqlStore(driver, { clock, retention: { maxAgeMs: 60_000, maxPerDevice: 1000 } });
    clock.advance(65_000);
    expect(await store.pruneMessages()).toBe(1);
    expect((await store.listMessages('dev')).items.map((m) => Buffer.from(m.body))).toEqual([
      Buffer.from(bodies[1]!),
    ]);
    clock.advance(10_000);
    expect(await store.pruneMessages()).toBe(1);
    expect((await driver.all(`SELECT id FROM message_segments`)).length).toBe(0);
  });
});
