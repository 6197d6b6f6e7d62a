/**
 * Element → model for the parts commands are built from: Target/Source, Meta (MetInf), Cred, Chal, Item, Data.
 * Parsing is order-tolerant (peers reorder, e.g. Meta before Target in Item); repeats of single elements and
 * elements the DM content models do not allow are refused (representation.md §3).
 */
import type { Element, Node } from '../element.js';
import { isElement } from '../element.js';
import type { Chal, Cred, Data, Item, LocRef, MetInf, XmlContent, XmlElement } from '../model.js';
import type { At } from './decode-context.js';
import {
  child,
  duplicate,
  fail,
  isMetinfNs,
  inSyncml,
  isSyncmlNs,
  isWhitespace,
  missing,
  numberOf,
  trimmedText,
  unexpectedText,
  unknownElement,
  utf8OrUndefined,
} from './decode-context.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Whitespace between elements is formatting; any other text or OPAQUE where only elements belong is refused. */
export function checkFiller(node: Exclude<Node, Element>, at: At): void {
  if (typeof node === 'string') {
    if (!isWhitespace(node)) unexpectedText(node, at);
  } else {
    fail('unexpected-opaque', `unexpected opaque data in <${at.el.name}>`, at);
  }
}

/** `(LocURI, LocName?)` for Target and Source. */
export function decodeLocRef(el: Element, parent: At): LocRef {
  const at = child(parent, el);
  let locUri: string | undefined;
  let locName: string | undefined;
  for (const node of el.children) {
    if (!isElement(node)) {
      checkFiller(node, at);
      continue;
    }
    if (!inSyncml(node)) unknownElement(node, at);
    if (node.name === 'LocURI') {
      if (locUri !== undefined) duplicate(node, at);
      locUri = trimmedText(node, at);
    } else if (node.name === 'LocName') {
      if (locName !== undefined) duplicate(node, at);
      locName = trimmedText(node, at);
    } else unknownElement(node, at);
  }
  if (locUri === undefined) missing('LocURI', at);
  return locName === undefined ? { locUri } : { locUri, locName };
}

/** Meta children arrive in `syncml:metinf`, or in the SyncML namespace / none when a device omits the xmlns. */
function isMetinfChildNs(ns: string): boolean {
  return isMetinfNs(ns) || isSyncmlNs(ns) || ns === '';
}

/** `<Meta>`: MetInf elements, directly or inside an explicit `<MetInf>` wrapper. */
export function decodeMeta(el: Element, parent: At): MetInf {
  const meta: Mutable<MetInf> & { emi?: string[] } = {};
  readMetInf(el, child(parent, el), meta, false);
  return meta;
}

function readMetInf(el: Element, at: At, meta: Mutable<MetInf> & { emi?: string[] }, wrapped: boolean): void {
  for (const node of el.children) {
    if (!isElement(node)) {
      checkFiller(node, at);
      continue;
    }
    if (!isMetinfChildNs(node.ns)) unknownElement(node, at);
    // A switch over literal names (not a name → key table): every field is then a named property access.
    switch (node.name) {
      case 'EMI':
        (meta.emi ??= []).push(trimmedText(node, at));
        break;
      case 'MetInf':
        if (wrapped) unknownElement(node, at);
        readMetInf(node, child(at, node), meta, true);
        break;
      case 'Format':
        if (meta.format !== undefined) duplicate(node, at);
        meta.format = trimmedText(node, at);
        break;
      case 'Type':
        if (meta.type !== undefined) duplicate(node, at);
        meta.type = trimmedText(node, at);
        break;
      case 'Mark':
        if (meta.mark !== undefined) duplicate(node, at);
        meta.mark = trimmedText(node, at);
        break;
      case 'Size':
        if (meta.size !== undefined) duplicate(node, at);
        meta.size = numberOf(node, at);
        break;
      case 'NextNonce':
        if (meta.nextNonce !== undefined) duplicate(node, at);
        meta.nextNonce = trimmedText(node, at);
        break;
      case 'Version':
        if (meta.version !== undefined) duplicate(node, at);
        meta.version = trimmedText(node, at);
        break;
      case 'MaxMsgSize':
        if (meta.maxMsgSize !== undefined) duplicate(node, at);
        meta.maxMsgSize = numberOf(node, at);
        break;
      case 'MaxObjSize':
        if (meta.maxObjSize !== undefined) duplicate(node, at);
        meta.maxObjSize = numberOf(node, at);
        break;
      default:
        unknownElement(node, at);
    }
  }
}

/** `<Cred>`: `(Meta?, Data)`. The credential is Base64 or a digest: surrounding whitespace is formatting. */
export function decodeCred(el: Element, parent: At): Cred {
  const at = child(parent, el);
  let meta: MetInf | undefined;
  let data: string | undefined;
  for (const node of el.children) {
    if (!isElement(node)) {
      checkFiller(node, at);
      continue;
    }
    if (!inSyncml(node)) unknownElement(node, at);
    if (node.name === 'Meta') {
      if (meta !== undefined) duplicate(node, at);
      meta = decodeMeta(node, at);
    } else if (node.name === 'Data') {
      if (data !== undefined) duplicate(node, at);
      data = trimmedText(node, at);
    } else unknownElement(node, at);
  }
  if (data === undefined) missing('Data', at);
  return meta === undefined ? { data } : { meta, data };
}

