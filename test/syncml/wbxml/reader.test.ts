import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/errors.js';
import type { Element } from '../../../src/syncml/element.js';
import { decodeWbxml, readWbxml } from '../../../src/syncml/wbxml/index.js';
import { HEADER, bytes, strI } from './wbxml-bytes.js';

const S = 'SYNCML:SYNCML1.2';
const M = 'syncml:metinf';
const FPI = '-//SYNCML//DTD SyncML 1.2//EN';

/** A minimal complete DM message body (SyncHdr + SyncBody with Final), to decode with decodeWbxml. */
const MESSAGE_BODY = [
  0x6d,
  [0x6c, 0x71, strI('1.2'), 0x01, 0x72, strI('DM/1.2'), 0x01, 0x65, strI('1'), 0x01, 0x5b, strI('1'), 0x01],
  [0x6e, 0x57, strI('http://s/dm'), 0x01, 0x01, 0x67, 0x57, strI('IMEI:1'), 0x01, 0x01, 0x01],
  [0x6b, 0x12, 0x01],
  0x01,
];

function decodeError(run: () => unknown): DecodeError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error('expected a DecodeError, but decoding succeeded');
}

function expectRefused(input: Uint8Array, code: string, where?: string): DecodeError {
  const error = decodeError(() => readWbxml(input));
  expect(error.code).toBe(code);
  if (where !== undefined) expect(error.where).toBe(where);
  return error;
}

function el(name: string, ns: string, ...children: Element['children'][number][]): Element {
  return { name, ns, children };
}

describe('WBXML reader: header', () => {
  it('reads the numeric SyncML 1.2 header 02 A4 01 6A (DG-ENC-01)', () => {
    const doc = readWbxml(bytes(HEADER, 0x2d));
    expect(doc).toEqual({ version: 2, publicId: 0x1201, charset: 106, root: el('SyncML', S) });
  });

  it.each([
    ['without NUL, as the RTK writes it', bytes(0x02, 0x00, 0x00, 0x6a, 29, FPI, MESSAGE_BODY)],
    ['with a NUL terminator', bytes(0x02, 0x00, 0x00, 0x6a, 30, FPI, 0x00, MESSAGE_BODY)],
    ['in other letter case', bytes(0x02, 0x00, 0x00, 0x6a, 30, FPI.toUpperCase(), 0x00, MESSAGE_BODY)],
  ])('reads the public id as a string-table FPI %s (DG-ENC-01)', (_, input) => {
    const doc = readWbxml(input);
    expect(String(doc.publicId).toLowerCase()).toBe(FPI.toLowerCase());
    expect(decodeWbxml(input).header.target.locUri).toBe('http://s/dm');
  });

  it('reads WBXML 1.0, which has no charset field', () => {
    const doc = readWbxml(bytes(0x00, 0xa4, 0x01, 0x00, 0x2d));
    expect(doc).toMatchObject({ version: 0, publicId: 0x1201, charset: 0 });
    expect(doc.root.name).toBe('SyncML');
  });

  it.each([1, 3])('reads WBXML 1.%i', (minor) => {
    expect(readWbxml(bytes(minor, 0xa4, 0x01, 0x6a, 0x00, 0x2d)).version).toBe(minor);
  });

  it.each([0, 3, 106])('accepts charset %i (unknown, US-ASCII, UTF-8) and reads UTF-8', (charset) => {
    const doc = readWbxml(bytes(0x02, 0xa4, 0x01, charset, 0x00, 0x4f, strI('é'), 0x01));
    expect(doc.root.children).toEqual(['é']);
  });

  it('refuses other charsets, naming them', () => {
    const error = expectRefused(
      bytes(0x02, 0xa4, 0x01, 0x04, 0x00, 0x2d),
      'wbxml-unsupported-charset',
      'byte 3',
    );
    expect(error.message).toContain('ISO-8859-1');
  });

  it('refuses unknown versions and says when the input looks like XML', () => {
    expectRefused(bytes(0x04, 0xa4, 0x01, 0x6a, 0x00, 0x2d), 'wbxml-unsupported-version', 'byte 0');
    expect(expectRefused(bytes('<?xml version="1.0"?>'), 'wbxml-unsupported-version').message).toContain(
      'XML',
    );
  });

  it('refuses a string table longer than the input', () => {
    expectRefused(bytes(0x02, 0xa4, 0x01, 0x6a, 0x7f, 0x00), 'wbxml-truncated', 'byte 4');
  });

  it('refuses a public-id FPI offset outside the string table', () => {
    expectRefused(bytes(0x02, 0x00, 0x05, 0x6a, 0x02, 'a', 0x00, 0x2d), 'wbxml-bad-string-offset');
  });
});

