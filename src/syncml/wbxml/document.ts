/**
 * The Element-level WBXML API: any SyncML DM family document (a message, a TNDS/DDF tree on code page 2) ↔ bytes.
 * For SyncML documents, embedded TNDS is converted (wbxml.md §8), so the tree equals what the XML codec gives.
 */
import { resolveLimits } from '../limits.js';
import type { DecodeLimits } from '../limits.js';
import type { Element, Opaque } from '../element.js';
import { SYNCML_NS, pageForNamespace } from './code-pages.js';
import { embedDocuments, expandDocuments } from './embedded-documents.js';
import { parseWbxml } from './reader.js';
import type { WbxmlDocument } from './reader.js';
import { serializeWbxml } from './writer.js';
import type { WbxmlWriteOptions } from './writer.js';
import { WbxmlVersion } from './tokens.js';

export type { WbxmlDocument } from './reader.js';
export type { WbxmlWriteOptions } from './writer.js';

/** Decodes any WBXML document of the SyncML DM family. Throws DecodeError (with `where` = byte offset). */
export function readWbxml(bytes: Uint8Array, limits?: Partial<DecodeLimits>): WbxmlDocument {
  const resolved = resolveLimits(limits);
  const opaqueOffsets = new Map<Opaque, number>();
  const { document, elementCount } = parseWbxml(bytes, resolved, { opaqueOffsets });
  if (!isSyncmlRoot(document.root) || opaqueOffsets.size === 0) return document;
  return { ...document, root: expandDocuments(document.root, resolved, opaqueOffsets, elementCount) };
}

/** Encodes an Element tree as a WBXML document (1.2, UTF-8). Throws EncodeError for trees WBXML cannot carry. */
export function writeWbxml(root: Element, options: WbxmlWriteOptions = {}): Uint8Array {
  const tree = isSyncmlRoot(root) ? embedDocuments(root, options.version ?? WbxmlVersion.V1_2) : root;
  return serializeWbxml(tree, options);
}

function isSyncmlRoot(root: Element): boolean {
  return pageForNamespace(root.ns)?.ns === SYNCML_NS;
}
