/**
 * Shared helpers for turning an Element tree into the model: where we are (an element path built only when an
 * error needs it), namespace checks, text and number extraction, and the DecodeErrors they raise.
 */
import { DecodeError } from '../../errors.js';
import type { Element } from '../element.js';
import { isElement } from '../element.js';
import { COMMAND_KINDS, METINF_NAMESPACE, SYNCML_NAMESPACE } from '../model.js';

/** A position in the tree: the element and the position of its parent. Rendered to a path only on error. */
export interface At {
  readonly parent: At | undefined;
  readonly el: Element;
}

export function child(parent: At, el: Element): At {
  return { parent, el };
}

/** Element names that repeat, so the path always says which one (`Replace[2]`, `Item[1]`). */
const INDEXED: ReadonlySet<string> = new Set<string>([
  ...COMMAND_KINDS,
  'Item',
  'TargetRef',
  'SourceRef',
  'EMI',
]);

/** `SyncML/SyncBody/Replace[2]/Item[1]`: 1-based index among same-named siblings. */
export function pathOf(at: At): string {
  const parts: string[] = [];
  for (let cur: At | undefined = at; cur !== undefined; cur = cur.parent) {
    const name = cur.el.name;
    const parent = cur.parent?.el;
    if (parent === undefined) {
      parts.push(name);
      continue;
    }
    let index = 0;
    let count = 0;
    for (const node of parent.children) {
      if (isElement(node) && node.name === name) {
        count++;
        if (node === cur.el) index = count;
      }
    }
    parts.push(INDEXED.has(name) || count > 1 ? `${name}[${index}]` : name);
  }
  return parts.reverse().join('/');
}

export function fail(code: string, message: string, at: At, status?: number): never {
  throw new DecodeError(code, message, pathOf(at), status === undefined ? {} : { status });
}

const SYNCML_NS_LOWER = SYNCML_NAMESPACE.toLowerCase();
const METINF_NS_LOWER = METINF_NAMESPACE.toLowerCase();

/** Namespace URNs compare case-insensitively (representation.md §1: emit exact, parse as URN). */
export function isSyncmlNs(ns: string): boolean {
  return (
    ns === SYNCML_NAMESPACE || (ns.length === SYNCML_NAMESPACE.length && ns.toLowerCase() === SYNCML_NS_LOWER)
  );
}

export function isMetinfNs(ns: string): boolean {
  return (
    ns === METINF_NAMESPACE || (ns.length === METINF_NAMESPACE.length && ns.toLowerCase() === METINF_NS_LOWER)
  );
}

/**
 * A SyncML element (any case of the namespace URN). `<Meta xmlns="syncml:metinf">` also counts: devices that
 * declare MetInf as the default namespace on Meta put Meta itself in it.
 */
export function inSyncml(el: Element): boolean {
  return isSyncmlNs(el.ns) || (el.name === 'Meta' && isMetinfNs(el.ns));
}

export function unknownElement(el: Element, at: At): never {
  const ns = el.ns === '' ? 'no namespace' : `namespace ${el.ns}`;
  fail('unknown-element', `unexpected element <${el.name}> (${ns}) in <${at.el.name}>`, child(at, el));
}

export function duplicate(el: Element, at: At): never {
  fail('duplicate-element', `<${el.name}> may appear only once in <${at.el.name}>`, child(at, el));
}

export function missing(name: string, at: At): never {
  fail('missing-element', `<${at.el.name}> lacks the mandatory <${name}>`, at);
}

/** Text that is not only whitespace: refused where the content model has elements only. */
export function unexpectedText(text: string, at: At): never {
  const shown = text.trim().slice(0, 40);
  fail('unexpected-text', `unexpected text "${shown}" in <${at.el.name}>`, at);
}

export function isWhitespace(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes of a WBXML OPAQUE as UTF-8 text, or undefined when they are not valid UTF-8. */
export function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The character content of a leaf element, exactly as sent (OPAQUE content must be UTF-8). */
export function rawText(el: Element, at: At): string {
  const c = el.children;
  if (c.length === 0) return '';
  const first = c[0];
  if (c.length === 1 && typeof first === 'string') return first;
  let text = '';
  for (const node of c) {
    if (typeof node === 'string') text += node;
    else if (isElement(node)) unknownElement(node, child(at, el));
    else {
      const decoded = utf8OrUndefined(node.opaque);
      if (decoded === undefined)
        fail('invalid-utf8', `<${el.name}> holds bytes that are not UTF-8 text`, child(at, el));
      text += decoded;
    }
  }
  return text;
}

/** Identifiers and meta values: surrounding whitespace (pretty-printing) is not part of the value. */
export function trimmedText(el: Element, at: At): string {
  const text = rawText(el, at);
  // Printable ASCII at both ends (the usual compact value) is nothing String.prototype.trim would remove.
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  return first > 0x20 && first < 0x7f && last > 0x20 && last < 0x7f ? text : text.trim();
}

/** Decimal, non-negative, safe-integer content (MsgID, CmdID, MsgRef, CmdRef, Status/Alert Data, sizes). */
export function numberOf(el: Element, at: At): number {
  const text = trimmedText(el, at);
  let ok = text.length > 0 && text.length <= 15;
  // Accumulated while checking the digits: exact, as 15 digits stay below 2^53 (what Number(text) would give).
  let value = 0;
  for (let i = 0; ok && i < text.length; i++) {
    const c = text.charCodeAt(i);
    ok = c >= 0x30 && c <= 0x39;
    value = value * 10 + (c - 0x30);
  }
  if (!ok) {
    const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
    fail('not-a-number', `<${el.name}> must be a decimal number, got "${shown}"`, child(at, el));
  }
  return value;
}
