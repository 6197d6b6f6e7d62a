/**
 * Housekeeping of the message log (`Store.pruneMessages`): messages by age and by count over all devices, then the
 * segments they leave behind.
 *
 * - A segment no `messages` row names any more is deleted.
 * - A sparse segment, whose live messages are less than a quarter of its uncompressed bytes (`live × 4 < raw_size`),
 *   is compacted: its live messages are re-packed with those of other sparse segments into new segments (at most
 *   `SEGMENT_MAX_INPUT` of live input and 16 old segments per group), their rows repointed (ids unchanged), the old
 *   segment deleted. So pruning one device's messages frees space held with other devices' messages.
 *
 * The work is cut into chunks (a few devices, a few segments per statement) with a turn of the event loop between
 * them, since SQLite answers on the event loop's thread. Housekeeping runs on a time budget with a cursor, so each run
 * does a bounded slice and the next goes on from there; a run without a budget covers everything.
 *
 * So when a full run ends, every segment holds at least a quarter of its uncompressed bytes live (the new ones all of
 * them), unless rows were pruned by a flush meanwhile or it does not decode. Reading and re-packing happen outside
 * the transaction; the transaction repoints only rows still in the old segment (a row pruned meanwhile leaves dead
 * bytes in the new segment, reclaimed later; of two processes compacting the same segment, the second repoints
 * nothing and its new segment is deleted by the next run).
 * A segment that does not decode is left alone (its messages read as a CorruptMessageLogError until retention
 * deletes them, then the segment goes as unreferenced).
 */
import { insertSegment } from './message-log.js';
import {
  CorruptMessageLogError,
  SEGMENT_MAX_INPUT,
  decodeSegment,
  encodeSegments,
  sliceMessage,
} from './message-segment.js';
import type { SqlDriver, SqlExecutor, SqlValue } from './sql-driver.js';
import type { RetentionPolicy } from './store.js';

/** A segment is compacted when its live bytes × this are below its uncompressed size. */
export const SPARSE_FACTOR = 4;
const MAX_SEGMENTS_PER_GROUP = 16;
/** Rows per repointing UPDATE; partial chunks are padded, so the statement has one shape. */
const UPDATE_CHUNK = 64;

/**
 * How much one statement of a run may cover. SQLite answers on the event loop's thread, so a run is cut into chunks
 * with a turn of the event loop between them: measured with 1 M messages of 5 000 devices, the one-statement run
 * held the loop for ≈ 600 ms even with nothing to delete; a chunk of the defaults holds it for a few ms.
 */
export interface PruneChunks {
  /** Devices whose count is cut per statement (≈ 200 index entries each at the default limit). Default 32. */
  readonly devices?: number;
  /** Segments checked (unreferenced, sparse) per chunk. Default 128. */
  readonly segments?: number;
}

/** Where a budgeted run stopped; the next one goes on from there, wrapping around at the end. */
export interface PruneCursor {
  /** Last device whose count was cut; undefined: start from the first. */
  device: string | undefined;
  /** Last segment checked; 0: start from the first. */
  segment: number;
}

