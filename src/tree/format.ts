/** Node formats (tree.md §4): checks of leaf values against their Format, and b64 handling. */
import { Formats, type Format } from '../syncml/constants.js';
import { TreeError } from './tree-error.js';

export function isFormat(text: string): text is Format {
  return (Formats as readonly string[]).includes(text);
}

/** Parses a Meta/DFFormat string; unknown → 415 (unsupported format). */
export function toFormat(text: string, uri?: string): Format {
  const f = text.trim();
  if (!isFormat(f)) throw new TreeError(415, 'unsupported-format', `unsupported format "${text}"`, uri);
  return f;
}

const INT = /^[+-]?\d{1,10}$/;
const FLOAT = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?INF|NaN)$/;
const DATE = /^(?:\d{4}-\d{2}-\d{2}|\d{8})$/;
const TIME = /^(?:\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?|\d{4}(?:\d{2}(?:\.\d+)?)?)(?:Z|[+-]\d{2}(?::?\d{2})?)?$/;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function refuse(format: Format, value: string, uri: string | undefined): TreeError {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return new TreeError(400, 'value-format-mismatch', `value "${shown}" is not a valid ${format}`, uri);
}

/**
 * Checks a leaf value against its Format. A value that contradicts the declared format is a bad request
 * (400): the format itself is supported (an unknown format is 415, see toFormat).
 */
export function checkValue(format: Format, bytes: Uint8Array, uri?: string): void {
  if (format === 'bin' || format === 'chr' || format === 'xml') return;
  const text = new TextDecoder().decode(bytes);
  switch (format) {
    case 'int': {
      // tree.md §4: int is a 32-bit signed integer as decimal text.
      const n = INT.test(text) ? Number(text) : NaN;
      if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) throw refuse(format, text, uri);
      return;
    }
    case 'bool':
      if (text !== 'true' && text !== 'false') throw refuse(format, text, uri);
      return;
    case 'float':
      if (!FLOAT.test(text)) throw refuse(format, text, uri);
      return;
    case 'date':
      if (!DATE.test(text)) throw refuse(format, text, uri);
      return;
    case 'time':
      if (!TIME.test(text)) throw refuse(format, text, uri);
      return;
    case 'b64':
      if (!B64.test(text.replace(/\s+/g, ''))) throw refuse(format, text, uri);
      return;
    case 'null':
      if (bytes.length > 0) throw refuse(format, text, uri);
      return;
    case 'node':
      throw new TreeError(405, 'leaf-format-node', 'a leaf cannot have Format node', uri);
  }
}

/** Decodes Base64 text (whitespace ignored); malformed → 400. */
export function decodeB64(text: string, uri?: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (!B64.test(clean)) throw refuse('b64', text, uri);
  return new Uint8Array(Buffer.from(clean, 'base64'));
}

export function encodeB64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
