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
  // One segment inflated at a time, every message of the page in it sliced out, then let go: a page holds at most
  // one inflated segment besides the bodies it returns.
  const bodies = new Map<number, Uint8Array>();
  const bySegment = new Map<number, Row[]>();
  for (const row of page) {
    const segmentId = row['segment_id'];
    if (segmentId === null || segmentId === undefined) bodies.set(Number(row['id']), legacyBody(row));
    else {
      const members = bySegment.get(Number(segmentId));
      if (members === undefined) bySegment.set(Number(segmentId), [row]);
      else members.push(row);
    }
  }
  for (const [segmentId, members] of bySegment) {
    // Rows come newest first, so the first row of a segment is the one that carries it (nth = 1).
    const carrier = members[0]!;
    if (carrier['segment_found'] === null || carrier['segment_found'] === undefined) {
      throw new CorruptMessageLogError(`message ${Number(carrier['id'])}: segment ${segmentId} is missing`);
    }
    const rawSize = carrier['segment_raw_size'];
    const segment = decodeSegment(
      segmentId,
      carrier['segment_codec'],
      carrier['segment_body'],
      rawSize === null || rawSize === undefined ? null : Number(rawSize),
    );
    for (const row of members) {
      const id = Number(row['id']);
      bodies.set(
        id,
        sliceMessage(segment, segmentId, id, Number(row['segment_offset']), Number(row['size'])),
      );
    }
  }
  const items = page.map((row) => toMessage(row, bodies.get(Number(row['id']))!));
  const last = items[items.length - 1];
  return rows.length > p.limit && last !== undefined
    ? { items, nextCursor: encodeCursor(last.id) }
    : { items };
}

/** A row written before segments (migration 5): its own gzipped body. */
function legacyBody(row: Row): Uint8Array {
  const id = Number(row['id']);
  const body = row['body'];
  if (!(body instanceof Uint8Array)) throw new CorruptMessageLogError(`message ${id}: no body`);
  try {
    return decompress(body);
  } catch (error) {
    throw new CorruptMessageLogError(`message ${id}: its gzipped body does not inflate`, error);
  }
}
