/**
 * The raw message log, written off the request path (Fleet's lesson: compress and prune it from day one).
 *
 * `append` only buffers: the exchange's own commit stays one statement on the idle fast path. The buffer is flushed
 * in one transaction (group commit) `flushMs` after its first entry or as soon as it holds `maxBuffered` entries,
 * compressing each body in the flush and then pruning each device the batch touched to `maxPerDevice`. Readers
 * (`listMessages`, `pruneMessages`) flush first, so they see every commit that resolved before them; `close()` flushes.
 *
 * The log is diagnostic: a process crash loses at most the entries of the last `flushMs` (100 ms by default) that were
 * not flushed yet; command state never depends on it. A flush that fails is retried once (a device deleted
 * meanwhile is simply skipped: rows are inserted only for devices that exist), then its entries are dropped and
 * counted in `dropped`.
 */
import { gzipSync } from 'node:zlib';
import type { SqlDriver, SqlValue } from './sql-driver.js';
import type { NewMessage } from './store.js';

/**
 * zlib level 1: measured 9.8 µs vs 12.1 µs for level 6 on a 1.5 kB check-in, 434 vs 421 bytes (gzip format kept).
 * A 4 KiB window and memLevel 5 (≈ 32 KiB of zlib state instead of ≈ 256 KiB, allocated and cleared per message):
 * same 422 bytes for a 1 kB check-in, 12 397 vs 12 722 bytes for 290 kB of Items, 30 566 vs 30 158 for 40 kB of
 * Base64; idle check-in server CPU 165/180 → 158/160 µs (same-run bench, alternated). Any gunzip reads it.
 */
const GZIP = { level: 1, windowBits: 12, memLevel: 5 } as const;

export function compressMessage(body: Uint8Array): Buffer {
  return gzipSync(body, GZIP);
}

interface Entry {
  readonly deviceId: string;
  readonly message: NewMessage;
  readonly createdAt: number;
}

export interface MessageLogOptions {
  /** Longest time an entry waits in memory before its flush starts. Default 100 ms. */
  readonly flushMs?: number;
  /** A flush starts at once when this many entries are buffered. Default 512. */
  readonly maxBuffered?: number;
  /** Newest messages kept per device, applied to the devices of each flush. */
  readonly maxPerDevice?: number | undefined;
  /** Told about a flush that failed twice (its entries are dropped). Default: one line on stderr. */
  readonly onError?: (error: unknown, dropped: number) => void;
}

const COLUMNS = 7;
/** Rows per INSERT statement: bounded so the statement cache holds at most this many shapes. */
const CHUNK = 64;

export class MessageLog {
  readonly #driver: SqlDriver;
  readonly #flushMs: number;
  readonly #maxBuffered: number;
  readonly #maxPerDevice: number | undefined;
  readonly #onError: (error: unknown, dropped: number) => void;
  #buffer: Entry[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #dropped = 0;
  /** A size-triggered flush is already on its way. */
  #urgent = false;

  constructor(driver: SqlDriver, options: MessageLogOptions = {}) {
    this.#driver = driver;
    this.#flushMs = options.flushMs ?? 100;
    this.#maxBuffered = options.maxBuffered ?? 512;
    this.#maxPerDevice = options.maxPerDevice;
    this.#onError =
      options.onError ??
      ((error, dropped) =>
        process.stderr.write(
          `omadm: message log flush failed, ${dropped} entries dropped: ${error instanceof Error ? error.message : String(error)}\n`,
        ));
  }

  /** Entries dropped after failed flushes since the store opened. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Entries waiting for a flush. */
  get buffered(): number {
    return this.#buffer.length;
  }

  append(deviceId: string, messages: readonly NewMessage[], createdAt: number): void {
    for (const message of messages) this.#buffer.push({ deviceId, message, createdAt });
    if (this.#buffer.length >= this.#maxBuffered) {
      if (!this.#urgent) {
        this.#urgent = true;
        void this.flush();
      }
    } else if (this.#timer === undefined && this.#buffer.length > 0) {
      this.#timer = setTimeout(() => void this.flush(), this.#flushMs);
      this.#timer.unref();
    }
  }

