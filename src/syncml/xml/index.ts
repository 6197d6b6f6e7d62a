/** The XML codec: bytes ⇄ Element (parse/serialize) and bytes ⇄ SyncMLMessage through the shared mapping. */
import type { DecodeLimits } from '../limits.js';
import { resolveLimits } from '../limits.js';
import { elementToMessage } from '../mapping/index.js';
import type { SyncMLMessage } from '../model.js';
import { parseWithLimits } from './parse.js';
import { messageToXml } from './write-message.js';

export { parseXml } from './parse.js';
export { serializeXml, XML_DECLARATION, type SerializeOptions } from './serialize.js';

const utf8 = new TextEncoder();

/** Decodes a SyncML DM 1.2 message in XML (UTF-8 bytes, or an already decoded string). */
export function decodeXml(bytes: Uint8Array | string, limits?: Partial<DecodeLimits>): SyncMLMessage {
  const resolved = resolveLimits(limits);
  return elementToMessage(parseWithLimits(bytes, resolved), resolved);
}

/** Encodes a message as compact UTF-8 XML with the XML declaration (write-message.ts: no Element tree between). */
export function encodeXml(message: SyncMLMessage): Uint8Array {
  return utf8.encode(messageToXml(message));
}

export { messageToXml } from './write-message.js';
