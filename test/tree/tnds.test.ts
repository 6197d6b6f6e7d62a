/** ?list= tree exchange and TNDS import/export (tree.md §6, §9; DG-TND-*, DG-ENC-03). */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWbxml, encodeWbxml } from '../../src/syncml/wbxml/index.js';
import type { Command, Item, XmlElement } from '../../src/syncml/model.js';
import {
  DEVICE,
  documentToWbxml,
  documentToXml,
  parseTnds,
  readDocument,
  tndsDocument,
  type TndsNode,
} from '../../src/tree/index.js';
import { add, dataOf, deviceTree, get } from './fixture.js';

const TNDS_XML = 'application/vnd.syncml.dmtnds+xml';
const hasLibwbxml = existsSync('/usr/bin/xml2wbxml') && existsSync('/usr/bin/wbxml2xml');

async function mailTree() {
  const env = await deviceTree();
  const { tree } = env;
  await tree.add('./Vendor/Mail', { format: 'node', type: 'com.acme/1.0/Mail' }, DEVICE);
  await tree.add('./Vendor/Mail/Server', { value: 'mail.example.com' }, DEVICE);
  await tree.add('./Vendor/Mail/Port', { format: 'int', value: '993' }, DEVICE);
  await tree.add(
    './Vendor/Mail/Key',
    { format: 'bin', type: 'application/octet-stream', value: new Uint8Array([0, 255, 16]) },
    DEVICE,
  );
  await tree.replace('./Vendor/Mail/Port?prop=ACL', { value: 'Get=srvA&Replace=srvA' }, DEVICE);
  return env;
}

function tndsOf(items: readonly Item[] | undefined): XmlElement {
  const data = items?.[0]?.data;
  if (data?.kind !== 'xml') throw new Error('expected an embedded TNDS document');
  return data.element;
}

function tndsAdd(target: string, doc: XmlElement): Command {
  return {
    kind: 'Add',
    cmdId: 50,
    items: [
      {
        target: { locUri: target },
        meta: { format: 'xml', type: TNDS_XML },
        data: { kind: 'xml', element: doc },
      },
    ],
  };
}

describe('?list=Struct / StructData', () => {
  it('DG-TND-01: one Results item per node (Source LocURI + Meta), Data only with StructData and only for leaves', async () => {
    const { run } = await mailTree();
    const struct = await run(get('./Vendor/Mail?list=Struct'));
    expect(struct.code).toBe(200);
    expect(struct.results?.map((r) => r.source?.locUri)).toEqual([
      './Vendor/Mail',
      './Vendor/Mail/Server',
      './Vendor/Mail/Port',
      './Vendor/Mail/Key',
    ]);
    expect(struct.results?.every((r) => r.data === undefined)).toBe(true);
    expect(struct.results?.[0]?.meta).toEqual({ format: 'node', type: 'com.acme/1.0/Mail' });
    const data = await run(get('./Vendor/Mail?list=StructData'));
    expect(data.results?.map((r) => r.data)).toEqual([
      undefined,
      { kind: 'text', text: 'mail.example.com' },
      { kind: 'text', text: '993' },
      { kind: 'text', text: 'AP8Q' },
    ]);
    expect(data.results?.[3]?.meta?.format).toBe('b64');
  });

  it('DG-TND-01: only nodes the server may Get are listed; unknown list kinds → 406', async () => {
    const { run } = await mailTree();
    const asB = await run(get('./Vendor/Mail?list=Struct'), 'srvB');
    expect(asB.results?.map((r) => r.source?.locUri)).not.toContain('./Vendor/Mail/Port');
    expect((await run(get('./Vendor/Mail?list=Everything'))).code).toBe(406);
  });
});

describe('?list=TNDS', () => {
  it('DG-TND-02: TNDS+Value+ACL → one Item, Type dmtnds+xml, only Value and ACL in RTProperties', async () => {
    const { run } = await mailTree();
    const out = await run(get('./Vendor/Mail?list=TNDS+Value+ACL'));
    expect(out.code).toBe(200);
    expect(out.results).toHaveLength(1);
    expect(out.results?.[0]?.meta).toEqual({ format: 'xml', type: TNDS_XML });
    expect(out.results?.[0]?.source?.locUri).toBe('./Vendor/Mail');
    const nodes = parseTnds(tndsOf(out.results));
    expect(nodes).toHaveLength(1);
    const mail = nodes[0]!;
    expect(mail.name).toBe('Mail');
    expect(mail.properties).toEqual({});
    expect(mail.children.map((c) => [c.name, c.properties, c.value])).toEqual([
      ['Server', {}, 'mail.example.com'],
      ['Port', { ACL: 'Get=srvA&Replace=srvA' }, '993'],
      ['Key', {}, 'AP8Q'],
    ]);
  });

  it('TNDS-Value lists everything but the value; mixed or unknown selectors → 406', async () => {
    const { run } = await mailTree();
    const out = await run(get('./Vendor/Mail?list=TNDS-Value-TStamp'));
    const server = parseTnds(tndsOf(out.results))[0]!.children[0]!;
    expect(server.value).toBeUndefined();
    expect(server.properties).toMatchObject({
      Format: 'chr',
      Name: 'Server',
      Type: 'text/plain',
      VerNo: '0',
      Size: '16',
    });
    expect(server.properties.TStamp).toBeUndefined();
    expect((await run(get('./Vendor/Mail?list=TNDS+Value-ACL'))).code).toBe(406);
    expect((await run(get('./Vendor/Mail?list=TNDS+Colour'))).code).toBe(406);
  });

  it('secrets never appear in a TNDS export', async () => {
    const { run } = await mailTree();
    const out = await run(get('./DMAcc/srvA?list=TNDS+Value'), 'srvA');
    const text = documentToXml(tndsOf(out.results));
    expect(text).toContain('AAuthName');
    expect(text).not.toContain('AAuthSecret');
    expect(text).not.toContain('srvA-client-secret');
  });
});

