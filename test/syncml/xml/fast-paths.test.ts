/**
 * The parser's shortcuts for what SyncML peers usually send must agree with its general path: a start tag whose
 * only attribute is a well-known default namespace, the five predefined entities, the usual XML declaration,
 * `&` and `]]>` found once per document, children collected in one list, the illegal-character scan.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/errors.js';
import type { Element } from '../../../src/syncml/element.js';
import { DMDDF_NAMESPACE, METINF_NAMESPACE, SYNCML_NAMESPACE } from '../../../src/syncml/model.js';
import { parseXml } from '../../../src/syncml/xml/index.js';

/** The tree, or the refusal's code, location and message. */
function outcome(input: string): unknown {
  try {
    return { tree: parseXml(input) };
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return { code: error.code, where: error.where, message: error.message };
  }
}

function refusal(input: string): DecodeError {
  try {
    parseXml(input);
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error('the input was accepted');
}

describe('a start tag whose only attribute is a well-known default namespace', () => {
  const uris = [
    SYNCML_NAMESPACE,
    METINF_NAMESPACE,
    DMDDF_NAMESPACE,
    // near misses, read by the general path
    'syncml:metinfo',
    'syncml:metin',
    'SYNCML:METINF',
    'SYNCML:SYNCML1.1',
    'syncml:dmddf1.2 ',
    'urn:x',
    '',
    'a&amp;b',
    'a<b',
    'a\u0000b',
  ];
  const tails = ['>', '/>', ' >', ' />', '/ >', ' a="1">', ' xmlns="urn:y">', '>text', '', '>\u0000'];

  it('gives what the general path gives (a tab before xmlns takes the general path, same offsets)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...uris),
        fc.constantFrom('"', "'"),
        fc.constantFrom(...tails),
        fc.constantFrom('', '<Format xmlns="syncml:metinf">chr</Format>', '<m:X xmlns:m="urn:m"/>', 'x'),
        (uri, quote, tail, content) => {
          const end = tail.endsWith('/>') || tail === '' ? '' : `${content}</Meta>`;
          const fast = `<Meta xmlns=${quote}${uri}${quote}${tail}${end}`;
          const general = `<Meta\txmlns=${quote}${uri}${quote}${tail}${end}`;
          expect(outcome(fast)).toEqual(outcome(general));
        },
      ),
      { numRuns: 600 },
    );
  });

  it('resolves to the model constants, on the element and inherited by its children', () => {
    const root = parseXml(`<a xmlns="${SYNCML_NAMESPACE}"><b xmlns='${METINF_NAMESPACE}'><c/></b></a>`);
    expect(root.ns).toBe(SYNCML_NAMESPACE);
    const b = root.children[0] as Element;
    expect([b.ns, (b.children[0] as Element).ns]).toEqual([METINF_NAMESPACE, METINF_NAMESPACE]);
    expect(parseXml(`<a xmlns="${DMDDF_NAMESPACE}"/>`)).toEqual({
      name: 'a',
      ns: DMDDF_NAMESPACE,
      children: [],
    });
  });
});

describe('predefined entities read from char codes', () => {
  const numeric: Record<string, string> = {
    '&lt;': '&#60;',
    '&gt;': '&#x3E;',
    '&amp;': '&#38;',
    '&apos;': '&#39;',
    '&quot;': '&#x22;',
  };
  const segment = fc.oneof(fc.constantFrom(...Object.keys(numeric)), fc.stringMatching(/^[a-z;#x ]{0,6}$/));

  it('decode like the equivalent character references, in text and in attribute values', () => {
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 12 }), (segments) => {
        const named = segments.join('');
        const numbered = segments.map((s) => numeric[s] ?? s).join('');
        const asText = (s: string) => outcome(`<r>${s}</r>`) as { tree?: unknown; code?: string };
        const inText = [asText(named), asText(numbered)];
        expect(inText[0]!.tree).toEqual(inText[1]!.tree);
        expect(inText[0]!.code).toEqual(inText[1]!.code);
        const asAttr = (s: string) => outcome(`<r a="${s}"/>`) as { tree?: unknown; code?: string };
        const inAttr = [asAttr(named), asAttr(numbered)];
        expect(inAttr[0]!.tree).toEqual(inAttr[1]!.tree);
        expect(inAttr[0]!.code).toEqual(inAttr[1]!.code);
      }),
      { numRuns: 500 },
    );
  });

  it('near misses are still refused, at the `&`', () => {
    for (const [text, code] of [
      ['&lt', 'xml-malformed'],
      ['&l;', 'xml-entity'],
      ['&ltx;', 'xml-entity'],
      ['&Lt;', 'xml-entity'],
      ['&am;', 'xml-entity'],
      ['&ampx;', 'xml-entity'],
      ['&apo;', 'xml-entity'],
      ['&quo;', 'xml-entity'],
      ['&quott;', 'xml-entity'],
    ] as const) {
      expect(refusal(`<r>ab${text}</r>`)).toMatchObject({ code, where: '1:6' });
    }
    expect(parseXml('<r>&lt;&gt;&amp;&apos;&quot;&amp;lt;</r>').children).toEqual(['<>&\'"&lt;']);
  });
});

