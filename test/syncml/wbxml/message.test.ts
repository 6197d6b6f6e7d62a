import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/errors.js';
import type { Opaque } from '../../../src/syncml/element.js';
import { isElement } from '../../../src/syncml/element.js';
import type { SyncMLMessage } from '../../../src/syncml/model.js';
import { resolveLimits } from '../../../src/syncml/limits.js';
import { parseWbxml } from '../../../src/syncml/wbxml/reader.js';
import { decodeWbxml, encodeWbxml } from '../../../src/syncml/wbxml/index.js';
import { decodeXml } from '../../../src/syncml/xml/index.js';
import { bytes, strI } from './wbxml-bytes.js';

const LIBDM = fileURLToPath(new URL('../../fixtures/libdmclient', import.meta.url));

const BODY = [
  0x6d,
  [0x6c, 0x71, strI('1.2'), 0x01, 0x72, strI('DM/1.2'), 0x01, 0x65, strI('1'), 0x01, 0x5b, strI('1'), 0x01],
  [0x6e, 0x57, strI('http://s/dm'), 0x01, 0x01, 0x67, 0x57, strI('IMEI:1'), 0x01, 0x01, 0x01],
  [0x6b, 0x12, 0x01],
  0x01,
];

function refusal(input: Uint8Array): DecodeError {
  try {
    decodeWbxml(input);
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error('expected a DecodeError');
}

describe('WBXML messages', () => {
  it('decodes libdmclient’s Package 1 capture to the model of its XML capture', () => {
    const wbxml = readFileSync(`${LIBDM}/PKG1_wbxml.wbxml`);
    expect(decodeWbxml(wbxml)).toEqual(decodeXml(readFileSync(`${LIBDM}/PKG1_xml_basic-cred.xml`)));
  });

  it('reads OPAQUE text Data as text (libdmclient sends Results Data so)', () => {
    const m = decodeWbxml(readFileSync(`${LIBDM}/PKG3_wbxml.wbxml`));
    const results = m.body.find((c) => c.kind === 'Results');
    expect(results?.kind === 'Results' && results.items[0]?.data).toEqual({
      kind: 'text',
      text: 'test model',
    });
  });

  it('DG-ENC-01: accepts public id 0x1201, the SyncML 1.2 FPI, and the unknown public id', () => {
    const numeric = decodeWbxml(bytes(0x02, 0xa4, 0x01, 0x6a, 0x00, BODY));
    expect(decodeWbxml(bytes(0x02, 0x00, 0x00, 0x6a, 29, '-//SYNCML//DTD SyncML 1.2//EN', BODY))).toEqual(
      numeric,
    );
    expect(decodeWbxml(bytes(0x02, 0x01, 0x6a, 0x00, BODY))).toEqual(numeric);
  });

  it('refuses SyncML 1.1 and 1.0 with 505 (DTD version not supported), by number or by FPI', () => {
    for (const input of [
      bytes(0x02, 0x9f, 0x53, 0x6a, 0x00, BODY),
      bytes(0x02, 0x00, 0x00, 0x6a, 29, '-//SYNCML//DTD SyncML 1.1//EN', BODY),
      bytes(0x02, 0x9f, 0x51, 0x6a, 0x00, BODY),
    ]) {
      const error = refusal(input);
      expect(error).toMatchObject({ code: 'unsupported-dtd-version', status: 505 });
      expect(error.message).toMatch(/SyncML 1\.[01]/);
    }
  });

  it('refuses other public ids (DevInf, the DDF FPI) as not a DM message', () => {
    expect(refusal(bytes(0x02, 0xa4, 0x03, 0x6a, 0x00, BODY))).toMatchObject({
      code: 'wbxml-unexpected-public-id',
      status: 400,
    });
    const ddf = bytes(0x02, 0x00, 0x00, 0x6a, 27, '-//OMA//DTD-DM-DDF 1.2//EN', 0x00, BODY);
    expect(refusal(ddf).message).toContain('DTD-DM-DDF');
  });

  it('DG-ENC-02: a binary leaf travels as OPAQUE with its exact bytes, no Base64, and comes back binary', () => {
    const blob = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff);
    const m: SyncMLMessage = {
      header: {
        verDtd: '1.2',
        verProto: 'DM/1.2',
        sessionId: '1',
        msgId: 3,
        target: { locUri: 'IMEI:1' },
        source: { locUri: 'http://127.0.0.1/dm' },
      },
      body: [
        {
          kind: 'Replace',
          cmdId: 2,
          items: [
            {
              target: { locUri: './Vendor/Blob' },
              meta: { format: 'bin', size: 300 },
              data: { kind: 'binary', bytes: blob },
            },
          ],
        },
      ],
      final: true,
    };
    const wire = encodeWbxml(m);
    const opaques: Opaque[] = [];
    const walk = (n: Parameters<typeof isElement>[0]): void => {
      if (isElement(n)) n.children.forEach(walk);
      else if (typeof n !== 'string') opaques.push(n);
    };
    walk(parseWbxml(wire, resolveLimits(undefined)).document.root);
    expect(opaques.map((o) => Array.from(o.opaque))).toEqual([Array.from(blob)]);
    expect(decodeWbxml(wire)).toEqual(m);
  });

  it('refuses a document whose root is not SyncML', () => {
    expect(refusal(bytes(0x02, 0xa4, 0x01, 0x6a, 0x00, 0x2b))).toMatchObject({ code: 'not-syncml' });
  });
});
