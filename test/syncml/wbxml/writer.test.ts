import { describe, expect, it } from 'vitest';
import { EncodeError } from '../../../src/errors.js';
import type { Element, Node } from '../../../src/syncml/element.js';
import { decodeWbxml, encodeWbxml, readWbxml, writeWbxml } from '../../../src/syncml/wbxml/index.js';
import { decodeXml } from '../../../src/syncml/xml/index.js';
import { HEADER, bytes, fromHex, strI, toHex } from './wbxml-bytes.js';

const S = 'SYNCML:SYNCML1.2';
const M = 'syncml:metinf';
const D = 'syncml:dmddf1.2';

const s = (name: string, ...children: Node[]): Element => ({ name, ns: S, children });
const m = (name: string, ...children: Node[]): Element => ({ name, ns: M, children });

/** wbxml.md §9, the worked example. */
const GOLDEN_XML = `<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>
<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>http://s/dm</LocURI></Target>
<Source><LocURI>IMEI:1</LocURI></Source>
<Meta><MaxMsgSize xmlns="syncml:metinf">16384</MaxMsgSize></Meta></SyncHdr>
<SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Final/></SyncBody></SyncML>`;
const GOLDEN_HEX =
  '02 a4 01 6a 00 6d 6c 71 03 31 2e 32 00 01 72 03 44 4d 2f 31 2e 32 00 01 65 03 31 00 01 5b 03 31 00 01 6e 57 03 68 ' +
  '74 74 70 3a 2f 2f 73 2f 64 6d 00 01 01 67 57 03 49 4d 45 49 3a 31 00 01 01 5a 00 01 4c 03 31 36 33 38 34 00 01 01 ' +
  '01 00 00 6b 46 4b 03 31 00 01 4f 03 31 32 30 31 00 01 01 12 01 01';

describe('WBXML writer', () => {
  it('encodes the worked example of wbxml.md §9 to exactly its 98 bytes', () => {
    const golden = fromHex(GOLDEN_HEX);
    expect(golden.length).toBe(98);
    const message = decodeXml(GOLDEN_XML);
    expect(toHex(encodeWbxml(message))).toBe(toHex(golden));
    expect(decodeWbxml(golden)).toEqual(message);
  });

  it('writes empty elements as bare tokens and switches page only when the namespace changes', () => {
    const tree = s('Meta', m('Format', 'chr'), m('Type', 'text/plain'), s('MoreData'), s('Data'));
    expect(toHex(writeWbxml(tree))).toBe(
      toHex(
        bytes(
          HEADER,
          0x5a,
          0x00,
          0x01,
          0x47,
          strI('chr'),
          0x01,
          0x53,
          strI('text/plain'),
          0x01,
          0x00,
          0x00,
          0x34,
          0x0f,
          0x01,
        ),
      ),
    );
  });

  it('writes names a page lacks as literal tags through the string table, once each', () => {
    const tree = s('SyncML', s('Vendor', 'a'), s('Vendor'), m('Extra'));
    const out = writeWbxml(tree);
    expect(toHex(out)).toBe(
      toHex(
        bytes(
          0x02,
          0xa4,
          0x01,
          0x6a,
          0x0d,
          'Vendor',
          0x00,
          'Extra',
          0x00,
          0x6d,
          0x44,
          0x00,
          strI('a'),
          0x01,
          0x04,
          0x00,
          0x00,
          0x01,
          0x04,
          0x07,
          0x01,
        ),
      ),
    );
    expect(readWbxml(out).root).toEqual(tree);
  });

  it('writes raw bytes as OPAQUE and attributes as literal name + STR_I', () => {
    const tree: Element = {
      name: 'X',
      ns: D,
      attributes: { a: '1', b: '', xmlns: 'ignored' },
      children: [{ opaque: Uint8Array.of(0, 0xff) }],
    };
    const out = writeWbxml(tree, { publicId: 1 });
    expect(toHex(out)).toBe(
      toHex(
        bytes(
          0x02,
          0x01,
          0x6a,
          0x06,
          'X',
          0x00,
          'a',
          0x00,
          'b',
          0x00,
          0x00,
          0x02,
          0xc4,
          0x00,
          0x04,
          0x02,
          strI('1'),
          0x04,
          0x04,
          0x01,
          0xc3,
          0x02,
          0x00,
          0xff,
          0x01,
        ),
      ),
    );
    expect(readWbxml(out).root).toEqual({ ...tree, attributes: { a: '1', b: '' } });
  });

  it('writes the FPI through the string table when asked, and other versions', () => {
    const out = writeWbxml(s('SyncML'), { publicId: '-//SYNCML//DTD SyncML 1.2//EN', version: 3 });
    expect(toHex(out.subarray(0, 5))).toBe('0300006a1e');
    expect(readWbxml(out)).toMatchObject({ version: 3, publicId: '-//SYNCML//DTD SyncML 1.2//EN' });
    expect(toHex(writeWbxml(s('SyncML'), { version: 0 }))).toBe('00a401002d'); // 1.0: no charset
  });

  it('shares repeated text through the string table when asked (STR_T), and only then', () => {
    const tree = s(
      'Meta',
      m('Type', 'text/plain'),
      m('Type', 'text/plain'),
      m('Format', 'chr'),
      m('Format', 'chr'),
    );
    const t = [0x03, 'chr', 0x00];
    expect(toHex(writeWbxml(tree, { stringTable: true }))).toBe(
      toHex(
        bytes(
          0x02,
          0xa4,
          0x01,
          0x6a,
          0x0b,
          'text/plain',
          0x00,
          0x5a,
          0x00,
          0x01,
          0x53,
          0x83,
          0x00,
          0x01,
          0x53,
          0x83,
          0x00,
          0x01,
          0x47,
          t,
          0x01,
          0x47,
          t,
          0x01,
          0x01,
        ),
      ),
    );
    expect(readWbxml(writeWbxml(tree, { stringTable: true })).root).toEqual(tree);
    expect(writeWbxml(tree).length).toBeGreaterThan(writeWbxml(tree, { stringTable: true }).length);
  });

  it('refuses trees WBXML cannot carry, saying why', () => {
    expect(() => writeWbxml({ name: 'X', ns: 'urn:other', children: [] })).toThrow(EncodeError);
    expect(() => writeWbxml({ name: 'X', ns: 'urn:other', children: [] })).toThrow(/urn:other/);
    expect(() => writeWbxml(s('Data', 'a\u0000b'))).toThrow(
      expect.objectContaining({ code: 'wbxml-nul-in-text' }) as Error,
    );
    expect(() => writeWbxml(s('Data', 'x'.repeat(100) + '\u0000'))).toThrow(/U\+0000/);
    expect(() => writeWbxml(s('SyncML'), { version: 7 })).toThrow(EncodeError);
  });

  it('encodes every character, including astral ones, and a lone surrogate as U+FFFD', () => {
    const text = 'é€😀 ascii';
    for (const t of [text, text.repeat(20)])
      expect(readWbxml(writeWbxml(s('Data', t))).root.children).toEqual([t]);
    expect(readWbxml(writeWbxml(s('Data', 'a\ud800b'))).root.children).toEqual(['a\ufffdb']);
  });
});
