/**
 * The WAP-push-over-SMS envelope of Package 0 (security.md §8.5, ets.md DG-NOT-05), pure:
 *
 *   SMS user data = UDH (port addressing to 2948 [+ concatenation]) ‖ slice of the WSP Push PDU
 *   WSP Push PDU  = TID ‖ 0x06 (Push) ‖ headers length (uintvar) ‖ content type 0xC4 ‖ 0xAF 0x87 ‖ notification
 *
 * 0xC4 is the short-integer content type 0x44 (application/vnd.syncml.notification); 0xAF 0x87 is the header
 * X-WAP-Application-Id (0x2F) = 7 (x-wap-application:syncml.dm). An SMS gateway channel sends the segments
 * with the UDH-indicator set, 8-bit coding.
 */
import { DecodeError } from '../errors.js';

/** The unsecured WAP push port a DM client listens on (security.md §8.5). */
export const WAP_PUSH_PORT = 2948;
/** 8-bit SMS user data is at most 140 octets. */
export const SMS_USER_DATA_BYTES = 140;

const PDU_PUSH = 0x06;
const CT_SYNCML_NOTIFICATION = 0x44;
const HEADER_APPLICATION_ID = 0x2f;
const APP_ID_SYNCML_DM = 0x07;
const IE_CONCAT_8BIT = 0x00;
const IE_CONCAT_16BIT = 0x08;
const IE_PORTS_16BIT = 0x05;

export interface WapPushOptions {
  /** WSP transaction id. Default 1. */
  readonly transactionId?: number;
  /** Source port in the UDH. Default 0xC002, as in the spec's example. */
  readonly sourcePort?: number;
  /** Concatenation reference (0..255); vary it per message so segments of two pushes never mix. Default 0. */
  readonly reference?: number;
}

export type WapPushProblem =
  | 'wap-push-malformed'
  | 'wap-push-wrong-port'
  | 'wap-push-not-push'
  | 'wap-push-wrong-content-type'
  | 'wap-push-wrong-application'
  | 'wap-push-incomplete';

/** SMS user data that is not a DM notification push; `code` says which check failed. */
export class WapPushDecodeError extends DecodeError {
  declare readonly code: WapPushProblem;
  constructor(code: WapPushProblem, message: string) {
    super(code, message);
  }
}

/** Wraps a notification in the WSP Push PDU and splits it into SMS user-data segments, each with its UDH. */
export function encodeWapPushSms(notification: Uint8Array, options: WapPushOptions = {}): Uint8Array[] {
  const transactionId = options.transactionId ?? 1;
  const sourcePort = options.sourcePort ?? 0xc002;
  const reference = options.reference ?? 0;
  const pdu = concat([
    Uint8Array.of(transactionId & 0xff, PDU_PUSH, 3, 0x80 | CT_SYNCML_NOTIFICATION),
    Uint8Array.of(0x80 | HEADER_APPLICATION_ID, 0x80 | APP_ID_SYNCML_DM),
    notification,
  ]);
  const ports = Uint8Array.of(
    IE_PORTS_16BIT,
    4,
    WAP_PUSH_PORT >> 8,
    WAP_PUSH_PORT & 0xff,
    sourcePort >> 8,
    sourcePort & 0xff,
  );
  if (1 + ports.length + pdu.length <= SMS_USER_DATA_BYTES)
    return [concat([Uint8Array.of(ports.length), ports, pdu])];

  const perSegment = SMS_USER_DATA_BYTES - (1 + 5 + ports.length);
  const total = Math.ceil(pdu.length / perSegment);
  if (total > 255) throw new RangeError(`a ${notification.length}-byte notification needs more than 255 SMS`);
  const segments: Uint8Array[] = [];
  for (let seq = 1; seq <= total; seq++) {
    const udh = concat([Uint8Array.of(IE_CONCAT_8BIT, 3, reference & 0xff, total, seq), ports]);
    const slice = pdu.subarray((seq - 1) * perSegment, seq * perSegment);
    segments.push(concat([Uint8Array.of(udh.length), udh, slice]));
  }
  return segments;
}

/**
 * The notification inside SMS user-data segments (any order): checks port 2948, a WSP Push, the SyncML
 * notification content type and the syncml.dm application id, as a device's push router must (DG-NOT-05).
 */
export function decodeWapPushSms(segments: readonly Uint8Array[]): Uint8Array {
  if (segments.length === 0) throw new WapPushDecodeError('wap-push-incomplete', 'no SMS segments');
  const parsed = segments.map(parseSegment);
  const first = parsed[0]!;
  for (const p of parsed) {
    if (p.destinationPort !== WAP_PUSH_PORT) {
      throw new WapPushDecodeError(
        'wap-push-wrong-port',
        `SMS addressed to port ${String(p.destinationPort)}, not ${WAP_PUSH_PORT}`,
      );
    }
    if (p.reference !== first.reference || p.total !== first.total) {
      throw new WapPushDecodeError('wap-push-incomplete', 'segments of different concatenated messages');
    }
  }
  const ordered = [...parsed].sort((a, b) => a.seq - b.seq);
  if (ordered.length !== first.total || ordered.some((p, i) => p.seq !== i + 1)) {
    throw new WapPushDecodeError('wap-push-incomplete', `have ${parsed.length} of ${first.total} segments`);
  }
  return decodeWspPush(concat(ordered.map((p) => p.data)));
}

interface Segment {
  readonly destinationPort: number | undefined;
  readonly reference: number;
  readonly total: number;
  readonly seq: number;
  readonly data: Uint8Array;
}

