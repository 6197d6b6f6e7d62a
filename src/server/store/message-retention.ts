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
 * So when a run ends, every segment holds at least a quarter of its uncompressed bytes live (the new ones all of
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

/** Applies `policy` and reclaims segments. Returns how many messages were deleted. */
export async function pruneMessageLog(
  driver: SqlDriver,
  policy: RetentionPolicy,
  now: number,
): Promise<number> {
  let deleted = 0;
  if (policy.maxAgeMs !== undefined) {
    const cutoff = now - policy.maxAgeMs;
    // Candidates through their segment (no per-row created_at index: migration 6), then the exact age per row.
    deleted += (
      await driver.run(
        `DELETE FROM messages WHERE segment_id IN (SELECT id FROM message_segments WHERE oldest_at < ?)
           AND created_at < ?`,
        [cutoff, cutoff],
      )
    ).changes;
    deleted += (
      await driver.run(`DELETE FROM messages WHERE segment_id IS NULL AND created_at < ?`, [cutoff])
    ).changes;
  }
  if (policy.maxPerDevice !== undefined) {
    deleted += (
      await driver.run(
        `DELETE FROM messages WHERE id IN (
           SELECT id FROM (
             SELECT id, ROW_NUMBER() OVER (PARTITION BY device_id ORDER BY id DESC) AS rn FROM messages) ranked
           WHERE rn > ?)`,
        [policy.maxPerDevice],
      )
    ).changes;
  }
  await deleteUnreferencedSegments(driver);
  await compactSparseSegments(driver);
  return deleted;
}

export async function deleteUnreferencedSegments(db: SqlExecutor): Promise<number> {
  return (
    await db.run(
      `DELETE FROM message_segments WHERE NOT EXISTS (
         SELECT 1 FROM messages m WHERE m.segment_id = message_segments.id)`,
    )
  ).changes;
}

interface SparseSegment {
  readonly id: number;
  readonly live: number;
}

/** Compacts every sparse segment; returns how many old segments were replaced. */
export async function compactSparseSegments(driver: SqlDriver): Promise<number> {
  const sparse = (
    await driver.all(
      `SELECT s.id, live.bytes FROM message_segments s
       JOIN (SELECT segment_id, SUM(size) AS bytes FROM messages WHERE segment_id IS NOT NULL GROUP BY segment_id) live
         ON live.segment_id = s.id
       WHERE live.bytes * ? < s.raw_size ORDER BY s.id`,
      [SPARSE_FACTOR],
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
