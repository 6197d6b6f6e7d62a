/**
 * WBXML multi-byte unsigned 32-bit integers (wbxml.md §1): big-endian groups of 7 bits, continuation bit 0x80 on
 * every byte but the last, at most 5 bytes, value at most 2^32 - 1.
 */
import { DecodeError } from '../../errors.js';
import type { ByteSink } from './byte-sink.js';

export const MB_UINT32_MAX = 0xffffffff;
const MAX_BYTES = 5;

/** Result of a read: the value and the offset just past it. Reused by callers that read in a loop. */
export interface MbRead {
  value: number;
  next: number;
}

/**
 * Reads an mb_u_int32 at `pos`. `base` is added to offsets in errors, so embedded documents report positions in
 * the outer message. Throws DecodeError for truncation, more than 5 bytes or a value over 32 bits.
 */
export function readMbUint32(bytes: Uint8Array, pos: number, out: MbRead, base = 0): MbRead {
  let value = 0;
  for (let i = 0; i < MAX_BYTES; i++) {
    const at = pos + i;
    if (at >= bytes.length) {
      throw new DecodeError(
        'wbxml-truncated',
        'WBXML input ends inside a multi-byte integer',
        `byte ${base + at}`,
      );
    }
    const b = bytes[at]!;
    // Multiplication rather than shifts: 32-bit values do not fit a signed int.
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (value > MB_UINT32_MAX) {
        throw new DecodeError(
          'wbxml-bad-integer',
          'WBXML multi-byte integer exceeds 32 bits',
          `byte ${base + pos}`,
        );
      }
      out.value = value;
      out.next = at + 1;
      return out;
    }
  }
  throw new DecodeError(
    'wbxml-bad-integer',
    'WBXML multi-byte integer is longer than 5 bytes',
    `byte ${base + pos}`,
  );
}

/** Appends `value` (an integer in 0 … 2^32 - 1) as an mb_u_int32. */
export function writeMbUint32(sink: ByteSink, value: number): void {
  if (value < 0x80) {
    sink.byte(value);
    return;
  }
  // At most 5 groups; emit the most significant first.
  let groups = 1;
  for (let v = Math.floor(value / 128); v > 0; v = Math.floor(v / 128)) groups++;
  sink.reserve(groups);
  for (let g = groups - 1; g >= 0; g--) {
    const group = Math.floor(value / 128 ** g) % 128;
    sink.byte(g === 0 ? group : group | 0x80);
  }
}

/** Encodes `value` alone, for tests and headers. */
export function mbUint32Bytes(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    out.unshift((v % 128) | (out.length === 0 ? 0 : 0x80));
    v = Math.floor(v / 128);
  } while (v > 0);
  return out;
}
