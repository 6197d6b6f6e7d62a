/**
 * The message log's segment codec: the bodies of many messages deflated together in one call, so zlib's per-call
 * set-up is paid once per segment instead of once per message, and the messages of many devices (which look alike)
 * compress against each other. A message is addressed by (segment, offset); its length is its `size`.
 *
 * Segments are bounded (`SEGMENT_MAX_INPUT` of uncompressed input, or one larger message alone), so a reader never
 * inflates a huge blob for one message. A segment that fails to inflate, inflates to the wrong size, or does not hold
 * the range a message names gives a CorruptMessageLogError for that read; nothing else is affected.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { OmadmError } from '../../errors.js';

/** The stored format of a segment: the zlib format (RFC 1950, Adler-32 checked) of the concatenated bodies. */
export const SEGMENT_CODEC = 'zlib';

/**
 * Uncompressed input per segment: ≈ 60 check-in messages. Beyond zlib's 32 KiB window a larger segment compresses
 * little better (check-ins: 66 B per message at 64 KiB, 60 B at 256 KiB) but costs a reader more: inflating one
 * takes ≈ 50 µs here, once per segment a page needs, and a quiet device's page needs about one segment per message.
 */
export const SEGMENT_MAX_INPUT = 64 * 1024;

/**
 * Level 1 with zlib's default 32 KiB window: 64 messages of 0.8–1.4 kB check-ins in one call ≈ 1.1 µs and 64 B per
 * message (level 6: 3.3 µs, 52 B; a 4 KiB window: 77 B), against ≈ 20 µs and 427 B for a gzip per message.
 */
const DEFLATE = { level: 1 } as const;

export class CorruptMessageLogError extends OmadmError {
  constructor(message: string, cause?: unknown) {
    super('corrupt-message-log', message, cause === undefined ? {} : { cause });
  }
}

export interface EncodedSegment {
  readonly codec: string;
  readonly body: Buffer;
  /** Uncompressed bytes: the sum of the members' sizes. */
  readonly rawSize: number;
  /** Index (in the input list) of the first message in this segment. */
  readonly first: number;
  /** Offset of each member in the inflated segment, in input order (member i is input `first + i`). */
  readonly offsets: readonly number[];
}

/**
 * Packs `bodies`, in order, into as few segments as the bound allows: consecutive runs of at most
 * `SEGMENT_MAX_INPUT` bytes (a larger body gets a segment of its own). One deflate call per segment.
 */
export function encodeSegments(bodies: readonly Uint8Array[]): EncodedSegment[] {
  const segments: EncodedSegment[] = [];
  let first = 0;
  while (first < bodies.length) {
    let end = first;
    let rawSize = 0;
    const offsets: number[] = [];
    while (end < bodies.length) {
      const size = bodies[end]!.byteLength;
      if (end > first && rawSize + size > SEGMENT_MAX_INPUT) break;
      offsets.push(rawSize);
      rawSize += size;
      end++;
    }
    const input = Buffer.concat(bodies.slice(first, end), rawSize);
    segments.push({ codec: SEGMENT_CODEC, body: deflateSync(input, DEFLATE), rawSize, first, offsets });
    first = end;
  }
  return segments;
}

/** The inflated segment, checked against the size recorded beside it. */
export function decodeSegment(id: number, codec: unknown, body: unknown, rawSize: unknown): Buffer {
  if (codec !== SEGMENT_CODEC) {
    throw new CorruptMessageLogError(`message log segment ${id}: unknown codec ${JSON.stringify(codec)}`);
  }
  if (
    !(body instanceof Uint8Array) ||
    typeof rawSize !== 'number' ||
    !Number.isSafeInteger(rawSize) ||
    rawSize < 0
  ) {
    throw new CorruptMessageLogError(`message log segment ${id}: malformed row`);
  }
  let inflated: Buffer;
  try {
    // maxOutputLength: a damaged stream cannot make the reader allocate more than the segment ever held.
    inflated = inflateSync(body, { maxOutputLength: Math.max(1, rawSize) });
  } catch (error) {
    throw new CorruptMessageLogError(
      `message log segment ${id} does not inflate: ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
  }
  if (inflated.byteLength !== rawSize) {
    throw new CorruptMessageLogError(
      `message log segment ${id} inflates to ${inflated.byteLength} bytes, not ${rawSize}`,
    );
  }
  return inflated;
}

/** A copy of one message's bytes (the page does not keep the whole segment alive). */
export function sliceMessage(
  segment: Buffer,
  segmentId: number,
  messageId: number,
  offset: number,
  size: number,
): Uint8Array {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0) {
    throw new CorruptMessageLogError(`message ${messageId}: malformed place in segment ${segmentId}`);
  }
  if (offset + size > segment.byteLength) {
    throw new CorruptMessageLogError(
      `message ${messageId}: bytes ${offset}..${offset + size} are outside segment ${segmentId} (${segment.byteLength} bytes)`,
    );
  }
  return new Uint8Array(segment.subarray(offset, offset + size));
}