  /** Forgets the buffered entries of a device that is being deleted. */
  forget(deviceId: string): void {
    this.#buffer = this.#buffer.filter((e) => e.deviceId !== deviceId);
  }

  /** Writes everything buffered so far; resolves when it is in the database (or was dropped). */
  async flush(): Promise<void> {
    // One flush at a time, in order: wait for the one running, then write what arrived meanwhile.
    while (this.#flushing !== undefined) await this.#flushing;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#buffer.length === 0) return;
    const batch = this.#buffer;
    this.#buffer = [];
    this.#urgent = false;
    const done = this.#write(batch).finally(() => {
      this.#flushing = undefined;
      // Entries appended while this flush ran wait for their own timer (or the next reader).
      if (this.#buffer.length > 0 && this.#timer === undefined) {
        this.#timer = setTimeout(() => void this.flush(), this.#flushMs);
        this.#timer.unref();
      }
    });
    this.#flushing = done;
    await done;
  }

  async #write(batch: readonly Entry[]): Promise<void> {
    // Compress before the transaction: the database lock is held only for the inserts.
    const rows: SqlValue[][] = batch.map((e) => [
      e.deviceId,
      e.message.sessionId,
      e.message.direction,
      e.message.contentType,
      compressMessage(e.message.body),
      e.message.body.byteLength,
      e.createdAt,
    ]);
    const devices = [...new Set(batch.map((e) => e.deviceId))];
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#driver.transaction(async (tx) => {
          for (let i = 0; i < rows.length; i += CHUNK) {
            const chunk = rows.slice(i, i + CHUNK);
            await tx.run(insertSql(this.#driver.dialect, chunk.length), chunk.flat());
          }
          const keep = this.#maxPerDevice;
          if (keep === undefined) return;
          for (const deviceId of devices) {
            await tx.run(
              `DELETE FROM messages WHERE device_id = ? AND id <= (
                 SELECT id FROM messages WHERE device_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
              [deviceId, deviceId, keep],
            );
          }
        });
        return;
      } catch (error) {
        if (attempt < 2) continue;
        this.#dropped += batch.length;
        this.#onError(error, batch.length);
        return;
      }
    }
  }
}

const insertCache = new Map<string, string>();

/**
 * `INSERT … SELECT` from a VALUES list of `rows` rows, keeping only rows whose device still exists (a device deleted
 * between its exchange and the flush must not fail the whole batch on the foreign key). Rows get ids in list order
 * (`ORDER BY` the row's position: PostgreSQL's semi-join may otherwise hand them to the INSERT reversed).
 */
function insertSql(dialect: 'sqlite' | 'postgres', rows: number): string {
  const key = `${dialect}:${rows}`;
  let sql = insertCache.get(key);
  if (sql === undefined) {
    const head = `INSERT INTO messages (device_id, session_id, direction, content_type, body, size, created_at)`;
    const placeholders =
      dialect === 'sqlite'
        ? Array(COLUMNS).fill('?').join(', ')
        : '?::text, ?::text, ?::text, ?::text, ?::bytea, ?::integer, ?::bigint';
    const values = Array.from({ length: rows }, (_, i) => `(${placeholders}, ${i})`).join(', ');
    sql =
      dialect === 'sqlite'
        ? `${head} SELECT column1, column2, column3, column4, column5, column6, column7 FROM (VALUES ${values}) AS v
           WHERE EXISTS (SELECT 1 FROM devices d WHERE d.device_id = v.column1) ORDER BY column8`
        : `${head} SELECT d, s, dir, ct, b, sz, c FROM (VALUES ${values}) AS v (d, s, dir, ct, b, sz, c, n)
           WHERE EXISTS (SELECT 1 FROM devices x WHERE x.device_id = v.d) ORDER BY n`;
    insertCache.set(key, sql);
  }
  return sql;
}
