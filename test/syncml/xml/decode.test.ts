/**
 * XML → model: what real peers send is accepted (prefixes, default namespaces, missing MetInf xmlns, reordering,
 * CDATA, embedded TNDS, pretty-printing) and what is not SyncML DM 1.2 is refused with a located DecodeError.
 */
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/errors.js';
import { StatusCode } from '../../../src/syncml/constants.js';
import type { Atomic, Item, Replace, Results, Status } from '../../../src/syncml/model.js';
import { DMDDF_NAMESPACE } from '../../../src/syncml/model.js';
import { decodeXml, encodeXml } from '../../../src/syncml/xml/index.js';

const HDR =
  '<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>' +
  '<Target><LocURI>http://127.0.0.1/dm</LocURI></Target><Source><LocURI>IMEI:1</LocURI></Source></SyncHdr>';

function doc(body: string, hdr = HDR): string {
  return `<SyncML xmlns="SYNCML:SYNCML1.2">${hdr}<SyncBody>${body}<Final/></SyncBody></SyncML>`;
}

function refusal(xml: string): DecodeError {
  try {
    decodeXml(xml);
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error('the input was accepted');
}

function firstItem(xml: string): Item {
  return (decodeXml(xml).body[0] as Replace).items[0]!;
}

describe('accepting what devices send', () => {
  it('any prefix for the SyncML namespace, compared case-insensitively', () => {
    const xml =
      '<s:SyncML xmlns:s="syncml:syncml1.2"><s:SyncHdr><s:VerDTD>1.2</s:VerDTD><s:VerProto>DM/1.2</s:VerProto>' +
      '<s:SessionID>1</s:SessionID><s:MsgID>7</s:MsgID><s:Target><s:LocURI>a</s:LocURI></s:Target>' +
      '<s:Source><s:LocURI>b</s:LocURI></s:Source><s:Meta><m:MaxMsgSize xmlns:m="SYNCML:METINF">9</m:MaxMsgSize>' +
      '</s:Meta></s:SyncHdr><s:SyncBody><s:Alert><s:CmdID>1</s:CmdID><s:Data>1201</s:Data></s:Alert></s:SyncBody></s:SyncML>';
    const message = decodeXml(xml);
    expect(message.header.msgId).toBe(7);
    expect(message.header.meta).toEqual({ maxMsgSize: 9 });
    expect(message.body).toEqual([{ kind: 'Alert', cmdId: 1, code: 1201, items: [] }]);
    expect(message.final).toBe(false);
  });

  it('MetInf as a default namespace on Meta, and Meta children with no xmlns (SyncML namespace)', () => {
    const viaDefault = firstItem(
      doc(
        '<Replace><CmdID>1</CmdID><Item><Meta xmlns="syncml:metinf"><Format>int</Format><Type>text/plain</Type></Meta><Data>5</Data></Item></Replace>',
      ),
    );
    expect(viaDefault.meta).toEqual({ format: 'int', type: 'text/plain' });
    const noXmlns = firstItem(
      doc(
        '<Replace><CmdID>1</CmdID><Item><Meta><Format>int</Format><Size>1</Size></Meta><Data>5</Data></Item></Replace>',
      ),
    );
    expect(noXmlns.meta).toEqual({ format: 'int', size: 1 });
  });

  it('an explicit <MetInf> wrapper inside Meta', () => {
    const item = firstItem(
      doc(
        '<Replace><CmdID>1</CmdID><Item><Meta><MetInf xmlns="syncml:metinf"><Format>chr</Format><EMI>a</EMI><EMI>b</EMI>' +
          '</MetInf></Meta><Data>x</Data></Item></Replace>',
      ),
    );
    expect(item.meta).toEqual({ format: 'chr', emi: ['a', 'b'] });
  });

  it('order-tolerant: Meta before Target in Item, Data before TargetRef in Status (§3 MS-MDM order)', () => {
    const item = firstItem(
      doc(
        '<Replace><Item><Data>v</Data><Meta><Format xmlns="syncml:metinf">chr</Format></Meta>' +
          '<Target><LocURI>./a</LocURI></Target></Item><CmdID>3</CmdID></Replace>',
      ),
    );
    expect(item).toEqual({
      target: { locUri: './a' },
      meta: { format: 'chr' },
      data: { kind: 'text', text: 'v' },
    });
    const status = decodeXml(
      doc(
        '<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>2</CmdRef><Cmd>Get</Cmd><Data>404</Data>' +
          '<Item><Target><LocURI>./x</LocURI></Target></Item><TargetRef>./x</TargetRef><SourceRef>s</SourceRef></Status>',
      ),
    ).body[0] as Status;
    expect(status).toMatchObject({ code: 404, targetRefs: ['./x'], sourceRefs: ['s'], cmdRef: 2 });
    expect(status.items).toHaveLength(1);
  });

  it('pretty-printed input: whitespace between elements ignored, identifiers and numbers trimmed, Data exact', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<!-- captured from a device -->
<SyncML xmlns="SYNCML:SYNCML1.2">
  <SyncHdr>
    <VerDTD> 1.2 </VerDTD>
    <VerProto>DM/1.2</VerProto>
    <SessionID>
      1A
    </SessionID>
    <MsgID> 3 </MsgID>
    <Target><LocURI> http://127.0.0.1/dm </LocURI></Target>
    <Source>
      <LocURI>IMEI:1</LocURI>
      <LocName> alice </LocName>
    </Source>
  </SyncHdr>
  <SyncBody>
    <Replace>
      <CmdID>
        2
      </CmdID>
      <Item>
        <Target><LocURI>./a</LocURI></Target>
        <Data>  two  spaces  </Data>
      </Item>
    </Replace>
    <Final/>
  </SyncBody>
</SyncML>
`;
    const message = decodeXml(xml);
    expect(message.header).toMatchObject({
      verDtd: '1.2',
      sessionId: '1A',
      msgId: 3,
      target: { locUri: 'http://127.0.0.1/dm' },
      source: { locUri: 'IMEI:1', locName: 'alice' },
    });
    expect(message.body).toEqual([
      {
        kind: 'Replace',
        cmdId: 2,
        items: [{ target: { locUri: './a' }, data: { kind: 'text', text: '  two  spaces  ' } }],
      },
    ]);
    expect(message.final).toBe(true);
  });

  it('CDATA and entities in Data: merged with neighbouring text, kept exactly', () => {
    const item = firstItem(
      doc(
        '<Replace><CmdID>1</CmdID><Item><Data>a &amp; <![CDATA[<b> & ]]]]><![CDATA[>]]>&#x263A;&#10;</Data></Item></Replace>',
      ),
    );
    expect(item.data).toEqual({ kind: 'text', text: 'a & <b> & ]]>☺\n' });
  });

  it('DG-CMD-02 empty <Data/> is empty text; absent Data is undefined', () => {
    expect(firstItem(doc('<Replace><CmdID>1</CmdID><Item><Data/></Item></Replace>')).data).toEqual({
      kind: 'text',
      text: '',
    });
    expect(
      firstItem(doc('<Replace><CmdID>1</CmdID><Item><Target><LocURI>x</LocURI></Target></Item></Replace>'))
        .data,
    ).toBeUndefined();
  });

  it('Data holding an embedded TNDS MgmtTree becomes {kind: xml}, children inheriting its namespace', () => {
    const xml = doc(`<Add><CmdID>1</CmdID><Item><Target><LocURI>./Vendor</LocURI></Target>
      <Meta><Format xmlns="syncml:metinf">xml</Format><Type xmlns="syncml:metinf">application/vnd.syncml.dmtnds+xml</Type></Meta>
      <Data>
        <MgmtTree xmlns="syncml:dmddf1.2">
          <VerDTD>1.2</VerDTD>
          <Node><NodeName>Leaf</NodeName><RTProperties><Format><chr/></Format></RTProperties><Value> v </Value></Node>
        </MgmtTree>
      </Data></Item></Add>`);
    const item = firstItem(xml);
    expect(item.data).toEqual({
      kind: 'xml',
      element: {
        name: 'MgmtTree',
        namespace: DMDDF_NAMESPACE,
        children: [
          { name: 'VerDTD', children: ['1.2'] },
          {
            name: 'Node',
            children: [
              { name: 'NodeName', children: ['Leaf'] },
              {
                name: 'RTProperties',
                children: [{ name: 'Format', children: [{ name: 'chr', children: [] }] }],
              },
              { name: 'Value', children: [' v '] },
            ],
          },
        ],
      },
    });
    const again = new TextDecoder().decode(encodeXml(decodeXml(xml)));
    expect(again).toContain('<Data><MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD><Node>');
  });

  it('nested Atomic and Sequence keep order; Get inside Atomic is kept for the engine to answer 500', () => {
    const message = decodeXml(
      doc(
        '<Atomic><CmdID>1</CmdID><Add><CmdID>2</CmdID><Item><Target><LocURI>./x</LocURI></Target></Item></Add>' +
          '<Get><CmdID>3</CmdID><Item><Target><LocURI>./y</LocURI></Target></Item></Get>' +
          '<Sequence><CmdID>4</CmdID><NoResp/><Exec><CmdID>5</CmdID><Correlator>c1</Correlator><Item><Target><LocURI>./e</LocURI></Target></Item></Exec></Sequence></Atomic>',
      ),
    );
    const atomic = message.body[0] as Atomic;
    expect(atomic.commands.map((c) => [c.kind, c.cmdId])).toEqual([
      ['Add', 2],
      ['Get', 3],
      ['Sequence', 4],
    ]);
    expect(atomic.commands[2]).toEqual({
      kind: 'Sequence',
      cmdId: 4,
      noResp: true,
      commands: [{ kind: 'Exec', cmdId: 5, correlator: 'c1', items: [{ target: { locUri: './e' } }] }],
    });
  });

  it('Results with Meta, TargetRef and SourceRef; MoreData and NoResp become booleans', () => {
    const results = decodeXml(
      doc(
        '<Results><CmdID>4</CmdID><CmdRef>2</CmdRef><Meta><Type xmlns="syncml:metinf">text/plain</Type></Meta>' +
          '<TargetRef>t</TargetRef><SourceRef>s</SourceRef><Item><Data>abc</Data><MoreData/></Item></Results>',
      ),
    ).body[0] as Results;
    expect(results).toEqual({
      kind: 'Results',
      cmdId: 4,
      cmdRef: 2,
      meta: { type: 'text/plain' },
      targetRef: 't',
      sourceRef: 's',
      items: [{ data: { kind: 'text', text: 'abc' }, moreData: true }],
    });
  });

  it('accepts DM/1.1 (minor versions are compatible) and an XML declaration in any case of UTF-8', () => {
    const hdr = HDR.replace('DM/1.2', 'DM/1.1');
    expect(decodeXml(`<?xml version="1.0" encoding="utf-8"?>${doc('', hdr)}`).header.verProto).toBe('DM/1.1');
  });
});

describe('hostile but well-formed messages decode in linear time', () => {
  it('a 1 MiB message of repeated EMI, TargetRef and Item elements', () => {
    const emi = '<EMI xmlns="syncml:metinf">e</EMI>'.repeat(12_000);
    const refs = '<TargetRef>t</TargetRef>'.repeat(8_000);
    const items = '<Item/>'.repeat(20_000);
    const xml = doc(
      `<Replace><CmdID>1</CmdID><Meta>${emi}</Meta>${items}</Replace>` +
        `<Status><CmdID>2</CmdID><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>${refs}<Data>200</Data></Status>`,
    );
    expect(xml.length).toBeGreaterThan(700_000);
    const started = performance.now();
    const message = decodeXml(xml);
    expect((message.body[0] as Replace).meta?.emi).toHaveLength(12_000);
    expect((message.body[0] as Replace).items).toHaveLength(20_000);
    expect((message.body[1] as Status).targetRefs).toHaveLength(8_000);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe('refusing what is not SyncML DM 1.2', () => {
  it('wrong root element or namespace', () => {
    expect(refusal('<Foo xmlns="SYNCML:SYNCML1.2"/>')).toMatchObject({
      code: 'not-syncml',
      where: 'Foo',
      status: 400,
    });
    expect(refusal(doc('').replace(' xmlns="SYNCML:SYNCML1.2"', ''))).toMatchObject({ code: 'not-syncml' });
    expect(refusal(doc('').replace('SYNCML:SYNCML1.2', 'urn:other'))).toMatchObject({ code: 'not-syncml' });
  });

  it('SyncML 1.1 namespace or VerDTD other than 1.2 → 505', () => {
    expect(refusal(doc('').replace('SYNCML1.2', 'SYNCML1.1'))).toMatchObject({
      code: 'unsupported-dtd-version',
      status: StatusCode.DTD_VERSION_NOT_SUPPORTED,
    });
    const error = refusal(doc('', HDR.replace('<VerDTD>1.2', '<VerDTD>1.1')));
    expect(error).toMatchObject({
      code: 'unsupported-dtd-version',
      status: 505,
      where: 'SyncML/SyncHdr/VerDTD',
    });
  });

  it('VerProto not DM/1.x → 513', () => {
    for (const proto of ['DM/2.0', 'SyncML/1.2', '']) {
      expect(refusal(doc('', HDR.replace('DM/1.2', proto)))).toMatchObject({
        code: 'unsupported-protocol-version',
        status: StatusCode.PROTOCOL_VERSION_NOT_SUPPORTED,
      });
    }
  });

  it('missing mandatory elements, with the path of the element that lacks them', () => {
    expect(refusal('<SyncML xmlns="SYNCML:SYNCML1.2"><SyncBody/></SyncML>')).toMatchObject({
      code: 'missing-element',
      where: 'SyncML',
    });
    expect(refusal(`<SyncML xmlns="SYNCML:SYNCML1.2">${HDR}</SyncML>`).message).toMatch(/SyncBody/);
    for (const name of ['SessionID', 'MsgID', 'Target', 'Source', 'VerDTD', 'VerProto']) {
      const hdr = HDR.replace(new RegExp(`<${name}>.*?</${name}>`), '');
      const error = refusal(doc('', hdr));
      expect(error).toMatchObject({ code: 'missing-element', where: 'SyncML/SyncHdr' });
      expect(error.message).toContain(`<${name}>`);
    }
    expect(refusal(doc('', HDR.replace('<LocURI>IMEI:1</LocURI>', '')))).toMatchObject({
      code: 'missing-element',
      where: 'SyncML/SyncHdr/Source',
    });
  });

  it('DG-CMD-20 command without CmdID is refused with its path', () => {
    const error = refusal(
      doc(
        '<Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Replace><CmdID>2</CmdID></Replace><Replace><Item/></Replace>',
      ),
    );
    expect(error).toMatchObject({ code: 'missing-element', where: 'SyncML/SyncBody/Replace[2]' });
    expect(error.message).toContain('CmdID');
  });

  it('Status without CmdRef, Cmd or Data; Results without CmdRef; Chal without Meta; Cred without Data', () => {
    const status =
      '<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>';
    for (const name of ['CmdRef', 'Cmd', 'Data']) {
      expect(refusal(doc(status.replace(new RegExp(`<${name}>.*?</${name}>`), '')))).toMatchObject({
        code: 'missing-element',
        where: 'SyncML/SyncBody/Status[1]',
      });
    }
    expect(refusal(doc('<Results><CmdID>1</CmdID><Item/></Results>'))).toMatchObject({
      code: 'missing-element',
    });
    expect(refusal(doc(status.replace('<Data>', '<Chal></Chal><Data>')))).toMatchObject({
      code: 'missing-element',
      where: 'SyncML/SyncBody/Status[1]/Chal',
    });
    expect(refusal(doc('', HDR.replace('</SyncHdr>', '<Cred><Meta/></Cred></SyncHdr>')))).toMatchObject({
      where: 'SyncML/SyncHdr/Cred',
    });
  });

  it('non-numeric MsgID, CmdID, MsgRef, CmdRef, Status Data, Alert Data, Size', () => {
    expect(refusal(doc('', HDR.replace('<MsgID>1', '<MsgID>one')))).toMatchObject({
      code: 'not-a-number',
      where: 'SyncML/SyncHdr/MsgID',
    });
    expect(refusal(doc('', HDR.replace('<MsgID>1', '<MsgID>-1')))).toMatchObject({ code: 'not-a-number' });
    expect(refusal(doc('', HDR.replace('<MsgID>1', '<MsgID>1e3')))).toMatchObject({ code: 'not-a-number' });
    expect(refusal(doc('<Alert><CmdID>x1</CmdID></Alert>'))).toMatchObject({
      code: 'not-a-number',
      where: 'SyncML/SyncBody/Alert[1]/CmdID',
    });
    expect(refusal(doc('<Alert><CmdID>1</CmdID><Data>12O1</Data></Alert>'))).toMatchObject({
      code: 'not-a-number',
      where: 'SyncML/SyncBody/Alert[1]/Data',
    });
    const status = (field: string, value: string): string =>
      `<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>`.replace(
        new RegExp(`<${field}>[^<]*`),
        `<${field}>${value}`,
      );
    expect(refusal(doc(status('MsgRef', 'a')))).toMatchObject({
      code: 'not-a-number',
      where: 'SyncML/SyncBody/Status[1]/MsgRef',
    });
    expect(refusal(doc(status('CmdRef', '')))).toMatchObject({ code: 'not-a-number' });
    expect(refusal(doc(status('Data', 'OK')))).toMatchObject({
      code: 'not-a-number',
      where: 'SyncML/SyncBody/Status[1]/Data',
    });
    expect(
      refusal(
        doc(
          '<Replace><CmdID>1</CmdID><Item><Meta><Size xmlns="syncml:metinf">big</Size></Meta></Item></Replace>',
        ),
      ),
    ).toMatchObject({ code: 'not-a-number', where: 'SyncML/SyncBody/Replace[1]/Item[1]/Meta/Size' });
  });

  it('CmdID 0 is reserved for the SyncHdr (protocol.md §5.3)', () => {
    expect(refusal(doc('<Alert><CmdID>0</CmdID><Data>1201</Data></Alert>'))).toMatchObject({
      code: 'invalid-cmd-id',
    });
  });

  it('unknown elements inside SyncHdr, commands, Item and Meta, and DM-unused commands in SyncBody', () => {
    expect(refusal(doc('', HDR.replace('</SyncHdr>', '<Lang>en</Lang></SyncHdr>')))).toMatchObject({
      code: 'unknown-element',
      where: 'SyncML/SyncHdr/Lang',
    });
    expect(refusal(doc('<Get><CmdID>1</CmdID><Lang>en</Lang><Item/></Get>'))).toMatchObject({
      code: 'unknown-element',
      where: 'SyncML/SyncBody/Get[1]/Lang',
    });
    expect(
      refusal(
        doc(
          '<Alert><CmdID>1</CmdID></Alert><Replace><CmdID>2</CmdID><Item/></Replace><Replace><CmdID>3</CmdID><Item><Foo/></Item></Replace>',
        ),
      ),
    ).toMatchObject({ code: 'unknown-element', where: 'SyncML/SyncBody/Replace[2]/Item[1]/Foo' });
    expect(
      refusal(doc('<Get><CmdID>1</CmdID><Item><Meta><Anchor xmlns="syncml:metinf"/></Meta></Item></Get>')),
    ).toMatchObject({
      code: 'unknown-element',
      where: 'SyncML/SyncBody/Get[1]/Item[1]/Meta/Anchor',
    });
    expect(refusal(doc('<Sync><CmdID>1</CmdID></Sync>'))).toMatchObject({
      code: 'unknown-element',
      where: 'SyncML/SyncBody/Sync',
    });
    expect(refusal(doc('<Atomic><CmdID>1</CmdID><Status/></Atomic>'))).toMatchObject({
      code: 'unknown-element',
    });
  });

  it('SyncML elements in a foreign namespace are unknown', () => {
    expect(refusal(doc('<Alert xmlns="urn:x"><CmdID>1</CmdID></Alert>'))).toMatchObject({
      code: 'unknown-element',
    });
    expect(refusal(doc('<Alert><CmdID xmlns="syncml:metinf">1</CmdID></Alert>'))).toMatchObject({
      code: 'unknown-element',
    });
  });

  it('text where only elements belong; repeated single elements', () => {
    expect(refusal(doc('<Alert><CmdID>1</CmdID>stray</Alert>'))).toMatchObject({
      code: 'unexpected-text',
      where: 'SyncML/SyncBody/Alert[1]',
    });
    expect(refusal(doc('<Alert><CmdID>1</CmdID><CmdID>2</CmdID></Alert>'))).toMatchObject({
      code: 'duplicate-element',
      where: 'SyncML/SyncBody/Alert[1]/CmdID[2]',
    });
    expect(refusal(doc('<Final/>'))).toMatchObject({ code: 'duplicate-element' });
  });

  it('Data mixing an embedded document with text, or holding two documents', () => {
    expect(refusal(doc('<Replace><CmdID>1</CmdID><Item><Data>x<A/></Data></Item></Replace>'))).toMatchObject({
      code: 'invalid-data',
      where: 'SyncML/SyncBody/Replace[1]/Item[1]/Data',
    });
    expect(
      refusal(doc('<Replace><CmdID>1</CmdID><Item><Data><A/><B/></Data></Item></Replace>')),
    ).toMatchObject({
      code: 'invalid-data',
    });
  });

  it('Atomic/Sequence nesting beyond maxDepth is refused by the parser before the mapping', () => {
    const nested = '<Sequence><CmdID>1</CmdID>'.repeat(70) + '</Sequence>'.repeat(70);
    expect(refusal(doc(nested))).toMatchObject({ code: 'too-deep' });
  });
});
