/**
 * DDF/TNDS documents as bytes: XML through the XML codec, WBXML through the WBXML codec (code page 2,
 * public id `-//OMA//DTD-DM-DDF 1.2//EN` in the string table, wbxml.md §3, §6).
 */
import { OmadmError } from '../errors.js';
import type { Element } from '../syncml/element.js';
import type { XmlElement } from '../syncml/model.js';
import { readWbxml, writeWbxml } from '../syncml/wbxml/index.js';
import { parseXml, serializeXml } from '../syncml/xml/index.js';
import { toCodecElement } from './doc-element.js';
import { TreeError } from './tree-error.js';

/** Parses a DDF/TNDS document: text is XML; bytes are WBXML when they start with a WBXML version byte, else XML. */
export function readDocument(input: string | Uint8Array): Element {
  try {
    if (typeof input !== 'string' && input.length > 0 && input[0]! <= 0x03) return readWbxml(input).root;
    const text = typeof input === 'string' ? input : new TextDecoder().decode(input);
    return parseXml(text);
  } catch (cause) {
    if (cause instanceof TreeError) throw cause;
    const why = cause instanceof OmadmError ? cause.message : String(cause);
    throw new TreeError(400, 'bad-document', `DDF/TNDS document does not decode (${why})`);
  }
}

/** XML text of a document (with the XML declaration). */
export function documentToXml(doc: XmlElement): string {
  return serializeXml(toCodecElement(doc), { declaration: true });
}

/** WBXML bytes of a document (WBXML 1.2, UTF-8, DM DDF code page 2). */
export function documentToWbxml(doc: XmlElement): Uint8Array {
  return writeWbxml(toCodecElement(doc));
}
