import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/errors.js';
import type { Element, Node } from '../../../src/syncml/element.js';
import { decodeWbxml, encodeWbxml, readWbxml, writeWbxml } from '../../../src/syncml/wbxml/index.js';
import { CODE_PAGES } from '../../../src/syncml/wbxml/code-pages.js';
import { decodeXml, encodeXml } from '../../../src/syncml/xml/index.js';
import { messageArb } from '../../support/arbitraries.js';

const RUNS = 300;

/** Decoding must end in a value or a DecodeError: anything else (TypeError, RangeError…) is a crash. */
function decodesOrRefuses(bytes: Uint8Array): void {
  try {
    decodeWbxml(bytes);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
  }
}

describe('WBXML codec properties', () => {
  it('decode(encode(m)) deep-equals m, with binary Data and embedded TNDS', () => {
    fc.assert(
      fc.property(messageArb({ binary: true, tndsOnly: true }), (m) => {
        expect(decodeWbxml(encodeWbxml(m))).toEqual(m);
        expect(decodeWbxml(encodeWbxml(m, { stringTable: true }))).toEqual(m);
      }),
      { numRuns: RUNS },
    );
  });

  it('reads a message to the same model as the XML codec does (no binary Data, which XML cannot carry)', () => {
    fc.assert(
      fc.property(messageArb({ tndsOnly: true }), (m) => {
        expect(decodeWbxml(encodeWbxml(m))).toEqual(decodeXml(encodeXml(m)));
      }),
      { numRuns: 100 },
    );
  });

  it('readWbxml(writeWbxml(tree)) equals tree for any tree over the three code pages', () => {
    fc.assert(
      fc.property(elementTreeArb, (tree) => {
        expect(readWbxml(writeWbxml(tree)).root).toEqual(tree);
        expect(readWbxml(writeWbxml(tree, { stringTable: true })).root).toEqual(tree);
      }),
      { numRuns: RUNS },
    );
  });

  it('random bytes never make the decoder throw anything but DecodeError', () => {
    const header = fc.constantFrom(
      [],
      [0x02, 0xa4, 0x01, 0x6a, 0x00],
      [0x03, 0x00, 0x00, 0x6a, 0x04, 0x41, 0x00, 0x42, 0x00],
    );
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 200 }), (head, tail) => {
        decodesOrRefuses(Uint8Array.from([...head, ...tail]));
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated valid messages never make the decoder throw anything but DecodeError', () => {
    const mutation = fc.array(
      fc.record({
        at: fc.nat(),
        op: fc.constantFrom('flip', 'insert', 'delete'),
        byte: fc.integer({ min: 0, max: 255 }),
      }),
      { minLength: 1, maxLength: 4 },
    );
    fc.assert(
      fc.property(messageArb({ binary: true, tndsOnly: true }), mutation, (m, edits) => {
        const bytes = Array.from(encodeWbxml(m));
        for (const { at, op, byte } of edits) {
          const i = at % (bytes.length + 1);
          if (op === 'insert') bytes.splice(i, 0, byte);
          else if (i < bytes.length) {
            if (op === 'delete') bytes.splice(i, 1);
            else bytes[i] = byte;
          }
        }
        decodesOrRefuses(Uint8Array.from(bytes));
      }),
      { numRuns: 1000 },
    );
  });
});

/** Names a page has (coded tags) and names it lacks (literal tags). */
const literalNameArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9._-]{0,11}$/);
const pageArb = fc.constantFrom(...CODE_PAGES);
const textArb = fc
  .string({ minLength: 1, maxLength: 20, unit: 'grapheme' })
  .filter((s) => !s.includes('\u0000'));
const opaqueArb = fc.uint8Array({ minLength: 0, maxLength: 12 }).map((opaque) => ({ opaque }));
const attributesArb = fc.option(
  fc.dictionary(
    literalNameArb.filter((n) => n !== 'xmlns' && !n.startsWith('xmlns:')),
    fc.string({ maxLength: 6 }).filter((s) => !s.includes('\u0000')),
    {
      minKeys: 1,
      maxKeys: 2,
    },
  ),
  { nil: undefined },
);

function elementOf(
  page: (typeof CODE_PAGES)[number],
  coded: string | undefined,
  literal: string,
  attributes: Record<string, string> | undefined,
  children: Node[],
): Element {
  const name = coded ?? literal;
  const el: Element = { name, ns: page.ns, children };
  return attributes === undefined ? el : { ...el, attributes };
}

const namesArb = pageArb.chain((page) =>
  fc.record({
    page: fc.constant(page),
    coded: fc.option(fc.constantFrom(...page.tokens.keys()), { nil: undefined }),
    literal: literalNameArb,
    attributes: attributesArb,
  }),
);

/** Element trees in reader-canonical form: no empty or adjacent text; roots never SyncML (no embedding rules). */
const { tree: elementTreeArb } = fc.letrec<{ tree: Element; node: Node; element: Element }>((tie) => ({
  node: fc.oneof({ maxDepth: 4, depthIdentifier: 'wbxml-tree' }, textArb, opaqueArb, tie('element')),
  element: fc
    .tuple(namesArb, fc.array(tie('node'), { maxLength: 4, depthIdentifier: 'wbxml-tree' }))
    .map(([n, kids]) => elementOf(n.page, n.coded, n.literal, n.attributes, canonicalChildren(kids))),
  tree: fc
    .tuple(
      namesArb.filter((n) => n.page.page !== 0),
      fc.array(tie('node'), { maxLength: 4, depthIdentifier: 'wbxml-tree' }),
    )
    .map(([n, kids]) => elementOf(n.page, n.coded, n.literal, n.attributes, canonicalChildren(kids))),
}));

/** Merges adjacent text (WBXML has no boundary between two strings). */
function canonicalChildren(kids: readonly Node[]): Node[] {
  const out: Node[] = [];
  for (const k of kids) {
    const last = out[out.length - 1];
    if (typeof k === 'string' && typeof last === 'string') out[out.length - 1] = last + k;
    else out.push(k);
  }
  return out;
}
