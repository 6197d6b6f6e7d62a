/** The strict XML 1.0 + Namespaces parser: what it resolves, and every refusal with its code and line:column. */
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/errors.js';
import type { Element } from '../../../src/syncml/element.js';
import { DEFAULT_DECODE_LIMITS } from '../../../src/syncml/limits.js';
import { decodeXml, parseXml } from '../../../src/syncml/xml/index.js';

function refusal(input: string | Uint8Array, limits?: Parameters<typeof parseXml>[1]): DecodeError {
  try {
    parseXml(input, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error('the input was accepted');
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('parseXml: namespaces', () => {
  it('resolves default namespaces, prefixes, re-declarations and xmlns="" un-declaring', () => {
    const root = parseXml(
      '<a:r xmlns:a="urn:a" xmlns="urn:d"><x/><a:y/><z xmlns="urn:z"><w/></z><v xmlns=""/><b:u xmlns:b="urn:b"/></a:r>',
    );
    const names = (el: Element): unknown =>
      el.children.map((c) => (typeof c === 'object' && 'name' in c ? [c.name, c.ns, names(c)] : c));
    expect([root.name, root.ns]).toEqual(['r', 'urn:a']);
    expect(names(root)).toEqual([
      ['x', 'urn:d', []],
      ['y', 'urn:a', []],
      ['z', 'urn:z', [['w', 'urn:z', []]]],
      ['v', '', []],
      ['u', 'urn:b', []],
    ]);
  });

  it('keeps attributes other than namespace declarations, values unescaped and normalized', () => {
    const root = parseXml(
      '<r xmlns="urn:r" xmlns:p="urn:p" id=\'1\' p:k="a&amp;b&#9;c\td&quot;" xml:lang="en"/>',
    );
    expect(root.attributes).toEqual({ id: '1', 'p:k': 'a&b\tc d"', 'xml:lang': 'en' });
    expect(parseXml('<r/>').attributes).toBeUndefined();
  });

  it('refuses unbound prefixes, illegal declarations and malformed qualified names', () => {
    expect(refusal('<p:r/>')).toMatchObject({ code: 'xml-namespace', where: '1:1' });
    expect(refusal('<r q:a="1"/>')).toMatchObject({ code: 'xml-namespace' });
    expect(refusal('<r xmlns:p=""/>')).toMatchObject({ code: 'xml-namespace' });
    expect(refusal('<r xmlns:xmlns="urn:x"/>')).toMatchObject({ code: 'xml-namespace' });
    expect(refusal('<a:b:c xmlns:a="urn:a"/>')).toMatchObject({ code: 'xml-namespace' });
  });
});

describe('parseXml: text', () => {
  it('merges text, CDATA and references into one string; keeps whitespace nodes for the caller', () => {
    const root = parseXml('<r>a<![CDATA[<&>]]>b&lt;&gt;&amp;&apos;&quot;&#65;&#x1F600;<e/> </r>');
    expect(root.children).toEqual(['a<&>b<>&\'"A😀', { name: 'e', ns: '', children: [] }, ' ']);
  });

  it('skips comments and processing instructions anywhere, and a leading BOM', () => {
    const root = parseXml(
      utf8('\uFEFF<?xml version="1.0"?><!-- c --><?pi x?><r>a<!-- in -->b<?p?></r><!-- end --><?x?>'),
    );
    expect(root).toEqual({ name: 'r', ns: '', children: ['ab'] });
    expect(parseXml('\uFEFF<r/>').name).toBe('r');
  });

  it('tolerates whitespace before the XML declaration, whose encoding is still checked', () => {
    expect(parseXml('\n  <?xml version="1.0" encoding="UTF-8"?>\n<r/>').name).toBe('r');
    expect(refusal('\n<?xml version="1.0" encoding="latin1"?><r/>')).toMatchObject({
      code: 'xml-encoding',
      where: '2:1',
    });
  });

  it('normalizes CRLF and CR to LF (XML 1.0 §2.11) but keeps &#13;', () => {
    expect(parseXml('<r>a\r\nb\rc&#13;</r>').children).toEqual(['a\nb\nc\r']);
  });

  it('refuses undefined entities, bare ampersands and bad character references', () => {
    expect(refusal('<r>&nbsp;</r>')).toMatchObject({ code: 'xml-entity', where: '1:4' });
    expect(refusal('<r>a & b</r>')).toMatchObject({ code: 'xml-malformed' });
    expect(refusal('<r>&#xZZ;</r>')).toMatchObject({ code: 'xml-malformed' });
    expect(refusal('<r>&#0;</r>')).toMatchObject({ code: 'xml-illegal-char' });
    expect(refusal('<r a="&foo;"/>')).toMatchObject({ code: 'xml-entity' });
  });

  it('refuses characters XML 1.0 forbids, raw or unpaired', () => {
    expect(refusal('<r>a\u0001</r>')).toMatchObject({ code: 'xml-illegal-char', where: '1:5' });
    expect(refusal('<r>\uFFFF</r>')).toMatchObject({ code: 'xml-illegal-char' });
    expect(refusal('<r>\uD800</r>')).toMatchObject({ code: 'xml-illegal-char' });
  });
});

describe('parseXml: DTDs are refused, never expanded', () => {
  it('a billion-laughs DOCTYPE is refused at once', () => {
    const lol = [
      '<?xml version="1.0"?>',
      '<!DOCTYPE lolz [',
      '<!ENTITY lol "lol">',
      ...Array.from(
        { length: 9 },
        (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`,
      ),
      ']>',
      '<SyncML xmlns="SYNCML:SYNCML1.2">&lol9;</SyncML>',
    ].join('\n');
    const started = performance.now();
    expect(() => decodeXml(lol)).toThrow(DecodeError);
    expect(refusal(lol)).toMatchObject({ code: 'xml-doctype', where: '2:1' });
    expect(refusal(lol).message).toBe('a DOCTYPE with an internal subset is not allowed (at 2:1)');
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('a DOCTYPE that only names an external DTD (as devices and wbxml2xml send) is skipped, never fetched', () => {
    const message = (doctype: string) =>
      `<?xml version="1.0"?>\n${doctype}\n<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>http://127.0.0.1/dm</LocURI></Target><Source><LocURI>IMEI:1</LocURI></Source></SyncHdr><SyncBody><Final/></SyncBody></SyncML>`;
    const plain = decodeXml(message(''));
    expect(
      decodeXml(
        message(
          '<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.2//EN" "http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd">',
        ),
      ),
    ).toEqual(plain);
    expect(decodeXml(message("<!DOCTYPE SyncML SYSTEM 'file:///etc/passwd'>"))).toEqual(plain);
    expect(refusal(message('<!DOCTYPE SyncML SYSTEM "x.dtd" [<!ENTITY a "b">]>'))).toMatchObject({
      code: 'xml-doctype',
      where: '2:1',
    });
    expect(
      refusal(message('<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.2//EN" "x.dtd"><!DOCTYPE SyncML>')),
    ).toMatchObject({ code: 'xml-doctype' });
    expect(refusal('<!DOCTYPE SyncML PUBLIC "unterminated><r/>')).toMatchObject({ code: 'xml-malformed' });
  });

  it('entity declarations and other markup declarations', () => {
    expect(refusal('<!ENTITY x "y"><r/>')).toMatchObject({ code: 'xml-entity' });
    expect(refusal('<r><!ENTITY x "y"></r>')).toMatchObject({ code: 'xml-entity' });
    expect(refusal('<r><!DOCTYPE r></r>')).toMatchObject({ code: 'xml-doctype' });
    expect(refusal('<r><!ELEMENT r ANY></r>')).toMatchObject({ code: 'xml-malformed' });
  });
});

describe('parseXml: hostile shapes stay linear', () => {
  it('thousands of namespace declarations and prefixed names', () => {
    const n = 20_000;
    const decls = Array.from({ length: n }, (_, i) => ` xmlns:p${i}="urn:${i}"`).join('');
    const xml = `<r${decls}>${'<p0:e/>'.repeat(n)}</r>`;
    const started = performance.now();
    const root = parseXml(xml);
    expect(root.children).toHaveLength(n);
    expect(root.children[n - 1]).toEqual({ name: 'e', ns: 'urn:0', children: [] });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('thousands of attributes on one element, and duplicates among them found', () => {
    const attrs = Array.from({ length: 20_000 }, (_, i) => ` a${i}="${i}"`).join('');
    const started = performance.now();
    expect(Object.keys(parseXml(`<r${attrs}/>`).attributes!)).toHaveLength(20_000);
    expect(refusal(`<r${attrs} a7="x"/>`)).toMatchObject({ code: 'xml-malformed' });
    expect(refusal('<r xmlns="urn:a" xmlns="urn:b"/>')).toMatchObject({ code: 'xml-malformed' });
    expect(refusal('<r xmlns:p="urn:a" xmlns:p="urn:b"/>')).toMatchObject({ code: 'xml-malformed' });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('prefix bindings end with the element that declared them', () => {
    expect(refusal('<r><a xmlns:p="urn:p"/><p:b/></r>')).toMatchObject({
      code: 'xml-namespace',
      where: '1:24',
    });
    const root = parseXml('<r xmlns:p="urn:outer"><a xmlns:p="urn:inner"><p:x/></a><p:y/></r>');
    expect(JSON.stringify(root)).toContain('"name":"x","ns":"urn:inner"');
    expect(JSON.stringify(root)).toContain('"name":"y","ns":"urn:outer"');
  });
});

describe('parseXml: limits', () => {
  it('maxBytes is checked on the bytes before decoding (invalid UTF-8 past the limit is not even read)', () => {
    const big = new Uint8Array(DEFAULT_DECODE_LIMITS.maxBytes + 1).fill(0xff);
    const error = refusal(big);
    expect(error).toMatchObject({ code: 'too-large', status: 413, httpStatus: 413 });
    expect(refusal(utf8('<r>0123456789</r>'), { maxBytes: 10 })).toMatchObject({ code: 'too-large' });
    expect(parseXml(utf8('<r>01234</r>'), { maxBytes: 12 }).children).toEqual(['01234']);
  });

  it('maxBytes for strings counts UTF-8 bytes, not UTF-16 units', () => {
    expect(refusal('<r>€€€€</r>', { maxBytes: 15 })).toMatchObject({ code: 'too-large' });
    expect(parseXml('<r>€€€€</r>', { maxBytes: 19 }).children).toEqual(['€€€€']);
  });

  it('maxDepth and maxElements', () => {
    const nest = (n: number): string => '<a>'.repeat(n) + '</a>'.repeat(n);
    expect(parseXml(nest(5), { maxDepth: 5 }).name).toBe('a');
    expect(refusal(nest(6), { maxDepth: 5 })).toMatchObject({ code: 'too-deep', where: '1:16' });
    expect(refusal(nest(100_000))).toMatchObject({ code: 'too-deep' });
    const many = `<r>${'<e/>'.repeat(10)}</r>`;
    expect(parseXml(many, { maxElements: 11 }).children).toHaveLength(10);
    expect(refusal(many, { maxElements: 10 })).toMatchObject({ code: 'too-many-elements' });
  });
});

describe('parseXml: malformed input, located at line:column', () => {
  const cases: [string, string, string][] = [
    ['<r><a></r>', 'xml-mismatched-tag', '1:7'],
    ['<r><ab></a></r>', 'xml-mismatched-tag', '1:8'],
    ['<r>\n  <a>\n  </b>\n</r>', 'xml-mismatched-tag', '3:3'],
    ['<r>', 'xml-malformed', '1:4'],
    ['<r><a>text', 'xml-malformed', '1:11'],
    ['<r a=1/>', 'xml-malformed', '1:6'],
    ['<r a="1" a="2"/>', 'xml-malformed', '1:10'],
    ['<r a="1"b="2"/>', 'xml-malformed', '1:9'],
    ['<r a="<"/>', 'xml-malformed', '1:7'],
    ['<r/><r/>', 'xml-malformed', '1:5'],
    ['<r/>text', 'xml-malformed', '1:5'],
    ['text<r/>', 'xml-malformed', '1:1'],
    ['', 'xml-malformed', '1:1'],
    ['  \n ', 'xml-malformed', '2:2'],
    ['<r>]]></r>', 'xml-malformed', '1:4'],
    ['<r><!-- a -- b --></r>', 'xml-malformed', '1:11'],
    ['<r><![CDATA[x</r>', 'xml-malformed', '1:4'],
    ['<r><!-- x</r>', 'xml-malformed', '1:4'],
    ['<r><?pi </r>', 'xml-malformed', '1:4'],
    ['<r><?xml version="1.0"?></r>', 'xml-malformed', '1:4'],
    ['<1r/>', 'xml-malformed', '1:2'],
    ['< r/>', 'xml-malformed', '1:2'],
    ['<?xml encoding="UTF-8"?><r/>', 'xml-malformed', '1:1'],
  ];
  for (const [input, code, where] of cases) {
    it(`${JSON.stringify(input)} → ${code} at ${where}`, () => {
      expect(refusal(input)).toMatchObject({ code, where });
    });
  }

  it('encodings other than UTF-8 are refused', () => {
    expect(refusal('<?xml version="1.0" encoding="ISO-8859-1"?><r/>')).toMatchObject({
      code: 'xml-encoding',
    });
    expect(refusal('<?xml version="1.0" encoding="UTF-16"?><r/>').message).toMatch(/UTF-16.*UTF-8/);
    expect(parseXml('<?xml version="1.0" encoding="US-ASCII"?><r/>').name).toBe('r');
  });

  it('invalid UTF-8 is refused with the line:column where it starts', () => {
    expect(refusal(bytes(0x3c, 0x72, 0x3e, 0xff, 0x3c, 0x2f, 0x72, 0x3e))).toMatchObject({
      code: 'invalid-utf8',
      where: '1:4',
    });
    const overlong = new Uint8Array([...utf8('<r>\nab'), 0xc0, 0x80, ...utf8('</r>')]);
    expect(refusal(overlong)).toMatchObject({ code: 'invalid-utf8', where: '2:3' });
    const surrogate = new Uint8Array([...utf8('<r>'), 0xed, 0xa0, 0x80, ...utf8('</r>')]);
    expect(refusal(surrogate)).toMatchObject({ code: 'invalid-utf8' });
    const truncated = new Uint8Array([...utf8('<r>'), 0xe2, 0x82]);
    expect(refusal(truncated)).toMatchObject({ code: 'invalid-utf8', where: '1:4' });
  });
});
