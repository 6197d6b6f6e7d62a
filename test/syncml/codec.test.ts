/** decodeMessage / encodeMessage: dispatch on the Content-Type, and the two encodings agreeing on one model. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecodeError, RemoteProtocolError } from '../../src/errors.js';
import { ContentType, contentTypeFor } from '../../src/syncml/content-type.js';
import type { Status, SyncMLMessage } from '../../src/syncml/model.js';
import { decodeMessage, encodeMessage } from '../../src/syncml/index.js';

function fixture(name: string): Uint8Array {
  return readFileSync(new URL(`../fixtures/libdmclient/${name}`, import.meta.url));
}

const XML_TYPES = [
  ContentType.DM_XML,
  ContentType.LEGACY_XML,
  'Application/VND.SyncML.DM+XML; charset=UTF-8',
];
const WBXML_TYPES = [
  ContentType.DM_WBXML,
  ContentType.LEGACY_WBXML,
  'application/vnd.syncml.dm+wbxml;charset=utf-8',
];

describe('decodeMessage / encodeMessage', () => {
  it('dispatch on DM and legacy content types, any case, with parameters', () => {
    const pkg1 = decodeMessage(fixture('PKG1_xml_basic-cred.xml'), ContentType.DM_XML);
    for (const type of XML_TYPES)
      expect(decodeMessage(fixture('PKG1_xml_basic-cred.xml'), type)).toEqual(pkg1);
    for (const type of WBXML_TYPES) expect(decodeMessage(fixture('PKG1_wbxml.wbxml'), type)).toEqual(pkg1);
    expect(new TextDecoder().decode(encodeMessage(pkg1, XML_TYPES[2]!))).toMatch(/^<\?xml /);
    expect(Array.from(encodeMessage(pkg1, WBXML_TYPES[1]!).subarray(0, 4))).toEqual([0x02, 0xa4, 0x01, 0x6a]);
  });

  it('refuses other content types with 415', () => {
    for (const type of ['application/xml', 'text/plain', '', ContentType.NOTIFICATION]) {
      let caught: unknown;
      try {
        decodeMessage(fixture('PKG3_xml.xml'), type);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(RemoteProtocolError);
      expect(caught).toMatchObject({ code: 'unsupported-content-type', status: 415, httpStatus: 415 });
    }
  });

  it('XML bytes sent as WBXML (and the reverse) fail as DecodeError, not a crash', () => {
    expect(() => decodeMessage(fixture('PKG3_xml.xml'), ContentType.DM_WBXML)).toThrow(DecodeError);
    expect(() => decodeMessage(fixture('PKG3_wbxml.wbxml'), ContentType.DM_XML)).toThrow(DecodeError);
  });

  it('libdmclient Package 1 in WBXML decodes to the same model as its XML capture', () => {
    expect(decodeMessage(fixture('PKG1_wbxml.wbxml'), ContentType.LEGACY_WBXML)).toEqual(
      decodeMessage(fixture('PKG1_xml_basic-cred.xml'), ContentType.LEGACY_XML),
    );
  });

  it('libdmclient Package 3 in WBXML equals its XML capture but for the session-specific nonce', () => {
    const wbxml = decodeMessage(fixture('PKG3_wbxml.wbxml'), ContentType.LEGACY_WBXML);
    const xml = decodeMessage(fixture('PKG3_xml.xml'), ContentType.LEGACY_XML);
    const withoutNonce = (m: SyncMLMessage): SyncMLMessage => {
      const [first, ...rest] = m.body;
      const status = first as Status;
      return {
        ...m,
        body: [{ ...status, chal: { meta: { ...status.chal!.meta, nextNonce: '' } } }, ...rest],
      };
    };
    expect(withoutNonce(wbxml)).toEqual(withoutNonce(xml));
    expect((wbxml.body[0] as Status).chal?.meta.nextNonce).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('every capture crosses encodings unchanged: XML → model → WBXML → model → XML', () => {
    for (const name of ['PKG1_xml_basic-cred.xml', 'PKG3_xml.xml', 'PKG1_resend_after_401_md5.xml']) {
      const message = decodeMessage(fixture(name), contentTypeFor('xml'));
      const wbxml = encodeMessage(message, contentTypeFor('wbxml'));
      const back = decodeMessage(wbxml, contentTypeFor('wbxml'));
      expect(back).toEqual(message);
      expect(encodeMessage(back, contentTypeFor('xml'))).toEqual(
        encodeMessage(message, contentTypeFor('xml')),
      );
    }
  });

  it('DG-ENC-03 a TNDS document in Data survives XML → WBXML → XML', () => {
    const base = decodeMessage(fixture('PKG3_xml.xml'), ContentType.DM_XML);
    const message: SyncMLMessage = {
      ...base,
      body: [
        {
          kind: 'Add',
          cmdId: 1,
          items: [
            {
              target: { locUri: './Vendor' },
              meta: { format: 'xml', type: 'application/vnd.syncml.dmtnds+xml' },
              data: {
                kind: 'xml',
                element: {
                  name: 'MgmtTree',
                  namespace: 'syncml:dmddf1.2',
                  children: [
                    { name: 'VerDTD', children: ['1.2'] },
                    {
                      name: 'Node',
                      children: [
                        { name: 'NodeName', children: ['Leaf'] },
                        { name: 'Value', children: ['v & w'] },
                      ],
                    },
                  ],
                },
              },
            },
          ],
        },
      ],
    };
    const back = decodeMessage(encodeMessage(message, ContentType.DM_WBXML), ContentType.DM_WBXML);
    expect(back).toEqual(message);
  });

  it('limits apply in both encodings', () => {
    for (const [name, type] of [
      ['PKG3_xml.xml', ContentType.DM_XML],
      ['PKG3_wbxml.wbxml', ContentType.DM_WBXML],
    ] as const) {
      expect(() => decodeMessage(fixture(name), type, { maxBytes: 100 })).toThrow(
        expect.objectContaining({ code: 'too-large' }) as Error,
      );
      expect(() => decodeMessage(fixture(name), type, { maxDepth: 3 })).toThrow(
        expect.objectContaining({ code: 'too-deep' }) as Error,
      );
    }
  });
});