describe('WBXML reader: body tokens', () => {
  it('reads inline and string-table strings and character entities as one text', () => {
    const doc = readWbxml(
      bytes(
        0x02,
        0xa4,
        0x01,
        0x6a,
        0x04,
        'ab',
        0x00,
        0x00,
        0x4f,
        strI('x'),
        0x83,
        0x00,
        0x02,
        0x81,
        0x69,
        0x01,
      ),
    );
    expect(doc.root).toEqual(el('Data', S, 'xabé'));
  });

  it('resolves literal tags from the string table in the namespace of the current page', () => {
    // strtbl: "Foo\0Bar\0"; SyncML{ LITERAL Foo, SWITCH 1, LITERAL_C Bar { "x" } }
    const input = bytes(
      0x02,
      0xa4,
      0x01,
      0x6a,
      0x08,
      'Foo',
      0x00,
      'Bar',
      0x00,
      0x6d,
      0x04,
      0x00,
      0x00,
      0x01,
      0x44,
      0x04,
      strI('x'),
      0x01,
      0x01,
    );
    expect(readWbxml(input).root).toEqual(el('SyncML', S, el('Foo', S), el('Bar', M, 'x')));
  });

  it('keeps literal attributes, skips coded ones and drops namespace declarations (LITERAL_A, LITERAL_AC, 0x80)', () => {
    // strtbl: "X\0a\0xmlns\0"
    const input = bytes(
      [0x02, 0xa4, 0x01, 0x6a, 0x0a, 'X', 0x00, 'a', 0x00, 'xmlns', 0x00],
      [0xc4, 0x00, 0x04, 0x02, strI('1'), 0x04, 0x04, strI('urn:x'), 0x01], // LITERAL_AC X a="1" xmlns=...
      [0x84, 0x00, 0x05, strI('skipped'), 0x85, 0x01], // LITERAL_A X, coded attribute 0x05 with values
      [0xcf, 0x05, 0x83, 0x02, 0x01, strI('d'), 0x01], // Data with attributes (coded, skipped) and content
      0x01,
    );
    const root = readWbxml(input).root;
    expect(root).toEqual({
      name: 'X',
      ns: S,
      attributes: { a: '1' },
      children: [el('X', S), el('Data', S, 'd')],
    });
  });

  it('keeps OPAQUE bytes exactly, as a copy of the input', () => {
    const input = bytes(HEADER, 0x4f, 0xc3, 0x03, 0x00, 0xff, 0x01, 0x01);
    const root = readWbxml(input).root;
    const opaque = root.children[0] as { opaque: Uint8Array };
    expect(Array.from(opaque.opaque)).toEqual([0x00, 0xff, 0x01]);
    input[8] = 0x42;
    expect(opaque.opaque[0]).toBe(0x00);
  });

  it('skips processing instructions before, inside and after the root', () => {
    const pi = [0x43, 0x05, strI('v'), 0x01];
    expect(readWbxml(bytes(HEADER, pi, 0x6d, pi, 0x12, 0x01, pi)).root).toEqual(
      el('SyncML', S, el('Final', S)),
    );
  });

  it('honours SWITCH_PAGE just before END and never assumes a switch back to page 0', () => {
    // Meta{ SWITCH 1, MaxMsgSize{…}, SWITCH 0, END } then Meta{ SWITCH 1 … END } and a page-1 tag with no switch.
    const input = bytes(
      HEADER,
      0x6d,
      0x5a,
      0x00,
      0x01,
      0x4c,
      strI('1'),
      0x01,
      0x00,
      0x00,
      0x01,
      0x5a,
      0x00,
      0x01,
      0x13,
      0x01,
      0x4c,
      strI('2'),
      0x01,
      0x01,
    );
    expect(readWbxml(input).root).toEqual(
      el(
        'SyncML',
        S,
        el('Meta', S, el('MaxMsgSize', M, '1')),
        el('Meta', S, el('Type', M)),
        el('MaxMsgSize', M, '2'),
      ),
    );
  });

  it('reads DDF tags from code page 2, telling Node from node', () => {
    const input = bytes(0x02, 0x01, 0x6a, 0x00, 0x00, 0x02, 0x60, 0x64, 0x25, 0x01, 0x01);
    expect(readWbxml(input).root).toEqual(
      el('MgmtTree', 'syncml:dmddf1.2', el('Node', 'syncml:dmddf1.2', el('node', 'syncml:dmddf1.2'))),
    );
  });
});