describe('TNDS Add', () => {
  const doc = (value: string): XmlElement =>
    tndsDocument([
      {
        name: 'Proxy',
        properties: { Format: 'node', Type: 'com.acme/1.0/Proxy' },
        children: [
          {
            name: 'Host',
            properties: { Format: 'chr', Type: 'text/plain' },
            value: 'proxy.example',
            children: [],
          },
          {
            name: 'Port',
            properties: { Format: 'int', Type: 'text/plain', ACL: 'Get=*&Replace=srvA' },
            value,
            children: [],
          },
        ],
      },
    ]);

  it('creates a whole subtree from one Add, paths relative to the target', async () => {
    const { run, tree } = await deviceTree();
    const out = await run(tndsAdd('./Vendor', doc('8080')));
    expect(out.code).toBe(200);
    expect(dataOf(await run(get('./Vendor/Proxy/Port')))).toBe('8080');
    expect(dataOf(await run(get('./Vendor/Proxy?prop=Type')))).toBe('com.acme/1.0/Proxy');
    expect(tree.node(['Vendor', 'Proxy', 'Port'])!.acl).toBe('Get=*&Replace=srvA');
  });

  it("DG-TND-03: one invalid node → one Status with that node's error, tree unchanged", async () => {
    const { run, tree } = await deviceTree();
    const before = JSON.stringify(tree.snapshot());
    const out = await run(tndsAdd('./Vendor', doc('eighty')));
    expect(out.code).toBe(400);
    expect(out.statusItems).toEqual([{ target: { locUri: './Vendor/Proxy/Port' } }]);
    expect(JSON.stringify(tree.snapshot())).toBe(before);
  });

  it('TNDS round trip: export a subtree, import it elsewhere, the two list the same', async () => {
    const { run } = await mailTree();
    const exported = tndsOf((await run(get('./Vendor/Mail?list=TNDS+ACL+Format+Type+Value'))).results);
    await run(add('./Vendor/Copy', { format: 'node' }));
    expect((await run(tndsAdd('./Vendor/Copy', exported))).code).toBe(200);
    const strip = (items: readonly Item[] | undefined, prefix: string) =>
      items?.map((i) => ({ ...i, source: { locUri: i.source!.locUri.replace(prefix, '') } }));
    const a = await run(get('./Vendor/Mail?list=StructData'));
    const b = await run(get('./Vendor/Copy/Mail?list=StructData'));
    expect(strip(b.results, './Vendor/Copy/Mail')).toEqual(strip(a.results, './Vendor/Mail'));
  });

  it('TNDS as XML text and as WBXML bytes (Type +wbxml) is accepted too', async () => {
    const { run } = await deviceTree();
    const asText: Command = {
      kind: 'Add',
      cmdId: 1,
      items: [
        {
          target: { locUri: './Vendor' },
          meta: { type: TNDS_XML },
          data: { kind: 'text', text: documentToXml(doc('1')) },
        },
      ],
    };
    expect((await run(asText)).code).toBe(200);
    const asWbxml: Command = {
      kind: 'Add',
      cmdId: 2,
      items: [
        {
          target: { locUri: './Vendor/W' },
          meta: { type: 'application/vnd.syncml.dmtnds+wbxml' },
          data: { kind: 'binary', bytes: documentToWbxml(doc('2')) },
        },
      ],
    };
    expect((await run(asWbxml)).code).toBe(200);
    expect(dataOf(await run(get('./Vendor/W/Proxy/Port')))).toBe('2');
    const garbage: Command = {
      kind: 'Add',
      cmdId: 3,
      items: [
        {
          target: { locUri: './Vendor' },
          meta: { type: TNDS_XML },
          data: { kind: 'text', text: '<MgmtTree>' },
        },
      ],
    };
    expect((await run(garbage)).code).toBe(400);
  });
});