/** `<Chal>`: `(Meta)`. */
export function decodeChal(el: Element, parent: At): Chal {
  const at = child(parent, el);
  let meta: MetInf | undefined;
  for (const node of el.children) {
    if (!isElement(node)) {
      checkFiller(node, at);
      continue;
    }
    if (!inSyncml(node) || node.name !== 'Meta') unknownElement(node, at);
    if (meta !== undefined) duplicate(node, at);
    meta = decodeMeta(node, at);
  }
  if (meta === undefined) missing('Meta', at);
  return { meta };
}

/** `<Item>`: `(Target?, Source?, Meta?, Data?, MoreData?)`, in any order. */
export function decodeItem(el: Element, parent: At): Item {
  const at = child(parent, el);
  const item: Mutable<Item> = {};
  for (const node of el.children) {
    if (!isElement(node)) {
      checkFiller(node, at);
      continue;
    }
    if (!inSyncml(node)) unknownElement(node, at);
    switch (node.name) {
      case 'Target':
        if (item.target !== undefined) duplicate(node, at);
        item.target = decodeLocRef(node, at);
        break;
      case 'Source':
        if (item.source !== undefined) duplicate(node, at);
        item.source = decodeLocRef(node, at);
        break;
      case 'Meta':
        if (item.meta !== undefined) duplicate(node, at);
        item.meta = decodeMeta(node, at);
        break;
      case 'Data':
        if (item.data !== undefined) duplicate(node, at);
        item.data = decodeData(node, at);
        break;
      case 'MoreData':
        if (item.moreData !== undefined) duplicate(node, at);
        item.moreData = true;
        break;
      default:
        unknownElement(node, at);
    }
  }
  return item;
}

/**
 * Item `<Data>`: text kept exactly (CDATA already merged by the parser); one element child → an embedded
 * document; OPAQUE → text when it is valid UTF-8 (without a C string's trailing NULs), else binary.
 */
export function decodeData(el: Element, parent: At): Data {
  const c = el.children;
  const first = c[0];
  if (first === undefined) return { kind: 'text', text: '' };
  if (c.length === 1 && typeof first === 'string') return { kind: 'text', text: first };
  const at = child(parent, el);
  let element: Element | undefined;
  let hasOpaque = false;
  let hasText = false;
  for (const node of c) {
    if (isElement(node)) {
      if (element !== undefined) fail('invalid-data', '<Data> may hold only one embedded document', at);
      element = node;
    } else if (typeof node === 'string') {
      if (!isWhitespace(node)) hasText = true;
    } else hasOpaque = true;
  }
  if (element !== undefined) {
    if (hasText || hasOpaque)
      fail('invalid-data', '<Data> mixes an embedded document with text or opaque data', at);
    return { kind: 'xml', element: toXmlElement(element, undefined, at) };
  }
  if (!hasOpaque) return { kind: 'text', text: (c as readonly string[]).join('') };
  const bytes = concatBytes(c);
  const text = utf8OrUndefined(bytes);
  return text === undefined ? { kind: 'binary', bytes } : { kind: 'text', text: withoutCStringEnd(text) };
}

/**
 * Real-client quirk: libdmclient sends text Data as OPAQUE C strings, NUL included (`chr\0`, `b1/a2/a1\0`).
 * The trailing NULs are dropped, so WBXML gives the same model as XML (whose parser drops U+0000 from character
 * data). Only when what precedes is text XML could carry (no other C0 control): bytes such as `01 00 00 00` are
 * data, not a C string, and stay as they are.
 */
// eslint-disable-next-line no-control-regex -- recognizing C strings is the point
const C_STRING = /^[^\x00-\x08\x0B\x0C\x0E-\x1F]*\x00+$/;

function withoutCStringEnd(text: string): string {
  if (text.charCodeAt(text.length - 1) !== 0 || !C_STRING.test(text)) return text;
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0) end--;
  return text.slice(0, end);
}

const encoder = new TextEncoder();

function concatBytes(nodes: readonly Node[]): Uint8Array {
  const parts = nodes.map((n) =>
    typeof n === 'string' ? encoder.encode(n) : isElement(n) ? new Uint8Array(0) : n.opaque,
  );
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * An embedded document as a generic XmlElement. `namespace` is set where it changes (always on the embedded
 * root when it has one), so children of `<MgmtTree xmlns="syncml:dmddf1.2">` inherit it. Whitespace between
 * child elements is formatting and dropped; text in leaf elements is kept exactly.
 */
function toXmlElement(el: Element, parentNs: string | undefined, parent: At): XmlElement {
  const at = child(parent, el);
  const hasElements = el.children.some(isElement);
  const children: XmlContent[] = [];
  for (const node of el.children) {
    if (isElement(node)) {
      children.push(toXmlElement(node, el.ns, at));
      continue;
    }
    let text: string | undefined;
    if (typeof node === 'string') text = node;
    else {
      text = utf8OrUndefined(node.opaque);
      if (text === undefined)
        fail('invalid-data', `opaque bytes inside embedded <${el.name}> are not UTF-8 text`, at);
    }
    if (text === '' || (hasElements && isWhitespace(text))) continue;
    const last = children[children.length - 1];
    if (typeof last === 'string') children[children.length - 1] = last + text;
    else children.push(text);
  }
  const result: Mutable<XmlElement> = { name: el.name, children };
  const inherited = parentNs ?? '';
  if (el.ns !== inherited) result.namespace = el.ns;
  if (el.attributes !== undefined && Object.keys(el.attributes).length > 0) result.attributes = el.attributes;
  return result;
}