describe('WBXML reader: refusals carry the byte offset', () => {
  it('END without an open element', () => {
    expectRefused(bytes(HEADER, 0x01), 'wbxml-unexpected-end', 'byte 5');
  });

  it('unknown tag tokens, including the reserved 0x30 of page 0', () => {
    expectRefused(bytes(HEADER, 0x6d, 0x30, 0x01), 'wbxml-unknown-token', 'byte 6');
    expectRefused(bytes(HEADER, 0x00, 0x01, 0x20), 'wbxml-unknown-token', 'byte 7');
  });

  it('tags on a code page SyncML DM does not define', () => {
    expectRefused(bytes(HEADER, 0x00, 0x07, 0x2d), 'wbxml-unknown-code-page', 'byte 7');
  });

  it('multi-byte integers longer than 5 bytes or over 32 bits', () => {
    expectRefused(bytes(0x02, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), 'wbxml-bad-integer', 'byte 1');
    expectRefused(bytes(0x02, 0x90, 0x80, 0x80, 0x80, 0x00), 'wbxml-bad-integer', 'byte 1');
    expectRefused(bytes(HEADER, 0x4f, 0xc3, 0x8f, 0xff, 0xff, 0xff, 0x7f), 'wbxml-truncated');
  });

  it('string-table offsets outside the table', () => {
    expectRefused(
      bytes(0x02, 0xa4, 0x01, 0x6a, 0x02, 'a', 0x00, 0x04, 0x02),
      'wbxml-bad-string-offset',
      'byte 7',
    );
    expectRefused(bytes(HEADER, 0x4f, 0x83, 0x00, 0x01), 'wbxml-bad-string-offset', 'byte 6');
  });

  it('content outside the root, extension tokens, bytes after the root', () => {
    expectRefused(bytes(HEADER, strI('x')), 'wbxml-unexpected-content', 'byte 5');
    expectRefused(bytes(HEADER, 0x6d, 0xc0, 0x01), 'wbxml-unsupported-extension', 'byte 6');
    expectRefused(bytes(HEADER, 0x2d, 0x2d), 'wbxml-trailing-bytes', 'byte 6');
  });

  it('strings that are not UTF-8 and entities that are not characters', () => {
    expectRefused(bytes(HEADER, 0x4f, 0x03, 0xc3, 0x28, 0x00, 0x01), 'wbxml-invalid-utf8', 'byte 7');
    expectRefused(bytes(HEADER, 0x4f, 0x02, 0x84, 0x80, 0x80, 0x00, 0x01), 'wbxml-bad-entity', 'byte 6');
  });

  it('every truncation of a valid message', () => {
    const whole = bytes(HEADER, MESSAGE_BODY);
    expect(decodeWbxml(whole).final).toBe(true);
    for (let n = 0; n < whole.length; n++) {
      expect(decodeError(() => readWbxml(whole.subarray(0, n))).code, `prefix of ${n} bytes`).toBe(
        'wbxml-truncated',
      );
    }
  });
});

describe('WBXML reader: limits', () => {
  it('checks maxBytes before reading anything, answering 413', () => {
    const error = decodeError(() => readWbxml(new Uint8Array(100).fill(0xff), { maxBytes: 99 }));
    expect(error).toMatchObject({ code: 'too-large', status: 413, httpStatus: 413 });
  });

  it('checks maxDepth and maxElements', () => {
    const nested = bytes(HEADER, 0x6d, 0x6b, 0x48, 0x12, 0x01, 0x01, 0x01);
    expect(readWbxml(nested, { maxDepth: 4, maxElements: 4 }).root.name).toBe('SyncML');
    expect(decodeError(() => readWbxml(nested, { maxDepth: 3 }))).toMatchObject({
      code: 'too-deep',
      where: 'byte 8',
    });
    expect(decodeError(() => readWbxml(nested, { maxElements: 3 }))).toMatchObject({
      code: 'too-many-elements',
      where: 'byte 8',
    });
  });
});
