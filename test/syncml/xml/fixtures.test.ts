/** Real libdmclient captures decode to the expected model and survive a re-encode. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AuthType, StatusCode } from '../../../src/syncml/constants.js';
import type { Alert, Replace, Results, Status } from '../../../src/syncml/model.js';
import { decodeXml, encodeXml } from '../../../src/syncml/xml/index.js';

function fixture(name: string): Uint8Array {
  return readFileSync(new URL(`../../fixtures/libdmclient/${name}`, import.meta.url));
}

describe('libdmclient Package 1 (basic Cred)', () => {
  const message = decodeXml(fixture('PKG1_xml_basic-cred.xml'));

  it('DG-SES-01 header: versions, SessionID 1, MsgID 1, Target server, Source device, MaxMsgSize', () => {
    expect(message.header).toEqual({
      verDtd: '1.2',
      verProto: 'DM/1.2',
      sessionId: '1',
      msgId: 1,
      target: { locUri: 'http://127.0.0.1:18080/dm' },
      source: { locUri: 'DMCtest' },
      cred: { meta: { format: 'b64', type: AuthType.BASIC }, data: 'YWxpY2U6YWxpY2Vwdw==' },
      meta: { maxMsgSize: 16384 },
    });
    expect(Buffer.from(message.header.cred!.data, 'base64').toString()).toBe('alice:alicepw');
  });

  it('DG-SES-01 body: Alert 1201, Replace of DevInfo in reverse order, Final', () => {
    expect(message.final).toBe(true);
    expect(message.body.map((c) => c.kind)).toEqual(['Alert', 'Replace']);
    const alert = message.body[0] as Alert;
    expect(alert).toEqual({ kind: 'Alert', cmdId: 1, code: 1201, items: [] });
    const replace = message.body[1] as Replace;
    expect(replace.cmdId).toBe(2);
    const uris = replace.items.map((i) => i.source?.locUri);
    expect(uris.slice(-5)).toEqual([
      './DevInfo/DmV',
      './DevInfo/Lang',
      './DevInfo/DevId',
      './DevInfo/Man',
      './DevInfo/Mod',
    ]);
    expect(uris[0]).toBe('./DevInfo/Ext/other/test3');
    expect(replace.items[12]).toEqual({
      source: { locUri: './DevInfo/Mod' },
      meta: { format: 'chr', type: 'text/plain' },
      data: { kind: 'text', text: 'test model' },
    });
  });

  it('interior nodes carry Format node and their child list as Data', () => {
    const replace = message.body[1] as Replace;
    const ext = replace.items.find((i) => i.source?.locUri === './DevInfo/Ext');
    expect(ext).toEqual({
      source: { locUri: './DevInfo/Ext' },
      meta: { format: 'node' },
      data: { kind: 'text', text: 'Intel/other' },
    });
    expect(replace.items.filter((i) => i.meta?.format === 'node')).toHaveLength(4);
  });
});

describe('libdmclient Package 3', () => {
  const message = decodeXml(fixture('PKG3_xml.xml'));

  it('Status 212 for the SyncHdr carries a Chal with a fresh md5 NextNonce', () => {
    const status = message.body[0] as Status;
    expect(status).toEqual({
      kind: 'Status',
      cmdId: 1,
      msgRef: 1,
      cmdRef: 0,
      cmd: 'SyncHdr',
      targetRefs: ['DMCtest'],
      sourceRefs: ['http://127.0.0.1:18080/dm'],
      chal: { meta: { format: 'b64', type: AuthType.MD5, nextNonce: 'aXZFZkxURHNmcjA9' } },
      code: StatusCode.AUTHENTICATION_ACCEPTED,
      items: [],
    });
  });

  it('DG-SES-05 Status for the Get precedes its Results, which reference the Get', () => {
    expect(message.body.map((c) => c.kind)).toEqual(['Status', 'Status', 'Results']);
    const getStatus = message.body[1] as Status;
    expect([getStatus.cmd, getStatus.cmdRef, getStatus.code, getStatus.targetRefs]).toEqual([
      'Get',
      4,
      200,
      ['./DevInfo/Mod'],
    ]);
    const results = message.body[2] as Results;
    expect(results).toEqual({
      kind: 'Results',
      cmdId: 3,
      msgRef: 1,
      cmdRef: 4,
      items: [
        {
          source: { locUri: './DevInfo/Mod' },
          meta: { format: 'chr', type: 'text/plain' },
          data: { kind: 'text', text: 'test model' },
        },
      ],
    });
    expect(message.final).toBe(true);
  });
});

describe('libdmclient Package 1 resent after a 401 md5 challenge', () => {
  const message = decodeXml(fixture('PKG1_resend_after_401_md5.xml'));

  it('DG-AUT-02 MsgID 2, md5 Cred (b64), Status 212 for the server SyncHdr with NextNonce, new CmdIDs', () => {
    expect(message.header.msgId).toBe(2);
    expect(message.header.sessionId).toBe('1');
    expect(message.header.cred).toEqual({
      meta: { format: 'b64', type: AuthType.MD5 },
      data: 'BPYTBHlwjakiDEriq/YtuQ==',
    });
    const status = message.body[0] as Status;
    expect([status.cmd, status.cmdRef, status.msgRef, status.code]).toEqual(['SyncHdr', 0, 1, 212]);
    expect(status.chal?.meta.nextNonce).toBe('QkYvdkZ6RE1QYnM9');
    expect(message.body.map((c) => [c.kind, c.cmdId])).toEqual([
      ['Status', 1],
      ['Alert', 2],
      ['Replace', 3],
    ]);
  });
});

describe('re-encoding the captures', () => {
  for (const name of ['PKG1_xml_basic-cred.xml', 'PKG3_xml.xml', 'PKG1_resend_after_401_md5.xml']) {
    it(`${name}: decode(encode(decode(bytes))) equals decode(bytes)`, () => {
      const message = decodeXml(fixture(name));
      const encoded = encodeXml(message);
      expect(decodeXml(encoded)).toEqual(message);
    });

    it(`${name}: our encoding differs from the capture only in attribute quotes`, () => {
      const original = new TextDecoder().decode(fixture(name)).replaceAll("'", '"');
      expect(new TextDecoder().decode(encodeXml(decodeXml(fixture(name))))).toBe(original);
    });
  }
});
