/**
 * A page of a device's message log, newest first, in one statement (one snapshot on both dialects, so compaction
 * or pruning by another connection can never leave a row naming a segment the same read no longer sees). Each
 * segment the page needs comes back once, on the first of its rows, and is inflated once.
 */
import { CorruptMessageLogError, decodeSegment, sliceMessage } from './message-segment.js';
import { decompress, encodeCursor, resolvePage, toMessage } from './rows.js';
import type { Row, SqlExecutor, SqlValue } from './sql-driver.js';
import type { MessageRecord, Page, PageRequest } from './store.js';

const ROW_COLUMNS =
  'id, device_id, session_id, direction, content_type, size, created_at, body, segment_id, segment_offset';

function pageSql(byCursor: boolean): string {
  const where = byCursor ? 'device_id = ? AND id < ?' : 'device_id = ?';
  const bound = byCursor ? 'LIMIT ?' : 'LIMIT ? OFFSET ?';
  return `SELECT p.id, p.device_id, p.session_id, p.direction, p.content_type, p.size, p.created_at, p.body,
      p.segment_id, p.segment_offset, s.id AS segment_found,
      CASE WHEN p.nth = 1 THEN s.codec END AS segment_codec,
      CASE WHEN p.nth = 1 THEN s.body END AS segment_body,
      CASE WHEN p.nth = 1 THEN s.raw_size END AS segment_raw_size
    FROM (
      SELECT q.*, ROW_NUMBER() OVER (PARTITION BY q.segment_id ORDER BY q.id DESC) AS nth
      FROM (SELECT ${ROW_COLUMNS} FROM messages WHERE ${where} ORDER BY id DESC ${bound}) q
    ) p
    LEFT JOIN message_segments s ON s.id = p.segment_id
    ORDER BY p.id DESC`;
}
const BY_OFFSET = pageSql(false);
const BY_CURSOR = pageSql(true);

export async function readMessagePage(
  db: SqlExecutor,
  deviceId: string,
  request: PageRequest | undefined,
): Promise<Page<MessageRecord>> {
  const p = resolvePage<number>(request, 'number');
  const params: SqlValue[] =
    p.after === undefined ? [deviceId, p.limit + 1, p.offset] : [deviceId, p.after, p.limit + 1];
  const rows = await db.all(p.after === undefined ? BY_OFFSET : BY_CURSOR, params);
  const page = rows.slice(0, p.limit);
  const segments = new Map<number, Buffer>();
  for (const row of page) {
    const segmentId = row['segment_id'];
    if (segmentId === null || segmentId === undefined || segments.has(Number(segmentId))) continue;
    if (row['segment_found'] === null || row['segment_found'] === undefined) {
      throw new CorruptMessageLogError(
        `message ${Number(row['id'])}: segment ${Number(segmentId)} is missing`,
      );
    }
    // Rows come newest first, so the first row of each segment is the one that carries it (nth = 1).
    segments.set(
      Number(segmentId),
      decodeSegment(
        Number(segmentId),
        row['segment_codec'],
        row['segment_body'],
        row['segment_raw_size'] === null ? null : Number(row['segment_raw_size']),
      ),
    );
  }
  const items = page.map((row) => toMessage(row, messageBody(row, segments)));
  const last = items[items.length - 1];
  return rows.length > p.limit && last !== undefined
    ? { items, nextCursor: encodeCursor(last.id) }
    : { items };
}

function messageBody(row: Row, segments: ReadonlyMap<number, Buffer>): Uint8Array {
  const id = Number(row['id']);
  const segmentId = row['segment_id'];
  if (segmentId === null || segmentId === undefined) {
    const legacy = row['body'];
    if (!(legacy instanceof Uint8Array)) throw new CorruptMessageLogError(`message ${id}: no body`);
    try {
      return decompress(legacy);
    } catch (error) {
      throw new CorruptMessageLogError(`message ${id}: its gzipped body does not inflate`, error);
    }
  }
  const segment = segments.get(Number(segmentId))!;
  return sliceMessage(segment, Number(segmentId), id, Number(row['segment_offset']), Number(row['size']));
}