function parseSegment(userData: Uint8Array): Segment {
  const udhLength = userData[0];
  if (udhLength === undefined || 1 + udhLength > userData.length) {
    throw new WapPushDecodeError('wap-push-malformed', 'user data header runs past the end of the SMS');
  }
  let destinationPort: number | undefined;
  let reference = 0;
  let total = 1;
  let seq = 1;
  for (let i = 1; i < 1 + udhLength;) {
    const id = userData[i]!;
    const len = userData[i + 1];
    if (len === undefined || i + 2 + len > 1 + udhLength) {
      throw new WapPushDecodeError(
        'wap-push-malformed',
        `information element 0x${id.toString(16)} overruns the UDH`,
      );
    }
    const ie = userData.subarray(i + 2, i + 2 + len);
    const at = (k: number): number => ie[k] ?? 0;
    if (id === IE_PORTS_16BIT && len === 4) destinationPort = (at(0) << 8) | at(1);
    if (id === IE_CONCAT_8BIT && len === 3) [reference, total, seq] = [at(0), at(1), at(2)];
    if (id === IE_CONCAT_16BIT && len === 4) [reference, total, seq] = [(at(0) << 8) | at(1), at(2), at(3)];
    i += 2 + len;
  }
  if (total === 0 || seq === 0 || seq > total) {
    throw new WapPushDecodeError('wap-push-malformed', `concatenation ${seq}/${total} is impossible`);
  }
  return { destinationPort, reference, total, seq, data: userData.subarray(1 + udhLength) };
}

// Spelled out rather than imported from syncml/: this package depends on errors (and security) only.
const NOTIFICATION_TYPE_TEXT = 'application/vnd.syncml.notification';
const APPLICATION_ID_TEXT = 'x-wap-application:syncml.dm';

/** The notification inside a connectionless WSP Push PDU (TID ‖ type ‖ headers length ‖ type ‖ headers ‖ data). */
export function decodeWspPush(pdu: Uint8Array): Uint8Array {
  const reader = new Reader(pdu);
  reader.byte(); // transaction id
  if (reader.byte() !== PDU_PUSH)
    throw new WapPushDecodeError('wap-push-not-push', 'WSP PDU is not a Push (0x06)');
  const headersLength = reader.uintvar();
  const headersEnd = reader.offset + headersLength;
  if (headersEnd > pdu.length)
    throw new WapPushDecodeError('wap-push-malformed', 'WSP headers run past the end');
  const contentType = mediaType(reader.value());
  const isNotification =
    (typeof contentType === 'number' && contentType === CT_SYNCML_NOTIFICATION) ||
    (typeof contentType === 'string' && contentType.toLowerCase() === NOTIFICATION_TYPE_TEXT);
  if (!isNotification) {
    throw new WapPushDecodeError(
      'wap-push-wrong-content-type',
      `push content type ${describe(contentType)} is not ${NOTIFICATION_TYPE_TEXT}`,
    );
  }
  let applicationId: number | string | Uint8Array | undefined;
  while (reader.offset < headersEnd) {
    const name = reader.peek() >= 0x80 ? reader.byte() & 0x7f : reader.text();
    const value = reader.value();
    if (
      name === HEADER_APPLICATION_ID ||
      (typeof name === 'string' && name.toLowerCase() === 'x-wap-application-id')
    ) {
      applicationId = value;
    }
  }
  if (reader.offset !== headersEnd)
    throw new WapPushDecodeError('wap-push-malformed', 'WSP headers overrun their length');
  if (applicationId !== APP_ID_SYNCML_DM && applicationId !== APPLICATION_ID_TEXT) {
    throw new WapPushDecodeError(
      'wap-push-wrong-application',
      `push application id ${describe(applicationId)} is not syncml.dm (7)`,
    );
  }
  return pdu.slice(headersEnd);
}

/** Just enough WSP encoding (WAP-230 §8.4) to walk headers: short integers, text, length-prefixed values. */
class Reader {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  peek(): number {
    const b = this.bytes[this.offset];
    if (b === undefined) throw new WapPushDecodeError('wap-push-malformed', 'WSP PDU ends early');
    return b;
  }
  byte(): number {
    const b = this.peek();
    this.offset++;
    return b;
  }
  uintvar(): number {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      value = value * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) return value;
    }
    throw new WapPushDecodeError('wap-push-malformed', 'uintvar longer than 5 bytes');
  }
  text(): string {
    const end = this.bytes.indexOf(0, this.offset);
    if (end < 0) throw new WapPushDecodeError('wap-push-malformed', 'unterminated WSP text string');
    let start = this.offset;
    if (this.bytes[start] === 0x7f || this.bytes[start] === 0x22) start++; // Quote / quoted-string markers
    this.offset = end + 1;
    return new TextDecoder().decode(this.bytes.subarray(start, end));
  }
  /** A short integer as a number, a text value as a string, anything length-prefixed as raw bytes. */
  value(): number | string | Uint8Array {
    const b = this.peek();
    if (b >= 0x80) return this.byte() & 0x7f;
    if (b >= 32) return this.text();
    this.offset++;
    const length = b === 31 ? this.uintvar() : b;
    if (this.offset + length > this.bytes.length)
      throw new WapPushDecodeError('wap-push-malformed', 'WSP value runs past the end');
    const raw = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return raw;
  }
}

/** The media of a Content-type value; the general form (length-prefixed, with parameters) starts with it. */
function mediaType(value: number | string | Uint8Array): number | string | Uint8Array {
  if (!(value instanceof Uint8Array) || value.length === 0) return value;
  const inner = new Reader(value);
  return inner.peek() >= 0x80 ? inner.byte() & 0x7f : inner.text();
}

function describe(value: number | string | Uint8Array | undefined): string {
  if (value === undefined) return 'absent';
  if (typeof value === 'number') return `0x${value.toString(16)}`;
  if (typeof value === 'string') return JSON.stringify(value);
  return `<${value.length} bytes>`;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
