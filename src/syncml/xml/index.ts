/** The XML codec: bytes ⇄ Element (parse/serialize) and bytes ⇄ SyncMLMessage through the shared mapping. */
import type { DecodeLimits } from '../limits.js';
import { resolveLimits } from '../limits.js';
import { elementToMessage, messageToElement } from '../mapping/index.js';
import type { SyncMLMessage } from '../model.js';
import { parseWithLimits } from './parse.js';
import { serializeXml } from './serialize.js';

export { parseXml } from './parse.js';
export { serializeXml, XML_DECLARATION, type SerializeOptions } from './serialize.js';

const utf8 = new TextEncoder();

/** Decodes a SyncML DM 1.2 message in XML (UTF-8 bytes, or an already decoded string). */
export function decodeXml(bytes: Uint8Array | string, limits?: Partial<DecodeLimits>): SyncMLMessage {
  const resolved = resolveLimits(limits);
  return elementToMessage(parseWithLimits(bytes, resolved), resolved);
}

/** Encodes a message as compact UTF-8 XML with the XML declaration. */
export function encodeXml(message: SyncMLMessage): Uint8Array {
  return utf8.encode(serializeXml(messageToElement(message), { declaration: true }));
}
