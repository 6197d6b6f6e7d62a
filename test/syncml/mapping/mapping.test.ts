/**
 * The Element ⇄ model mapping on its own: what both codecs rely on (DTD emission order, OPAQUE handling as WBXML
 * produces it, element paths in errors, nesting limits) without going through bytes.
 */
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/errors.js';
import type { Element, Node } from '../../../src/syncml/element.js';
import { isElement } from '../../../src/syncml/element.js';
import { elementToMessage, messageToElement } from '../../../src/syncml/mapping/index.js';
import type { Replace, Status, SyncMLMessage } from '../../../src/syncml/model.js';
import { METINF_NAMESPACE, SYNCML_NAMESPACE } from '../../../src/syncml/model.js';

const S = SYNCML_NAMESPACE;
const e = (name: string, ...children: Node[]): Element => ({ name, ns: S, children });
const m = (name: string, ...children: Node[]): Element => ({ name, ns: METINF_NAMESPACE, children });

const header = e(
  'SyncHdr',
  e('VerDTD', '1.2'),
  e('VerProto', 'DM/1.2'),
  e('SessionID', '1'),
  e('MsgID', '1'),
  e('Target', e('LocURI', 'srv')),
  e('Source', e('LocURI', 'dev')),
);
const root = (...body: Element[]): Element => e('SyncML', header, e('SyncBody', ...body));
const replaceWithData = (...data: Node[]): Element =>
  root(e('Replace', e('CmdID', '1'), e('Item', e('Data', ...data))));

