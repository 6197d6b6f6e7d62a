/**
 * The codec entry point: picks XML or WBXML from the Content-Type (DM and legacy SyncML types, any case, with
 * parameters) and decodes or encodes a whole message. Unsupported content types are refused with 415.
 */
import { encodingOf } from './content-type.js';
import type { DecodeLimits } from './limits.js';
import type { SyncMLMessage } from './model.js';
import { decodeWbxml, encodeWbxml } from './wbxml/index.js';
import { decodeXml, encodeXml } from './xml/index.js';

/** Decodes a message received with `contentType`. Throws DecodeError / RemoteProtocolError (415) on bad input. */
export function decodeMessage(
  bytes: Uint8Array,
  contentType: string,
  limits?: Partial<DecodeLimits>,
): SyncMLMessage {
  return encodingOf(contentType) === 'xml' ? decodeXml(bytes, limits) : decodeWbxml(bytes, limits);
}

/** Encodes a message for `contentType` (send `contentTypeFor(encoding)`: always the DM 1.2 type). */
export function encodeMessage(message: SyncMLMessage, contentType: string): Uint8Array {
  return encodingOf(contentType) === 'xml' ? encodeXml(message) : encodeWbxml(message);
}
