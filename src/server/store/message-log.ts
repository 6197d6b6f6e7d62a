/**
 * The raw message log, written off the request path (Fleet's lesson: compress and prune it from day one).
 *
 * `append` only buffers: the exchange's own commit stays one statement on the idle fast path. The buffer is flushed
 * in one transaction (group commit) `flushMs` after its first entry or as soon as it holds `maxBuffered` entries.
 * A flush deflates its bodies together (message-segment.ts: one call per segment of at most 64 KiB of input) into
 * `message_segments` rows and writes one `messages` row per entry naming its segment and offset (no body of its
 * own). Readers (`listMessages`, `pruneMessages`) flush first, so they see every commit that resolved before them;
 * `close()` flushes. Retention: see the class.
 *
 * The log is diagnostic: a process crash loses at most the entries of the last `flushMs` (100 ms by default) that were
 * not flushed yet; command state never depends on it. A flush that fails is retried once (a device deleted
 * meanwhile is simply skipped: rows are inserted only for devices that exist; its bytes stay in the segment until
 * `pruneMessages()` compacts it), then its entries are dropped and counted in `dropped`.
 */
import { encodeSegments } from './message-segment.js';
import type { SqlDriver, SqlExecutor, SqlValue } from './sql-driver.js';
import type { NewMessage } from './store.js';

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
  /** Newest messages kept per device, applied to the devices of a flush when they are due (see above). */
  readonly maxPerDevice?: number | undefined;
  /** Told about a flush that failed twice (its entries are dropped). Default: one line on stderr. */
  readonly onError?: (error: unknown, dropped: number) => void;
}

/** How many devices' prune counters are kept before they are all forgotten (≈ 100 bytes each). */
export const MAX_TRACKED_DEVICES = 65_536;

const COLUMNS = 8;
/** Rows per INSERT statement: bounded so the statement cache holds at most this many shapes. */
const CHUNK = 64;

/** Messages a device may gain, after this process pruned it, before a flush prunes it again. */
export function pruneSlack(maxPerDevice: number): number {
  return Math.max(1, Math.floor(maxPerDevice / 4));
}

/**
 * Retention by count without a statement per device per flush: a flush prunes a device (to `maxPerDevice`, in the
 * same transaction as its inserts) only when the device is due: in the first flush of this process that holds the
 * device, and then in the flush in which the device's messages flushed by this process since this process last
 * pruned it reach `slack` = max(1, floor(maxPerDevice / 4)). The bound, at every commit:
 *
 * - one process writing a device's messages: at most `maxPerDevice + slack − 1` messages (249 for the default 200);
 * - P processes writing the same device's messages: at most `maxPerDevice + P × (slack − 1)`.
 *
 * `pruneMessages()` (housekeeping, every minute) cuts every device back to `maxPerDevice`, applies the age limit and
 * reclaims segments (message-retention.ts). The per-device counters are all forgotten when they number
 * `MAX_TRACKED_DEVICES` (every device then counts as never pruned: pruned sooner, never later, so the bound holds).
 */