function refusal(el: Element, limits?: Parameters<typeof elementToMessage>[1]): DecodeError {
  try {
    elementToMessage(el, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error('the element tree was accepted');
}

const names = (el: Element): string[] => el.children.filter(isElement).map((c) => c.name);
const child = (el: Element, name: string): Element =>
  el.children.filter(isElement).find((c) => c.name === name)!;

describe('messageToElement emits DTD order (representation.md §3)', () => {
  const full: SyncMLMessage = {
    header: {
      verDtd: '1.2',
      verProto: 'DM/1.2',
      sessionId: '1',
      msgId: 2,
      target: { locUri: 'srv', locName: 'n' },
      source: { locUri: 'dev' },
      respUri: 'http://127.0.0.1/r',
      noResp: true,
      cred: { meta: { type: 'syncml:auth-basic', format: 'b64' }, data: 'eA==' },
      meta: {
        emi: ['x'],
        maxObjSize: 2,
        maxMsgSize: 1,
        nextNonce: 'n',
        version: 'v',
        size: 3,
        mark: 'k',
        type: 't',
        format: 'f',
      },
    },
    body: [
      {
        kind: 'Status',
        cmdId: 1,
        msgRef: 1,
        cmdRef: 0,
        cmd: 'SyncHdr',
        targetRefs: ['a', 'b'],
        sourceRefs: ['c'],
        cred: { data: 'd' },
        chal: { meta: { type: 'syncml:auth-md5' } },
        code: 200,
        items: [
          {
            moreData: true,
            data: { kind: 'text', text: 'x' },
            meta: {},
            source: { locUri: 's' },
            target: { locUri: 't' },
          },
        ],
      },
      {
        kind: 'Alert',
        cmdId: 2,
        noResp: true,
        cred: { data: 'c' },
        code: 1226,
        correlator: 'k',
        items: [{}],
      },
      { kind: 'Exec', cmdId: 3, noResp: true, cred: { data: 'c' }, meta: {}, correlator: 'k', items: [{}] },
      {
        kind: 'Results',
        cmdId: 4,
        msgRef: 1,
        cmdRef: 3,
        meta: {},
        targetRef: 't',
        sourceRef: 's',
        items: [{}],
      },
      { kind: 'Atomic', cmdId: 5, noResp: true, meta: {}, commands: [{ kind: 'Get', cmdId: 6, items: [] }] },
    ],
    final: true,
  };
  const el = messageToElement(full);

  it('SyncHdr, MetInf and Item children', () => {
    const hdr = child(el, 'SyncHdr');
    expect(names(hdr)).toEqual([
      'VerDTD',
      'VerProto',
      'SessionID',
      'MsgID',
      'Target',
      'Source',
      'RespURI',
      'NoResp',
      'Cred',
      'Meta',
    ]);
    expect(names(child(hdr, 'Meta'))).toEqual([
      'Format',
      'Type',
      'Mark',
      'Size',
      'Version',
      'NextNonce',
      'MaxMsgSize',
      'MaxObjSize',
      'EMI',
    ]);
    expect(
      child(hdr, 'Meta')
        .children.filter(isElement)
        .every((c) => c.ns === METINF_NAMESPACE),
    ).toBe(true);
    expect(names(child(hdr, 'Cred'))).toEqual(['Meta', 'Data']);
    expect(names(child(hdr, 'Target'))).toEqual(['LocURI', 'LocName']);
  });

  it('commands', () => {
    const body = child(el, 'SyncBody');
    expect(names(body)).toEqual(['Status', 'Alert', 'Exec', 'Results', 'Atomic', 'Final']);
    const [status, alert, exec, results, atomic] = body.children.filter(isElement);
    expect(names(status!)).toEqual([
      'CmdID',
      'MsgRef',
      'CmdRef',
      'Cmd',
      'TargetRef',
      'TargetRef',
      'SourceRef',
      'Cred',
      'Chal',
      'Data',
      'Item',
    ]);
    expect(names(child(status!, 'Item'))).toEqual(['Target', 'Source', 'Meta', 'Data', 'MoreData']);
    expect(names(alert!)).toEqual(['CmdID', 'NoResp', 'Cred', 'Data', 'Correlator', 'Item']);
    expect(names(exec!)).toEqual(['CmdID', 'NoResp', 'Cred', 'Meta', 'Correlator', 'Item']);
    expect(names(results!)).toEqual(['CmdID', 'MsgRef', 'CmdRef', 'Meta', 'TargetRef', 'SourceRef', 'Item']);
    expect(names(atomic!)).toEqual(['CmdID', 'NoResp', 'Meta', 'Get']);
  });

  it('maps back to the same model', () => {
    expect(elementToMessage(el)).toEqual(full);
  });

  it('binary Data becomes an OPAQUE child; text Data a string; empty text no child', () => {
    const bytes = Uint8Array.of(0xff, 0x00);
    const withData = (data: Replace['items'][number]['data']): readonly Node[] => {
      const msg: SyncMLMessage = { ...full, body: [{ kind: 'Replace', cmdId: 1, items: [{ data: data! }] }] };
      return child(child(child(child(messageToElement(msg), 'SyncBody'), 'Replace'), 'Item'), 'Data')
        .children;
    };
    expect(withData({ kind: 'binary', bytes })).toEqual([{ opaque: bytes }]);
    expect(withData({ kind: 'text', text: 'x' })).toEqual(['x']);
    expect(withData({ kind: 'text', text: '' })).toEqual([]);
  });
});

describe('elementToMessage: OPAQUE content as WBXML delivers it', () => {
  const dataOf = (el: Element): unknown => (elementToMessage(el).body[0] as Replace).items[0]!.data;

  it('DG-ENC-02 OPAQUE that is not UTF-8 is binary; UTF-8 OPAQUE is text', () => {
    expect(dataOf(replaceWithData({ opaque: Uint8Array.of(0xff, 1, 2) }))).toEqual({
      kind: 'binary',
      bytes: Uint8Array.of(0xff, 1, 2),
    });
    expect(dataOf(replaceWithData({ opaque: new TextEncoder().encode('héllo') }))).toEqual({
      kind: 'text',
      text: 'héllo',
    });
    expect(dataOf(replaceWithData('a', { opaque: new TextEncoder().encode('b') }, 'c'))).toEqual({
      kind: 'text',
      text: 'abc',
    });
  });

  it('OPAQUE in identifiers must be UTF-8; OPAQUE where only elements belong is refused', () => {
    const opaqueUri = root(
      e(
        'Get',
        e('CmdID', '1'),
        e('Item', e('Target', e('LocURI', { opaque: new TextEncoder().encode('./x') }))),
      ),
    );
    expect((elementToMessage(opaqueUri).body[0] as Replace).items[0]!.target).toEqual({ locUri: './x' });
    const badUri = root(
      e('Get', e('CmdID', '1'), e('Item', e('Target', e('LocURI', { opaque: Uint8Array.of(0xff) })))),
    );
    expect(refusal(badUri)).toMatchObject({
      code: 'invalid-utf8',
      where: 'SyncML/SyncBody/Get[1]/Item[1]/Target/LocURI',
    });
    expect(refusal(root(e('Get', e('CmdID', '1'), { opaque: Uint8Array.of(1) })))).toMatchObject({
      code: 'unexpected-opaque',
    });
  });

  it('an embedded document: namespace only where it changes, whitespace beside elements dropped', () => {
    const tnds: Element = {
      name: 'MgmtTree',
      ns: 'syncml:dmddf1.2',
      children: [
        '\n  ',
        {
          name: 'Node',
          ns: 'syncml:dmddf1.2',
          children: [{ name: 'X', ns: 'urn:other', attributes: { a: '1' }, children: [' v '] }],
        },
        '\n',
      ],
    };
    expect(dataOf(replaceWithData(' ', tnds, '\n'))).toEqual({
      kind: 'xml',
      element: {
        name: 'MgmtTree',
        namespace: 'syncml:dmddf1.2',
        children: [
          {
            name: 'Node',
            children: [{ name: 'X', namespace: 'urn:other', attributes: { a: '1' }, children: [' v '] }],
          },
        ],
      },
    });
  });
});

describe('elementToMessage: limits and paths', () => {
  it('Atomic/Sequence nesting is bounded by maxDepth even for trees that did not come from a parser', () => {
    let cmd = e('Get', e('CmdID', '9'), e('Item'));
    for (let i = 0; i < 10; i++) cmd = e(i % 2 === 0 ? 'Atomic' : 'Sequence', e('CmdID', String(i + 1)), cmd);
    expect(() => elementToMessage(root(cmd), { maxDepth: 10 })).not.toThrow();
    expect(refusal(root(cmd), { maxDepth: 9 })).toMatchObject({ code: 'too-deep' });
  });

  it('paths index repeated elements among their same-named siblings', () => {
    const bad = root(
      e('Status', e('CmdID', '1'), e('CmdRef', '0'), e('Cmd', 'SyncHdr'), e('Data', '200')),
      e('Replace', e('CmdID', '2'), e('Item'), e('Item', e('Meta', m('Format', 'chr'), m('Format', 'int')))),
    );
    expect(refusal(bad)).toMatchObject({
      code: 'duplicate-element',
      where: 'SyncML/SyncBody/Replace[1]/Item[2]/Meta/Format[2]',
    });
  });

  it('Status keeps every TargetRef and SourceRef in order', () => {
    const status = elementToMessage(
      root(
        e(
          'Status',
          e('CmdID', '1'),
          e('CmdRef', '3'),
          e('Cmd', 'Get'),
          e('TargetRef', 'a'),
          e('SourceRef', 's'),
          e('TargetRef', 'b'),
          e('Data', '200'),
        ),
      ),
    ).body[0] as Status;
    expect([status.targetRefs, status.sourceRefs, status.msgRef]).toEqual([['a', 'b'], ['s'], undefined]);
  });
});
