/**
 * The fields the mapping reads by name: which common fields (CmdID, NoResp, Cred, Meta, Item) each command's
 * content model allows, every MetInf field, and identifiers trimmed exactly as String.prototype.trim does.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/errors.js';
import type { Command, MetInf, Replace } from '../../../src/syncml/model.js';
import { decodeXml } from '../../../src/syncml/xml/index.js';

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

describe('common command fields, as each content model allows them', () => {
  const fields = {
    NoResp: ['<NoResp/>', { noResp: true }],
    Cred: ['<Cred><Data>x</Data></Cred>', { cred: { data: 'x' } }],
    Meta: ['<Meta><Type xmlns="syncml:metinf">t</Type></Meta>', { meta: { type: 't' } }],
    Item: ['<Item><Data>v</Data></Item>', { items: [{ data: { kind: 'text', text: 'v' } }] }],
  } as const;
  type Field = keyof typeof fields;
  const commands: [string, (inner: string) => string, readonly Field[]][] = [
    ...(['Add', 'Copy', 'Delete', 'Get', 'Replace', 'Exec'] as const).map(
      (kind): [string, (inner: string) => string, readonly Field[]] => [
        kind,
        (inner) => `<${kind}><CmdID>1</CmdID>${inner}</${kind}>`,
        ['NoResp', 'Cred', 'Meta', 'Item'],
      ],
    ),
    [
      'Alert',
      (inner) => `<Alert><CmdID>1</CmdID><Data>1201</Data>${inner}</Alert>`,
      ['NoResp', 'Cred', 'Item'],
    ],
    ['Atomic', (inner) => `<Atomic><CmdID>1</CmdID>${inner}</Atomic>`, ['NoResp', 'Meta']],
    ['Sequence', (inner) => `<Sequence><CmdID>1</CmdID>${inner}</Sequence>`, ['NoResp', 'Meta']],
    [
      'Status',
      (inner) =>
        `<Status><CmdID>1</CmdID><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data>${inner}</Status>`,
      ['Cred', 'Item'],
    ],
    ['Results', (inner) => `<Results><CmdID>1</CmdID><CmdRef>2</CmdRef>${inner}</Results>`, ['Meta', 'Item']],
  ];

  for (const [kind, command, allowed] of commands) {
    it(`${kind}: ${allowed.join(', ')} read; the others refused as unknown; single fields only once`, () => {
      for (const field of Object.keys(fields) as Field[]) {
        const [xml, expected] = fields[field];
        if (allowed.includes(field)) {
          const decoded: Command = decodeXml(doc(command(xml))).body[0]!;
          expect(decoded).toMatchObject({ kind, cmdId: 1, ...expected });
          if (field !== 'Item') {
            expect(refusal(doc(command(xml + xml)))).toMatchObject({ code: 'duplicate-element' });
          }
        } else {
          expect(refusal(doc(command(xml)))).toMatchObject({
            code: 'unknown-element',
            where: `SyncML/SyncBody/${kind}[1]/${field}${field === 'Item' ? '[1]' : ''}`,
          });
        }
      }
      expect(refusal(doc(command('<CmdID>2</CmdID>')))).toMatchObject({ code: 'duplicate-element' });
      expect(refusal(doc(command('<CmdIDx>2</CmdIDx>')))).toMatchObject({ code: 'unknown-element' });
    });
  }
});

describe('MetInf fields', () => {
  const meta = (inner: string): string =>
    doc(`<Replace><CmdID>1</CmdID><Item><Meta>${inner}</Meta><Data>v</Data></Item></Replace>`);
  const metaOf = (xml: string): MetInf | undefined => (decodeXml(xml).body[0] as Replace).items[0]!.meta;
  const cases: [string, string, MetInf][] = [
    ['Format', ' chr ', { format: 'chr' }],
    ['Type', 'text/plain', { type: 'text/plain' }],
    ['Mark', 'critical', { mark: 'critical' }],
    ['Size', ' 12 ', { size: 12 }],
    ['NextNonce', 'bm9uY2U=', { nextNonce: 'bm9uY2U=' }],
    ['Version', '1.0', { version: '1.0' }],
    ['MaxMsgSize', '65536', { maxMsgSize: 65536 }],
    ['MaxObjSize', '1048576', { maxObjSize: 1048576 }],
  ];

  it('each is read into its key, and refused when repeated', () => {
    for (const [name, text, expected] of cases) {
      const field = `<${name} xmlns="syncml:metinf">${text}</${name}>`;
      expect(metaOf(meta(field))).toEqual(expected);
      expect(metaOf(meta(`<MetInf xmlns="syncml:metinf">${field}</MetInf>`))).toEqual(expected);
      expect(refusal(meta(field + field))).toMatchObject({
        code: 'duplicate-element',
        where: `SyncML/SyncBody/Replace[1]/Item[1]/Meta/${name}[2]`,
      });
    }
    const all = cases.map(([name, text]) => `<${name}>${text}</${name}>`).join('');
    expect(metaOf(meta(all + '<EMI>a</EMI><EMI> b </EMI>'))).toEqual({
      ...Object.assign({}, ...cases.map(([, , expected]) => expected)),
      emi: ['a', 'b'],
    });
  });

  it('numbers must be numbers; MetInf nests once; anything else is unknown', () => {
    expect(refusal(meta('<Size>big</Size>'))).toMatchObject({ code: 'not-a-number' });
    expect(refusal(meta('<MaxMsgSize>-1</MaxMsgSize>'))).toMatchObject({ code: 'not-a-number' });
    expect(refusal(meta('<MetInf><MetInf/></MetInf>'))).toMatchObject({ code: 'unknown-element' });
    for (const name of ['Anchor', 'Mem', 'format', 'toString', '__proto__', 'Sizes']) {
      expect(refusal(meta(`<${name}>1</${name}>`))).toMatchObject({ code: 'unknown-element' });
    }
  });
});

describe('identifiers are trimmed as String.prototype.trim trims them', () => {
  it('for any surrounding whitespace, ASCII or not', () => {
    const space = fc.constantFrom(' ', '\t', '\n', '\u00a0', '\u2003', '\u3000', '\ufeff', '\u2028');
    const core = fc.stringMatching(/^[!-~\u00e9\u4e2d]([ !-~\u00a0\u00e9]{0,8}[!-~\u4e2d])?$/);
    fc.assert(
      fc.property(
        fc.array(space, { maxLength: 3 }),
        core,
        fc.array(space, { maxLength: 3 }),
        (lead, id, trail) => {
          const raw = lead.join('') + id + trail.join('');
          const escaped = raw.replaceAll('&', '&amp;').replaceAll('<', '&lt;');
          // A function, not a string, as the replacement: `$$` in the identifier must stay `$$`.
          const hdr = HDR.replace('<SessionID>1</SessionID>', () => `<SessionID>${escaped}</SessionID>`);
          expect(decodeXml(doc('', hdr)).header.sessionId).toBe(raw.trim());
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('numbers', () => {
  it('1 to 15 decimal digits give what Number gives; more digits, or anything else, are refused', () => {
    const withMsgId = (text: string) =>
      doc(
        '',
        HDR.replace('<MsgID>1</MsgID>', () => `<MsgID>${text}</MsgID>`),
      );
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{1,15}$/), fc.constantFrom('', ' ', '\n  '), (digits, pad) => {
        expect(decodeXml(withMsgId(pad + digits + pad)).header.msgId).toBe(Number(digits));
      }),
      { numRuns: 300 },
    );
    expect(decodeXml(withMsgId('999999999999999')).header.msgId).toBe(999_999_999_999_999);
    for (const bad of ['1234567890123456', '', '1e3', '-1', '+1', '0x10', '1.0', '１']) {
      expect(refusal(withMsgId(bad))).toMatchObject({ code: 'not-a-number', where: 'SyncML/SyncHdr/MsgID' });
    }
  });
});
