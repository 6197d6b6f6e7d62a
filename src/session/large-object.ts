/**
 * Large objects (protocol.md §8): one Item's Data split over consecutive messages with MoreData, Meta Size on
 * the first chunk, 213 per buffered chunk, 424 on a size mismatch. State here is plain JSON (the server
 * snapshots it).
 */
import type { Data, Item, MetInf } from '../syncml/model.js';
import { b64, fromB64 } from '../security/digest.js';

const utf8 = new TextEncoder();

/** Size as transmitted: UTF-8 bytes for text, bytes for binary (protocol.md §8). */
export function dataSize(data: Data | undefined): number {
  if (data === undefined) return 0;
  if (data.kind === 'text') return utf8.encode(data.text).length;
  if (data.kind === 'binary') return data.bytes.length;
  return 0;
}

/** Whether a Data value can be cut into chunks (embedded XML cannot). */
export function isChunkable(data: Data | undefined): data is Extract<Data, { kind: 'text' | 'binary' }> {
  return data !== undefined && (data.kind === 'text' || data.kind === 'binary');
}

/** Length in the unit chunks are cut in: UTF-16 code units for text, bytes for binary. */
export function chunkUnits(data: Extract<Data, { kind: 'text' | 'binary' }>): number {
  return data.kind === 'text' ? data.text.length : data.bytes.length;
}

/** Cuts `[start, start + length)`; never splits a surrogate pair. */
export function sliceData(
  data: Extract<Data, { kind: 'text' | 'binary' }>,
  start: number,
  length: number,
): Data {
  if (data.kind === 'binary') return { kind: 'binary', bytes: data.bytes.slice(start, start + length) };
  let end = Math.min(data.text.length, start + length);
  const last = data.text.charCodeAt(end - 1);
  if (end < data.text.length && end - 1 > start && last >= 0xd800 && last <= 0xdbff) end--;
  return { kind: 'text', text: data.text.slice(start, end) };
}

/** The total size announced for a chunked item: Item Meta Size, else the command's Meta Size. */
export function announcedSize(item: Item, commandMeta: MetInf | undefined): number | undefined {
  return item.meta?.size ?? commandMeta?.size;
}

/** An object being received, in JSON-safe form. */
export interface IncomingObject {
  /** Identifies the object across chunks: command kind and item target/source URI. */
  readonly key: string;
  readonly size: number | undefined;
  readonly binary: boolean;
  /** Text chunks, or Base64 of binary chunks. */
  readonly parts: readonly string[];
  /** Item of the first chunk (its Meta/Target/Source), without Data. */
  readonly first: Item;
}

export function objectKey(kind: string, item: Item): string {
  return `${kind} ${item.target?.locUri ?? ''} ${item.source?.locUri ?? ''}`;
}

export function startObject(kind: string, item: Item, commandMeta: MetInf | undefined): IncomingObject {
  const { data, moreData: _moreData, ...first } = item;
  const size = announcedSize(item, commandMeta);
  return appendChunk(
    { key: objectKey(kind, item), size, binary: data?.kind === 'binary', parts: [], first },
    item,
  );
}

export function appendChunk(object: IncomingObject, item: Item): IncomingObject {
  const data = item.data;
  let part = '';
  if (data?.kind === 'text') part = object.binary ? b64(utf8.encode(data.text)) : data.text;
  else if (data?.kind === 'binary')
    part = object.binary ? b64(data.bytes) : new TextDecoder().decode(data.bytes);
  return { ...object, parts: [...object.parts, part] };
}

/** The whole object: the first chunk's Item with the reassembled Data, no MoreData, Size removed. */
export function assemble(object: IncomingObject): { item: Item; size: number } {
  let data: Data;
  if (object.binary) {
    const chunks = object.parts.map(fromB64);
    const total = chunks.reduce((sum, c) => sum + c.length, 0);
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    data = { kind: 'binary', bytes };
  } else {
    data = { kind: 'text', text: object.parts.join('') };
  }
  const { size: _size, ...meta } = object.first.meta ?? {};
  const { meta: _meta, ...rest } = object.first;
  const item: Item = { ...rest, ...(Object.keys(meta).length === 0 ? {} : { meta }), data };
  return { item, size: dataSize(data) };
}