describe('TNDS Replace', () => {
  const replacement = (port: string): XmlElement =>
    tndsDocument([
      {
        name: 'Mail',
        properties: { Format: 'node' },
        children: [
          { name: 'Server', properties: { Format: 'chr' }, value: 'imap.example.net', children: [] },
          { name: 'Port', properties: { Format: 'int' }, value: port, children: [] },
          { name: 'User', properties: { Format: 'chr', Type: 'text/plain' }, value: 'alice', children: [] },
        ],
      },
    ]);
  const tndsReplace = (doc: XmlElement): Command => ({
    kind: 'Replace',
    cmdId: 60,
    items: [
      {
        target: { locUri: './Vendor' },
        meta: { format: 'xml', type: TNDS_XML },
        data: { kind: 'xml', element: doc },
      },
    ],
  });

  it('makes the subtree equal to the document: values replaced, absent nodes deleted, new ones added', async () => {
    const { run } = await mailTree();
    expect((await run(tndsReplace(replacement('143')))).code).toBe(200);
    expect(dataOf(await run(get('./Vendor/Mail')))).toBe('Server/Port/User');
    expect(dataOf(await run(get('./Vendor/Mail/Server')))).toBe('imap.example.net');
    expect(dataOf(await run(get('./Vendor/Mail/Port')))).toBe('143');
    expect(dataOf(await run(get('./Vendor/Mail/User')))).toBe('alice');
  });

  it('is all-or-nothing: one bad value leaves the tree unchanged', async () => {
    const { run, tree } = await mailTree();
    const before = JSON.stringify(tree.snapshot());
    const out = await run(tndsReplace(replacement('imap')));
    expect(out.code).toBe(400);
    expect(out.statusItems).toEqual([{ target: { locUri: './Vendor/Mail/Port' } }]);
    expect(JSON.stringify(tree.snapshot())).toBe(before);
  });
});

describe('TNDS encodings', () => {
  const nodes: TndsNode[] = [
    {
      name: 'Mail',
      properties: { Format: 'node', Type: 'com.acme/1.0/Mail', ACL: 'Get=*' },
      children: [
        {
          name: 'Server',
          properties: { Format: 'chr', Type: 'text/plain' },
          value: 'mail.example.com',
          children: [],
        },
      ],
    },
  ];

  it('XML and WBXML (code page 2) round trips', () => {
    expect(parseTnds(readDocument(documentToXml(tndsDocument(nodes))))).toEqual(nodes);
    const bytes = documentToWbxml(tndsDocument(nodes));
    expect(Buffer.from(bytes).includes(Buffer.from([0x00, 0x02]))).toBe(true);
    expect(parseTnds(readDocument(bytes))).toEqual(nodes);
  });

  it('DG-ENC-03: in a WBXML message a TNDS result travels as OPAQUE WBXML with Type +wbxml', async () => {
    const { executor } = await mailTree();
    const out = await executor.execute(get('./Vendor/Mail?list=TNDS+Value'), { serverId: 'srvA' });
    const message = {
      header: {
        verDtd: '1.2',
        verProto: 'DM/1.2',
        sessionId: '1',
        msgId: 2,
        target: { locUri: 'http://127.0.0.1/dm' },
        source: { locUri: 'IMEI:1' },
      },
      body: [{ kind: 'Results' as const, cmdId: 3, msgRef: 1, cmdRef: 4, items: out.results! }],
      final: true,
    };
    const wire = encodeWbxml(message);
    expect(Buffer.from(wire).includes(Buffer.from('application/vnd.syncml.dmtnds+wbxml'))).toBe(true);
    const back = decodeWbxml(wire).body[0];
    expect(back?.kind).toBe('Results');
    const item = back?.kind === 'Results' ? back.items[0] : undefined;
    expect(parseTnds(tndsOf(item === undefined ? [] : [item]))).toEqual(parseTnds(tndsOf(out.results)));
  });

  it.skipIf(!hasLibwbxml)("libwbxml decodes our WBXML TNDS and we decode libwbxml's", () => {
    const dir = mkdtempSync(join(tmpdir(), 'omadm-tnds-'));
    writeFileSync(join(dir, 'ours.wbxml'), documentToWbxml(tndsDocument(nodes)));
    execFileSync('/usr/bin/wbxml2xml', ['-m', '0', '-o', join(dir, 'theirs.xml'), join(dir, 'ours.wbxml')], {
      stdio: 'pipe',
    });
    expect(parseTnds(readDocument(readFileSync(join(dir, 'theirs.xml'), 'utf8')))).toEqual(nodes);
    writeFileSync(join(dir, 'ours.xml'), documentToXml(tndsDocument(nodes)));
    execFileSync('/usr/bin/xml2wbxml', ['-o', join(dir, 'theirs.wbxml'), join(dir, 'ours.xml')], {
      stdio: 'pipe',
    });
    expect(parseTnds(readDocument(new Uint8Array(readFileSync(join(dir, 'theirs.wbxml')))))).toEqual(nodes);
  });
});
