/**
 * The namespace-resolved element tree both codecs meet in. The XML codec and the WBXML codec each turn bytes
 * into this tree and back; `mapping/` turns this tree into the message model and back. Keeping the two codecs
 * symmetric around one tree is what makes `decode(encode(m))` equal `m` in both encodings.
 */

/** Raw bytes: WBXML OPAQUE. The XML codec never produces it. */
export interface Opaque {
  readonly opaque: Uint8Array;
}

export type Node = Element | string | Opaque;

export interface Element {
  /** Local name, without prefix. */
  readonly name: string;
  /** Resolved namespace URI (`SYNCML:SYNCML1.2`, `syncml:metinf`, `syncml:dmddf1.2`, or any other). */
  readonly ns: string;
  /** Attributes other than namespace declarations (SyncML itself has none; embedded documents may). */
  readonly attributes?: Readonly<Record<string, string>>;
  readonly children: readonly Node[];
}

export function isElement(node: Node): node is Element {
  return typeof node === 'object' && 'name' in node;
}

export function isOpaque(node: Node): node is Opaque {
  return typeof node === 'object' && 'opaque' in node;
}