describe('`&` and `]]>` searched once per document', () => {
  it('an occurrence in markup, CDATA or a comment does not affect later text', () => {
    expect(parseXml('<r a="&amp;"><!-- & ]]> -->x&lt;y<b>]]&gt;</b>z&amp;</r>').children).toEqual([
      'x<y',
      { name: 'b', ns: '', children: [']]>'] },
      'z&',
    ]);
    expect(parseXml('<r><![CDATA[&]]>&amp;<![CDATA[]]]]>></r>').children).toEqual(['&&]]>']);
  });

  it('`]]>` in text after such occurrences is refused where it is', () => {
    expect(refusal('<r><![CDATA[a]]>b]]></r>')).toMatchObject({ code: 'xml-malformed', where: '1:18' });
    expect(refusal('<r><!-- ]]> --><a/>\n ]]></r>')).toMatchObject({ code: 'xml-malformed', where: '2:2' });
    expect(refusal('<r>a<b/>c&nbsp;</r>')).toMatchObject({ code: 'xml-entity', where: '1:10' });
  });
});

describe('children collected in one list, elements built at their end tag', () => {
  it('adjacent text, CDATA, references, comments and PIs make one string; elements separate them', () => {
    const root = parseXml('<r>a<!--c-->b<?p?><![CDATA[c]]><x>d<y/>e</x>f<z/><z>g</z></r>');
    expect(root).toEqual({
      name: 'r',
      ns: '',
      children: [
        'abc',
        { name: 'x', ns: '', children: ['d', { name: 'y', ns: '', children: [] }, 'e'] },
        'f',
        { name: 'z', ns: '', children: [] },
        { name: 'z', ns: '', children: ['g'] },
      ],
    });
  });

  it('keeps an empty CDATA section as an empty string, as before', () => {
    expect(parseXml('<r><![CDATA[]]><e/></r>').children).toEqual(['', { name: 'e', ns: '', children: [] }]);
    expect(parseXml('<r><![CDATA[]]></r>').children).toEqual(['']);
  });

  it('deep and wide trees come out whole', () => {
    const depth = 50;
    const deep = parseXml('<a>'.repeat(depth) + 'x' + '</a>'.repeat(depth));
    let node = deep;
    for (let i = 1; i < depth; i++) node = node.children[0] as typeof deep;
    expect(node.children).toEqual(['x']);
    const wide = parseXml(`<r>${'<i>v</i> '.repeat(1000)}</r>`);
    expect(wide.children).toHaveLength(2000);
    expect(wide.children[1998]).toEqual({ name: 'i', ns: '', children: ['v'] });
  });

  it('end tags: whitespace before `>` accepted, any other difference refused', () => {
    expect(parseXml('<a><b></b \n></a\t>').children).toEqual([{ name: 'b', ns: '', children: [] }]);
    expect(refusal('<a></ab>')).toMatchObject({ code: 'xml-mismatched-tag', where: '1:4' });
    expect(refusal('<ab></a>')).toMatchObject({ code: 'xml-mismatched-tag', where: '1:5' });
    expect(refusal('<a></a:b>')).toMatchObject({ code: 'xml-mismatched-tag' });
    expect(refusal('<a></a x>')).toMatchObject({ code: 'xml-malformed', where: '1:8' });
  });
});

describe('document-wide checks', () => {
  it('every character XML 1.0 forbids is refused where it is, in text, attributes and comments', () => {
    const forbidden = [
      ...Array.from({ length: 0x20 }, (_, c) => c).filter((c) => c !== 0 && c !== 9 && c !== 10 && c !== 13),
      0xfffe,
      0xffff,
    ];
    for (const code of forbidden) {
      const ch = String.fromCharCode(code);
      const hex = code.toString(16).toUpperCase().padStart(4, '0');
      for (const [input, where] of [
        [`<r>ab${ch}</r>`, '1:6'],
        [`<r a="${ch}"/>`, '1:7'],
        [`<r>\n<!--${ch}--></r>`, '2:5'],
      ] as const) {
        expect(refusal(input)).toMatchObject({ code: 'xml-illegal-char', where });
        expect(refusal(input).message).toContain(`U+${hex}`);
      }
    }
    expect(parseXml('<r>\t\n\r\u00e9\ufffd</r>').children).toEqual(['\t\n\n\u00e9\ufffd']);
  });

  it('the usual XML declaration is accepted, and any other is still checked', () => {
    expect(parseXml('<?xml version="1.0" encoding="UTF-8"?><r/>').name).toBe('r');
    expect(parseXml('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><r/>').name).toBe('r');
    expect(parseXml("<?xml version='1.0' encoding='utf-8'?><r/>").name).toBe('r');
    expect(refusal('<?xml version="1.0" encoding="UTF-16"?><r/>')).toMatchObject({ code: 'xml-encoding' });
    expect(refusal('<?xml version="1.0" encoding="UTF-8"?><?xml version="1.0"?><r/>')).toMatchObject({
      code: 'xml-malformed',
      where: '1:39',
    });
  });
});
