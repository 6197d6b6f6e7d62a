import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/errors.js';
import { TNDS_WBXML_TYPE, TNDS_XML_TYPE } from '../../../src/syncml/constants.js';
import type { Element, Node, Opaque } from '../../../src/syncml/element.js';
import { isElement } from '../../../src/syncml/element.js';
import type { Command, SyncMLMessage, XmlElement } from '../../../src/syncml/model.js';
import { DMDDF_NAMESPACE } from '../../../src/syncml/model.js';
import { resolveLimits } from '../../../src/syncml/limits.js';
import { parseWbxml } from '../../../src/syncml/wbxml/reader.js';
import {
  FPI_DMDDF_12,
  decodeWbxml,
  encodeWbxml,
  readWbxml,
  writeWbxml,
} from '../../../src/syncml/wbxml/index.js';
import { decodeXml, encodeXml } from '../../../src/syncml/xml/index.js';
import { bytes, toHex } from './wbxml-bytes.js';

const x = (name: string, ...children: (XmlElement | string)[]): XmlElement => ({ name, children });

const TNDS: XmlElement = {
  name: 'MgmtTree',
  namespace: DMDDF_NAMESPACE,
  children: [
    x('VerDTD', '1.2'),
    x(
      'Node',
      x('NodeName', 'Wifi'),
      x('RTProperties', x('Format', x('node'))),
      x(
        'Node',
        x('NodeName', 'SSID'),
        x('RTProperties', x('Format', x('chr')), x('Type', x('MIME', 'text/plain'))),
        x('Value', 'home'),
      ),
    ),
  ],
};

function message(...body: Command[]): SyncMLMessage {
  return {
    header: {
      verDtd: '1.2',
      verProto: 'DM/1.2',
      sessionId: '7',
      msgId: 2,
      target: { locUri: 'IMEI:1' },
      source: { locUri: 'http://127.0.0.1/dm' },
    },
    body,
    final: true,
  };
}

const itemLevel = message({
  kind: 'Add',
  cmdId: 3,
  items: [
    {
      target: { locUri: './Wifi' },
      meta: { format: 'xml', type: TNDS_XML_TYPE },
      data: { kind: 'xml', element: TNDS },
    },
  ],
});

const commandLevel = message({
  kind: 'Replace',
  cmdId: 4,
  meta: { format: 'xml', type: TNDS_XML_TYPE },
  items: [{ target: { locUri: './Wifi' }, data: { kind: 'xml', element: TNDS } }],
});

/** All elements named `name`, depth first, in a raw (not expanded) tree. */
function find(root: Element, name: string): Element[] {
  const out: Element[] = [];
  const walk = (el: Element): void => {
    if (el.name === name) out.push(el);
    el.children.forEach((n) => isElement(n) && walk(n));
  };
  walk(root);
  return out;
}

function raw(wbxml: Uint8Array): Element {
  return parseWbxml(wbxml, resolveLimits(undefined)).document.root;
}

describe('embedded TNDS over WBXML (wbxml.md §8)', () => {
  it('DG-ENC-03: Data carries OPAQUE holding a complete WBXML document on code page 2, Type …dmtnds+wbxml', () => {
    const wire = raw(encodeWbxml(itemLevel));
    expect(find(wire, 'Type').map((t) => t.children)).toEqual([[TNDS_WBXML_TYPE]]);
    const data = find(wire, 'Data')[0]!;
    const nested = (data.children[0] as Opaque).opaque;
    // WBXML 1.2, public id 0 → FPI at string-table offset 0, UTF-8, the FPI with its NUL, SWITCH_PAGE 2, MgmtTree.
    expect(toHex(nested.subarray(0, 35))).toBe(
      toHex(bytes(0x02, 0x00, 0x00, 0x6a, 27, FPI_DMDDF_12, 0x00, 0x00, 0x02, 0x60)),
    );
    expect(readWbxml(nested).root.name).toBe('MgmtTree');
  });

  it('DG-ENC-03: the model is the same whichever encoding carried it (Type in the Item or in the command)', () => {
    for (const m of [itemLevel, commandLevel]) {
      const fromWbxml = decodeWbxml(encodeWbxml(m));
      expect(fromWbxml).toEqual(m);
      expect(fromWbxml).toEqual(decodeXml(encodeXml(m)));
    }
    expect(find(raw(encodeWbxml(commandLevel)), 'Type')[0]!.children).toEqual([TNDS_WBXML_TYPE]);
  });

  it('keeps OPAQUE that does not parse as WBXML as binary Data, as libwbxml keeps it as text', () => {
    const m = message({
      kind: 'Add',
      cmdId: 3,
      items: [
        {
          target: { locUri: './A' },
          meta: { type: TNDS_WBXML_TYPE },
          data: { kind: 'binary', bytes: Uint8Array.of(0x09, 0xff) },
        },
      ],
    });
    expect(decodeWbxml(encodeWbxml(m))).toEqual(m);
  });

  it('counts nested elements and depth against the limits, and points errors into the outer bytes', () => {
    const wire = encodeWbxml(itemLevel);
    const outerElements = parseWbxml(wire, resolveLimits(undefined)).elementCount;
    const nestedElements = 15; // MgmtTree … Value
    expect(readWbxml(wire, { maxElements: outerElements + nestedElements }).root.name).toBe('SyncML');
    let error: unknown;
    try {
      readWbxml(wire, { maxElements: outerElements + 3 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DecodeError);
    const where = Number(/^byte (\d+)$/.exec((error as DecodeError).where ?? '')?.[1]);
    const opaqueAt = toHex(wire).indexOf(toHex(bytes(0xc3))) / 2;
    expect(where).toBeGreaterThan(opaqueAt);
    expect(() => readWbxml(wire, { maxDepth: 7 })).toThrow(
      expect.objectContaining({ code: 'too-deep' }) as Error,
    );
  });
});

describe('WBXML TNDS documents on their own (for the tree)', () => {
  const tree: Element = toElement(TNDS, DMDDF_NAMESPACE);

  it('writes a MgmtTree root with the DDF FPI and body on page 2, and reads it back', () => {
    const out = writeWbxml(tree);
    expect(toHex(out.subarray(0, 4))).toBe('0200006a');
    const doc = readWbxml(out);
    expect(doc.publicId).toBe(FPI_DMDDF_12);
    expect(doc.root).toEqual(tree);
  });

  it('reads a TNDS document with the unknown public id', () => {
    expect(readWbxml(writeWbxml(tree, { publicId: 1 })).root).toEqual(tree);
  });
});

function toElement(x: XmlElement, ns: string): Element {
  const children: Node[] = x.children.map((c) =>
    typeof c === 'string' ? c : toElement(c, c.namespace ?? ns),
  );
  return { name: x.name, ns: x.namespace ?? ns, children };
}
