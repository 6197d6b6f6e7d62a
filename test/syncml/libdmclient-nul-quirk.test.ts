/**
 * A real-client quirk (libdmclient): it ends `chr` and child-list Data with U+0000 (`chr\0`, `b1/a2/a1\0`), in XML
 * as a raw character and in WBXML as OPAQUE C strings. XML 1.0 §2.2 forbids the character; we are liberal where it
 * does no harm: dropped from character data in XML, trailing NULs dropped from text Data in WBXML, so both
 * encodings give the same model. Everywhere else U+0000, and every other forbidden control, is still refused.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/errors.js';
import { decodeMessage } from '../../src/syncml/codec.js';
import type { Command, Item, SyncMLMessage } from '../../src/syncml/model.js';
import { decodeWbxml, encodeWbxml } from '../../src/syncml/wbxml/index.js';
import { parseXml } from '../../src/syncml/xml/index.js';

const FIXTURES = new URL('../fixtures/libdmclient-sessions/', import.meta.url);

function refusal(input: string): DecodeError {
  try {
    parseXml(input);
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error('the input was accepted');
}

function items(message: SyncMLMessage): Item[] {
  const all = (commands: readonly Command[]): Item[] =>
    commands.flatMap((c) =>
      c.kind === 'Atomic' || c.kind === 'Sequence' ? all(c.commands) : 'items' in c ? [...c.items] : [],
    );
  return all(message.body);
}

describe('U+0000 from libdmclient', () => {
  it('XML: dropped from text and CDATA', () => {
    expect(parseXml('<r>chr\u0000</r>').children).toEqual(['chr']);
    expect(parseXml('<r>b1/a2/a1\u0000</r>').children).toEqual(['b1/a2/a1']);
    expect(parseXml('<r><![CDATA[a\u0000b]]></r>').children).toEqual(['ab']);
    expect(parseXml('<r>x&amp;\u0000y</r>').children).toEqual(['x&y']);
  });

  it('XML: still refused in markup, as a reference, and every other forbidden control still refused', () => {
    expect(refusal('<r a="x\u0000"/>')).toMatchObject({ code: 'xml-illegal-char', where: '1:8' });
    expect(refusal('<r><!-- \u0000 --></r>')).toMatchObject({ code: 'xml-illegal-char' });
    expect(refusal('<r><?pi \u0000?></r>')).toMatchObject({ code: 'xml-illegal-char' });
    expect(refusal('<r\u0000/>')).toMatchObject({ code: 'xml-malformed' });
    expect(refusal('<r>&#0;</r>')).toMatchObject({ code: 'xml-illegal-char' });
    expect(refusal('<r>a\u0001</r>')).toMatchObject({ code: 'xml-illegal-char', where: '1:5' });
    expect(refusal('<r>\u001f</r>')).toMatchObject({ code: 'xml-illegal-char' });
  });

  it('WBXML: trailing NULs of OPAQUE text Data dropped; bytes that are not a C string kept', () => {
    const message = (data: Uint8Array): SyncMLMessage => ({
      header: {
        verDtd: '1.2',
        verProto: 'DM/1.2',
        sessionId: '1',
        msgId: 2,
        target: { locUri: 'http://127.0.0.1/dm' },
        source: { locUri: 'DMCtest' },
      },
      body: [
        {
          kind: 'Results',
          cmdId: 1,
          msgRef: 1,
          cmdRef: 2,
          items: [{ source: { locUri: './Vendor/memory/b1' }, data: { kind: 'binary', bytes: data } }],
        },
      ],
      final: true,
    });
    const decoded = (data: number[]): unknown =>
      items(decodeWbxml(encodeWbxml(message(Uint8Array.from(data)))))[0]?.data;
    expect(decoded([0x63, 0x68, 0x72, 0])).toEqual({ kind: 'text', text: 'chr' });
    expect(decoded([0x61, 0, 0])).toEqual({ kind: 'text', text: 'a' });
    expect(decoded([1, 0, 0, 0])).toEqual({ kind: 'text', text: '\u0001\u0000\u0000\u0000' });
    expect(decoded([0x61, 0, 0x62, 0])).toEqual({ kind: 'text', text: 'a\u0000b\u0000' });
  });

  it('the captured Package 3 in XML and in WBXML give the same Data (libdmclient-sessions/*/2-client)', () => {
    const xml = decodeMessage(
      new Uint8Array(readFileSync(new URL('xml-basic-nul-in-data/2-client.xml', FIXTURES))),
      'application/vnd.syncml+xml',
    );
    const wbxml = decodeMessage(
      new Uint8Array(readFileSync(new URL('wbxml-basic-atomic/2-client.wbxml', FIXTURES))),
      'application/vnd.syncml+wbxml',
    );
    const data = (m: SyncMLMessage): unknown[] => items(m).map((item) => item.data);
    expect(data(xml)).toEqual(data(wbxml));
    expect(data(xml)).toContainEqual({ kind: 'text', text: 'chr' });
    expect(data(xml)).toContainEqual({ kind: 'text', text: 'b1/a2/a1' });
  });
});
