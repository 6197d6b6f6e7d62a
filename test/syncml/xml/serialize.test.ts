/** The XML serializer and encoder: compact deterministic output, namespaces, escaping, and what XML cannot carry. */
import { describe, expect, it } from 'vitest';
import { EncodeError } from '../../../src/errors.js';
import type { Element } from '../../../src/syncml/element.js';
import type { Item, SyncMLMessage } from '../../../src/syncml/model.js';
import { decodeXml, encodeXml, parseXml, serializeXml } from '../../../src/syncml/xml/index.js';

const message = (data: Omit<Item, 'target'> = {}): SyncMLMessage => ({
  header: {
    verDtd: '1.2',
    verProto: 'DM/1.2',
    sessionId: '1',
    msgId: 1,
    target: { locUri: 'http://127.0.0.1/dm' },
    source: { locUri: 'IMEI:1' },
    meta: { maxMsgSize: 16384 },
  },
  body: [{ kind: 'Replace', cmdId: 1, items: [{ target: { locUri: './a' }, ...data }] }],
  final: true,
});

function encodeError(fn: () => unknown): EncodeError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EncodeError);
    return error as EncodeError;
  }
  throw new Error('encoded without error');
}

describe('encodeXml', () => {
  it('writes the declaration, the SyncML default namespace and each MetInf child with syncml:metinf', () => {
    const text = new TextDecoder().decode(
      encodeXml(message({ meta: { format: 'chr', type: 'text/plain' }, data: { kind: 'text', text: 'v' } })),
    );
    expect(text).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD>' +
        '<VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>http://127.0.0.1/dm</LocURI>' +
        '</Target><Source><LocURI>IMEI:1</LocURI></Source><Meta><MaxMsgSize xmlns="syncml:metinf">16384</MaxMsgSize>' +
        '</Meta></SyncHdr><SyncBody><Replace><CmdID>1</CmdID><Item><Target><LocURI>./a</LocURI></Target><Meta>' +
        '<Format xmlns="syncml:metinf">chr</Format><Type xmlns="syncml:metinf">text/plain</Type></Meta><Data>v</Data>' +
        '</Item></Replace><Final/></SyncBody></SyncML>',
    );
  });

  it('escapes markup in Data and keeps CR and ]]> through a round trip', () => {
    const text = 'a < b && c > d ]]> "q" \'s\' \r\n end';
    const bytes = encodeXml(message({ data: { kind: 'text', text } }));
    expect(new TextDecoder().decode(bytes)).toContain(
      '<Data>a &lt; b &amp;&amp; c &gt; d ]]&gt; "q" \'s\' &#13;\n end</Data>',
    );
    expect(decodeXml(bytes)).toEqual(message({ data: { kind: 'text', text } }));
  });

  it('an embedded TNDS document carries its own xmlns; an element without namespace gets xmlns=""', () => {
    const bytes = encodeXml(
      message({
        data: {
          kind: 'xml',
          element: {
            name: 'MgmtTree',
            namespace: 'syncml:dmddf1.2',
            children: [
              { name: 'VerDTD', children: ['1.2'] },
              { name: 'Node', namespace: '', children: [] },
            ],
          },
        },
      }),
    );
    expect(new TextDecoder().decode(bytes)).toContain(
      '<Data><MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD><Node xmlns=""/></MgmtTree></Data>',
    );
  });

  it('DG-ENC-02 binary Data cannot travel in XML: EncodeError says to use b64 or WBXML', () => {
    const error = encodeError(() =>
      encodeXml(message({ data: { kind: 'binary', bytes: Uint8Array.of(0xff, 0) } })),
    );
    expect(error.code).toBe('xml-binary-data');
    expect(error.message).toMatch(/b64.*WBXML/);
  });

  it('characters XML 1.0 cannot carry are refused, naming the element', () => {
    for (const text of ['a\u0000b', '\u001B[0m', '\uFFFE', 'x\uDC00']) {
      const error = encodeError(() => encodeXml(message({ data: { kind: 'text', text } })));
      expect(error.code).toBe('xml-unrepresentable');
      expect(error.message).toMatch(/<Data>.*b64.*WBXML/);
    }
    expect(
      encodeError(() => encodeXml({ ...message(), header: { ...message().header, sessionId: '\u0007' } }))
        .message,
    ).toMatch(/SessionID/);
  });

  it('numbers that are not non-negative integers are our bug: EncodeError', () => {
    expect(
      encodeError(() => encodeXml({ ...message(), header: { ...message().header, msgId: 1.5 } })).code,
    ).toBe('invalid-number');
    const bad: SyncMLMessage = { ...message(), body: [{ kind: 'Alert', cmdId: -1, items: [] }] };
    expect(encodeError(() => encodeXml(bad)).code).toBe('invalid-number');
  });
});

describe('serializeXml', () => {
  it('emits empty elements as <x/>, attributes escaped, no declaration unless asked', () => {
    const el: Element = {
      name: 'r',
      ns: 'urn:r',
      attributes: { a: '<&>"\t\n\r\'' },
      children: [{ name: 'e', ns: 'urn:r', children: [] }],
    };
    const text = serializeXml(el);
    expect(text).toBe('<r xmlns="urn:r" a="&lt;&amp;&gt;&quot;&#9;&#10;&#13;\'"><e/></r>');
    expect(parseXml(text)).toEqual(el);
    expect(serializeXml(el, { declaration: true })).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?><r /);
  });

  it('refuses invalid element and attribute names and namespace-declaring attributes', () => {
    expect(encodeError(() => serializeXml({ name: 'a b', ns: '', children: [] })).code).toBe(
      'xml-invalid-name',
    );
    expect(encodeError(() => serializeXml({ name: '1a', ns: '', children: [] })).code).toBe(
      'xml-invalid-name',
    );
    expect(
      encodeError(() => serializeXml({ name: 'a', ns: '', attributes: { '"': 'x' }, children: [] })).code,
    ).toBe('xml-invalid-name');
    expect(
      encodeError(() => serializeXml({ name: 'a', ns: '', attributes: { xmlns: 'urn:x' }, children: [] }))
        .code,
    ).toBe('xml-invalid-name');
  });

  it('refuses OPAQUE children', () => {
    const el: Element = { name: 'Data', ns: '', children: [{ opaque: Uint8Array.of(1) }] };
    expect(encodeError(() => serializeXml(el)).code).toBe('xml-binary-data');
  });
});