export interface PruneRun {
  readonly chunks?: PruneChunks;
  /**
   * Stop starting new chunks once this much time has passed, and leave `cursor` where the next run goes on (every
   * device and segment is reached in turn over the runs). Without a budget a run covers every device and segment.
   * Age pruning always runs in full: it deletes through indexes, in chunks too.
   */
  readonly budgetMs?: number;
  readonly cursor?: PruneCursor;
  /** Milliseconds now, for the budget. Default performance.now. */
  readonly elapsed?: () => number;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Applies `policy` and reclaims segments. Returns how many messages were deleted. */
export async function pruneMessageLog(
  driver: SqlDriver,
  policy: RetentionPolicy,
  now: number,
  run: PruneRun = {},
): Promise<number> {
  const devicesPerChunk = Math.max(1, run.chunks?.devices ?? 32);
  const segmentsPerChunk = Math.max(1, run.chunks?.segments ?? 128);
  const elapsed = run.elapsed ?? (() => performance.now());
  const started = elapsed();
  const budget = run.budgetMs;
  const overBudget = (): boolean => budget !== undefined && elapsed() - started >= budget;
  let deleted = 0;
  if (policy.maxAgeMs !== undefined)
    deleted += await pruneByAge(driver, now - policy.maxAgeMs, segmentsPerChunk);

  // Full run: every device and every segment, from the start. Budgeted: from the cursor, a chunk of each in turn
  // until the budget is spent (one of each at least, so every run makes progress); the end wraps to the start for
  // the next run.
  const fromStart: PruneCursor = { device: undefined, segment: 0 };
  const cursor = budget === undefined ? fromStart : (run.cursor ?? fromStart);
  let devicesLeft = policy.maxPerDevice !== undefined;
  let segmentsLeft = true;
  for (let chunk = 0; devicesLeft || segmentsLeft; chunk++) {
    if (chunk > 0) {
      if (overBudget()) break;
      await nextTurn();
    }
    if (devicesLeft) {
      const step = await pruneCountChunk(driver, policy.maxPerDevice!, cursor.device, devicesPerChunk);
      deleted += step.deleted;
      cursor.device = step.end ? undefined : step.last;
      devicesLeft = !step.end;
    }
    if (segmentsLeft) {
      const step = await reclaimSegmentChunk(driver, cursor.segment, segmentsPerChunk);
      cursor.segment = step.end ? 0 : step.last;
      segmentsLeft = !step.end;
    }
  }
  return deleted;
}

/** Age pruning through the segments' `oldest_at` (no per-row created_at index: migration 6), chunk by chunk. */
async function pruneByAge(driver: SqlDriver, cutoff: number, perChunk: number): Promise<number> {
  let deleted = 0;
  let after = 0;
  for (;;) {
    const ids = await driver.all(
      `SELECT id FROM message_segments WHERE oldest_at < ? AND id > ? ORDER BY id LIMIT ?`,
      [cutoff, after, perChunk],
    );
    if (ids.length === 0) break;
    const lo = Number(ids[0]!['id']);
    const hi = Number(ids[ids.length - 1]!['id']);
    deleted += (
      await driver.run(
        `DELETE FROM messages WHERE segment_id IN (
           SELECT id FROM message_segments WHERE oldest_at < ? AND id >= ? AND id <= ?) AND created_at < ?`,
        [cutoff, lo, hi, cutoff],
      )
    ).changes;
    after = hi;
    await nextTurn();
  }
  // Rows written before segments (migration 5) carry their own body: through their partial index.
  deleted += (await driver.run(`DELETE FROM messages WHERE segment_id IS NULL AND created_at < ?`, [cutoff]))
    .changes;
  return deleted;
}

/** Cuts the next `perChunk` devices after `after` to `keep` messages each; `end`: no device is left after them. */
async function pruneCountChunk(
  driver: SqlDriver,
  keep: number,
  after: string | undefined,
  perChunk: number,
): Promise<{ deleted: number; last: string; end: boolean }> {
  const devices = await driver.all(
    after === undefined
      ? `SELECT device_id FROM devices ORDER BY device_id LIMIT ?`
      : `SELECT device_id FROM devices WHERE device_id > ? ORDER BY device_id LIMIT ?`,
    after === undefined ? [perChunk] : [after, perChunk],
  );
  if (devices.length === 0) return { deleted: 0, last: after ?? '', end: true };
  const lo = String(devices[0]!['device_id']);
  const hi = String(devices[devices.length - 1]!['device_id']);
  const { changes } = await driver.run(
    `DELETE FROM messages WHERE id IN (
       SELECT id FROM (
         SELECT id, ROW_NUMBER() OVER (PARTITION BY device_id ORDER BY id DESC) AS rn
         FROM messages WHERE device_id >= ? AND device_id <= ?) ranked
       WHERE rn > ?)`,
    [lo, hi, keep],
  );
  return { deleted: changes, last: hi, end: devices.length < perChunk };
}

/**
 * The next `perChunk` segments after `after`: those no row names any more are deleted, sparse ones compacted (into
 * new segments, after every existing one). `end`: no segment was left after them when the chunk was read.
 */
async function reclaimSegmentChunk(
  driver: SqlDriver,
  after: number,
  perChunk: number,
): Promise<{ last: number; end: boolean }> {
  const ids = await driver.all(`SELECT id FROM message_segments WHERE id > ? ORDER BY id LIMIT ?`, [
    after,
    perChunk,
  ]);
  if (ids.length === 0) return { last: after, end: true };
  const lo = Number(ids[0]!['id']);
  const hi = Number(ids[ids.length - 1]!['id']);
  await deleteUnreferencedSegments(driver, lo, hi);
  await compactSparseSegments(driver, lo, hi);
  return { last: hi, end: ids.length < perChunk };
}

/** Deletes the segments with ids in [lo, hi] that no `messages` row names any more. */
async function deleteUnreferencedSegments(db: SqlExecutor, lo: number, hi: number): Promise<number> {
  return (
    await db.run(
      `DELETE FROM message_segments WHERE id >= ? AND id <= ? AND NOT EXISTS (
         SELECT 1 FROM messages m WHERE m.segment_id = message_segments.id)`,
      [lo, hi],
    )
  ).changes;
}

interface SparseSegment {
  readonly id: number;
  readonly live: number;
}

/** Compacts the sparse segments with ids in [lo, hi]; returns how many old segments were replaced. */
async function compactSparseSegments(driver: SqlDriver, lo: number, hi: number): Promise<number> {
  const sparse = (
    await driver.all(
      `SELECT s.id, live.bytes FROM message_segments s
       JOIN (SELECT segment_id, SUM(size) AS bytes FROM messages WHERE segment_id >= ? AND segment_id <= ?
             GROUP BY segment_id) live
         ON live.segment_id = s.id
       WHERE s.id >= ? AND s.id <= ? AND live.bytes * ? < s.raw_size ORDER BY s.id`,
      [lo, hi, lo, hi, SPARSE_FACTOR],
    )
  ).map((r): SparseSegment => ({ id: Number(r['id']), live: Number(r['bytes']) }));
  let replaced = 0;
  for (const group of groups(sparse)) replaced += await compactGroup(driver, group);
  return replaced;
}

function groups(sparse: readonly SparseSegment[]): number[][] {
  const out: number[][] = [];
  let current: number[] = [];
  let live = 0;
  for (const segment of sparse) {
    if (
      current.length > 0 &&
      (live + segment.live > SEGMENT_MAX_INPUT || current.length >= MAX_SEGMENTS_PER_GROUP)
    ) {
      out.push(current);
      current = [];
      live = 0;
    }
    current.push(segment.id);
    live += segment.live;
  }
  if (current.length > 0) out.push(current);
  return out;
}

interface LiveMessage {
  readonly id: number;
  readonly oldSegment: number;
  readonly createdAt: number;
  readonly body: Uint8Array;
}

async function compactGroup(driver: SqlDriver, segmentIds: readonly number[]): Promise<number> {
  const list = segmentIds.map(() => '?').join(', ');
  const segmentRows = await driver.all(
    `SELECT id, codec, body, raw_size FROM message_segments WHERE id IN (${list})`,
    segmentIds,
  );
  const rows = await driver.all(
    `SELECT id, segment_id, segment_offset, size, created_at FROM messages WHERE segment_id IN (${list}) ORDER BY id`,
    segmentIds,
  );
  const live: LiveMessage[] = [];
  const compacted: number[] = [];
  for (const segmentRow of segmentRows) {
    const segmentId = Number(segmentRow['id']);
    try {
      const inflated = decodeSegment(
        segmentId,
        segmentRow['codec'],
        segmentRow['body'],
        Number(segmentRow['raw_size']),
      );
      const members = rows
        .filter((r) => Number(r['segment_id']) === segmentId)
        .map((r) => ({
          id: Number(r['id']),
          oldSegment: segmentId,
          createdAt: Number(r['created_at']),
          body: sliceMessage(
            inflated,
            segmentId,
            Number(r['id']),
            Number(r['segment_offset']),
            Number(r['size']),
          ),
        }));
      live.push(...members);
      compacted.push(segmentId);
    } catch (error) {
      // Left as it is: its messages read as corrupt until retention deletes them.
      if (!(error instanceof CorruptMessageLogError)) throw error;
    }
  }
  if (compacted.length === 0) return 0;
  live.sort((a, b) => a.id - b.id);
  const encoded = encodeSegments(live.map((m) => m.body));
  await driver.transaction(async (tx) => {
    for (const segment of encoded) {
      const moves = segment.offsets.map((offset, i) => ({ message: live[segment.first + i]!, offset }));
      const oldest = moves.reduce((min, m) => Math.min(min, m.message.createdAt), Number.POSITIVE_INFINITY);
      const newId = await insertSegment(tx, segment, oldest);
      for (let i = 0; i < moves.length; i += UPDATE_CHUNK) {
        const chunk = moves.slice(i, i + UPDATE_CHUNK);
        while (chunk.length < UPDATE_CHUNK) chunk.push(chunk[chunk.length - 1]!);
        const params: SqlValue[] = [newId];
        for (const m of chunk) params.push(m.message.id, m.offset);
        for (const m of chunk) params.push(m.message.id);
        for (const m of chunk) params.push(m.message.id, m.message.oldSegment);
        await tx.run(REPOINT_SQL, params);
      }
    }
    for (const segmentId of compacted) {
      await tx.run(
        `DELETE FROM message_segments WHERE id = ? AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.segment_id = ?)`,
        [segmentId, segmentId],
      );
    }
  });
  return compacted.length;
}

/** Moves up to UPDATE_CHUNK rows into one new segment, each only if it is still in the old segment it was read from. */
const REPOINT_SQL = (() => {
  const when = (then: string) => Array(UPDATE_CHUNK).fill(`WHEN ? THEN CAST(? AS ${then})`).join(' ');
  return `UPDATE messages SET segment_id = CAST(? AS BIGINT), segment_offset = CASE id ${when('INTEGER')} END
    WHERE id IN (${Array(UPDATE_CHUNK).fill('?').join(', ')}) AND segment_id = CASE id ${when('BIGINT')} END`;
})();