export class MessageLog {
  readonly #driver: SqlDriver;
  readonly #flushMs: number;
  readonly #maxBuffered: number;
  readonly #maxPerDevice: number | undefined;
  /** Per device: messages this process flushed since it last pruned the device (absent: never pruned here). */
  #sincePrune = new Map<string, number>();
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
    this.#sincePrune.delete(deviceId);
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
    // Compress before the transaction: the database lock is held only for the inserts. A flush started by the
    // timer has nobody to reject to, so a failure here is reported and counted like a failed write.
    let segments: ReturnType<typeof encodeSegments>;
    try {
      segments = encodeSegments(batch.map((e) => e.message.body));
    } catch (error) {
      this.#dropped += batch.length;
      this.#onError(error, batch.length);
      return;
    }
    const counts = new Map<string, number>();
    for (const e of batch) counts.set(e.deviceId, (counts.get(e.deviceId) ?? 0) + 1);
    const due = this.#duePrunes(counts);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#driver.transaction(async (tx) => {
          const rows: SqlValue[][] = [];
          for (const segment of segments) {
            let oldest = Number.POSITIVE_INFINITY;
            for (let i = 0; i < segment.offsets.length; i++)
              oldest = Math.min(oldest, batch[segment.first + i]!.createdAt);
            const segmentId = await insertSegment(tx, segment, oldest);
            segment.offsets.forEach((offset, i) => {
              const e = batch[segment.first + i]!;
              rows.push([
                e.deviceId,
                e.message.sessionId,
                e.message.direction,
                e.message.contentType,
                e.message.body.byteLength,
                e.createdAt,
                segmentId,
                offset,
              ]);
            });
          }
          for (let i = 0; i < rows.length; i += CHUNK) {
            const chunk = rows.slice(i, i + CHUNK);
            await tx.run(insertSql(this.#driver.dialect, chunk.length), chunk.flat());
          }
          const keep = this.#maxPerDevice;
          if (keep === undefined) return;
          for (const deviceId of due) {
            await tx.run(
              `DELETE FROM messages WHERE device_id = ? AND id <= (
                 SELECT id FROM messages WHERE device_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
              [deviceId, deviceId, keep],
            );
          }
        });
        this.#countFlushed(counts, due);
        return;
      } catch (error) {
        if (attempt < 2) continue;
        this.#dropped += batch.length;
        this.#onError(error, batch.length);
        return;
      }
    }
  }

  /** Devices of this batch to prune in its flush: never pruned by this process, or `slack` messages since. */
  #duePrunes(counts: ReadonlyMap<string, number>): string[] {
    if (this.#maxPerDevice === undefined) return [];
    const slack = pruneSlack(this.#maxPerDevice);
    const due: string[] = [];
    for (const [deviceId, n] of counts) {
      const since = this.#sincePrune.get(deviceId);
      if (since === undefined || since + n >= slack) due.push(deviceId);
    }
    return due;
  }

  /** After a flush committed: due devices start counting again, the others add this batch. */
  #countFlushed(counts: ReadonlyMap<string, number>, due: readonly string[]): void {
    if (this.#maxPerDevice === undefined) return;
    if (this.#sincePrune.size >= MAX_TRACKED_DEVICES) this.#sincePrune = new Map();
    for (const [deviceId, n] of counts)
      this.#sincePrune.set(deviceId, (this.#sincePrune.get(deviceId) ?? 0) + n);
    for (const deviceId of due) this.#sincePrune.set(deviceId, 0);
  }
}

/**
 * Inserts one segment; returns its id. `oldestAt`: the created_at of its oldest message, which age pruning finds
 * it by. Shared with compaction (message-retention.ts).
 */
export async function insertSegment(
  tx: SqlExecutor,
  segment: { readonly codec: string; readonly body: Buffer; readonly rawSize: number },
  oldestAt: number,
): Promise<number> {
  const rows = await tx.all(
    `INSERT INTO message_segments (codec, body, raw_size, oldest_at) VALUES (?, ?, ?, ?) RETURNING id`,
    [segment.codec, segment.body, segment.rawSize, oldestAt],
  );
  return Number(rows[0]!['id']);
}

const insertCache = new Map<string, string>();

/**
 * `INSERT … SELECT` from a VALUES list of `rows` rows, keeping only rows whose device still exists (a device deleted
 * between its exchange and the flush must not fail the whole batch on the foreign key). Rows get ids in list order
 * (`ORDER BY` the row's position: PostgreSQL's semi-join may otherwise hand them to the INSERT reversed). `body` is
 * empty: the bytes are in the segment.
 */
function insertSql(dialect: 'sqlite' | 'postgres', rows: number): string {
  const key = `${dialect}:${rows}`;
  let sql = insertCache.get(key);
  if (sql === undefined) {
    const head = `INSERT INTO messages (device_id, session_id, direction, content_type, size, created_at, segment_id, segment_offset, body)`;
    const placeholders =
      dialect === 'sqlite'
        ? Array(COLUMNS).fill('?').join(', ')
        : '?::text, ?::text, ?::text, ?::text, ?::integer, ?::bigint, ?::bigint, ?::integer';
    const values = Array.from({ length: rows }, (_, i) => `(${placeholders}, ${i})`).join(', ');
    sql =
      dialect === 'sqlite'
        ? `${head} SELECT column1, column2, column3, column4, column5, column6, column7, column8, X'' FROM (VALUES ${values}) AS v
           WHERE EXISTS (SELECT 1 FROM devices d WHERE d.device_id = v.column1) ORDER BY column9`
        : `${head} SELECT d, s, dir, ct, sz, c, seg, off, ''::bytea FROM (VALUES ${values}) AS v (d, s, dir, ct, sz, c, seg, off, n)
           WHERE EXISTS (SELECT 1 FROM devices x WHERE x.device_id = v.d) ORDER BY n`;
    insertCache.set(key, sql);
  }
  return sql;
}
