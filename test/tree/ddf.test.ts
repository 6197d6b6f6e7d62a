/** DDF (tree.md §8): a realistic vendor DDF loaded into a device tree, enforced, exported and round-tripped. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ddfDocument,
  documentToWbxml,
  documentToXml,
  exportDdf,
  loadDdf,
  parseDdf,
  readDocument,
  type DdfDocument,
} from '../../src/tree/index.js';
import { add, cmd, dataOf, del, deviceTree, get, item, replace } from './fixture.js';

const FIXTURE = new URL('../fixtures/ddf/acme-router.ddf.xml', import.meta.url);
const ddfText = readFileSync(FIXTURE, 'utf8');
const R = './DevDetail/Ext/AcmeRouter';
const hasLibwbxml = existsSync('/usr/bin/xml2wbxml') && existsSync('/usr/bin/wbxml2xml');

async function routerTree() {
  const env = await deviceTree();
  await loadDdf(env.tree, readDocument(ddfText));
  return env;
}

describe('acme-router.ddf.xml on a device tree', () => {
  it('creates the nodes the device owns, with defaults, formats, types and the RTProperties ACL', async () => {
    const { run, tree } = await routerTree();
    expect(dataOf(await run(get(R)))).toBe('WAN/WiFi/Status/Operations');
    expect(dataOf(await run(get(`${R}?prop=Type`)))).toBe('com.acme/1.0/Router');
    expect(tree.node(['DevDetail', 'Ext', 'AcmeRouter'])!.acl).toBe(
      'Add=*&Delete=*&Get=*&Replace=*&Exec=srvA',
    );
    const mtu = await run(get(`${R}/WAN/MTU`));
    expect(mtu.results?.[0]).toMatchObject({
      meta: { format: 'int', type: 'text/plain' },
      data: { kind: 'text', text: '1500' },
    });
    expect(dataOf(await run(get(`${R}/WiFi/Enabled`)))).toBe('true');
    expect(dataOf(await run(get(`${R}/Status/Temperature?prop=Format`)))).toBe('float');
    expect(dataOf(await run(get(`${R}/Status/BuildDate`)))).toBe('2026-01-15');
    // ZeroOrOne and unnamed nodes are not created by the device.
    expect(tree.has(`${R}/WAN/StaticIP`)).toBe(false);
    expect(dataOf(await run(get(`${R}/WiFi/SSIDs`)))).toBe('');
  });

  it.each([
    ['Replace int with abc', () => replace(`${R}/WAN/MTU`, { data: 'abc' }), 400],
    ['Replace int with 1400', () => replace(`${R}/WAN/MTU`, { data: '1400' }), 200],
    ['Replace with the wrong Format', () => replace(`${R}/WAN/MTU`, { format: 'chr', data: '1400' }), 415],
    ['Replace a Get-only status leaf', () => replace(`${R}/Status/Uptime`, { data: '5' }), 405],
    ['Delete a permanent node', () => del(`${R}/WAN`), 405],
    ['Delete the permanent MO root', () => del(R), 405],
    ['Add an existing node', () => add(`${R}/WiFi/Channel`, { format: 'int', data: '1' }), 418],
    ['Add a node the DDF does not have', () => add(`${R}/WAN/Colour`, { data: 'red' }), 405],
    ['Add a leaf with an interior Format', () => add(`${R}/WAN/StaticIP`, { data: 'x' }), 405],
    [
      'Add below StaticIP with implicit parent',
      () => add(`${R}/WAN/StaticIP/Address`, { data: '192.0.2.10' }),
      200,
    ],
    [
      'Add a certificate (b64 → bin)',
      () => add(`${R}/Certificate`, { format: 'b64', type: 'application/x-x509-ca-cert', data: 'MIIB' }),
      200,
    ],
    [
      'Add a certificate with another MIME type',
      () => add(`${R}/Certificate`, { format: 'b64', type: 'text/plain', data: 'MIIB' }),
      415,
    ],
    ['Exec a node without handler', () => cmd('Exec', item(`${R}/Operations/Reboot`)), 406],
    ['Get an executable-only node', () => get(`${R}/Operations/Reboot`), 405],
  ])('%s → %i', async (_name, build, code) => {
    const { run } = await routerTree();
    expect((await run(build())).code).toBe(code);
  });

  it('unnamed <x> nodes: SSIDs are added by servers, checked against their description, deleted', async () => {
    const { run } = await routerTree();
    expect((await run(add(`${R}/WiFi/SSIDs/Home`, { format: 'node' }))).code).toBe(200);
    expect((await run(add(`${R}/WiFi/SSIDs/Home/Name`, { data: 'acme-home' }))).code).toBe(200);
    expect((await run(add(`${R}/WiFi/SSIDs/Home/Hidden`, { format: 'bool', data: 'maybe' }))).code).toBe(400);
    expect((await run(add(`${R}/WiFi/SSIDs/Home/Passphrase`, { data: 'correct horse' }))).code).toBe(200);
    expect((await run(get(`${R}/WiFi/SSIDs/Home/Passphrase`))).code).toBe(405);
    expect((await run(add(`${R}/WiFi/SSIDs/Home/Bogus`, { data: '1' }))).code).toBe(405);
    expect(dataOf(await run(get(`${R}/WiFi/SSIDs/Home`)))).toBe('Name/Passphrase');
    for (const n of ['Guest', 'Iot', 'Lab'])
      expect((await run(add(`${R}/WiFi/SSIDs/${n}`, { format: 'node' }))).code).toBe(200);
    // Occurrence ZeroOrN with N = 4: a fifth SSID is refused.
    expect((await run(add(`${R}/WiFi/SSIDs/Fifth`, { format: 'node' }))).code).toBe(405);
    expect((await run(del(`${R}/WiFi/SSIDs/Lab`))).code).toBe(200);
    expect((await run(add(`${R}/WiFi/SSIDs/Fifth`, { format: 'node' }))).code).toBe(200);
    expect((await run(del(`${R}/WiFi/SSIDs/Home`))).code).toBe(200);
    expect(dataOf(await run(get(`${R}/WiFi/SSIDs`)))).toBe('Guest/Iot/Fifth');
  });
});

describe('DDF round trip', () => {
  const parsed = parseDdf(readDocument(ddfText));

  it('reads names, access types, formats, occurrences (ZeroOrN 4), scopes, defaults, types, case sense', () => {
    const root = parsed.nodes[0]!;
    expect(root.path).toBe('./DevDetail/Ext');
    const ssid = root.description.children
      .find((c) => c.name === 'WiFi')!
      .children.find((c) => c.name === 'SSIDs')!.children[0]!;
    expect(ssid).toMatchObject({
      occurrence: 'ZeroOrN',
      maxOccurrence: 4,
      scope: 'Dynamic',
      caseSense: 'CS',
      title: 'One broadcast network',
    });
    expect(ssid.name).toBeUndefined();
    expect(ssid.children.find((c) => c.name === 'Passphrase')!.accessType).toEqual(['Add', 'Replace']);
  });

  it('parse(export(parse(x))) = parse(x), in XML and in WBXML', () => {
    const again = (doc: DdfDocument) => parseDdf(readDocument(documentToXml(ddfDocument(doc))));
    expect(again(parsed)).toEqual(parsed);
    expect(parseDdf(readDocument(documentToWbxml(ddfDocument(parsed))))).toEqual(parsed);
  });

  it("exportDdf publishes the tree's whole description, including the loaded vendor subtree", async () => {
    const { tree } = await routerTree();
    const exported = parseDdf(readDocument(documentToXml(exportDdf(tree, { man: 'Acme', mod: 'R100' }))));
    expect(exported.man).toBe('Acme');
    const devDetail = exported.nodes.find((n) => n.description.name === 'DevDetail')!.description;
    const acme = devDetail.children
      .find((c) => c.name === 'Ext')!
      .children.find((c) => c.name === 'AcmeRouter');
    expect(acme).toEqual(parsed.nodes[0]!.description);
    expect(exported.nodes.map((n) => n.description.name)).toEqual(
      expect.arrayContaining(['DevInfo', 'DevDetail', 'DMAcc', 'Inbox']),
    );
  });

  it.skipIf(!hasLibwbxml)("libwbxml reads our WBXML DDF and we read libwbxml's", () => {
    const dir = mkdtempSync(join(tmpdir(), 'omadm-ddf-'));
    writeFileSync(join(dir, 'ours.wbxml'), documentToWbxml(ddfDocument(parsed)));
    execFileSync('/usr/bin/wbxml2xml', ['-m', '0', '-o', join(dir, 'theirs.xml'), join(dir, 'ours.wbxml')], {
      stdio: 'pipe',
    });
    expect(parseDdf(readDocument(readFileSync(join(dir, 'theirs.xml'), 'utf8')))).toEqual(parsed);
    execFileSync('/usr/bin/xml2wbxml', ['-o', join(dir, 'theirs.wbxml'), FIXTURE.pathname], {
      stdio: 'pipe',
    });
    expect(parseDdf(readDocument(new Uint8Array(readFileSync(join(dir, 'theirs.wbxml')))))).toEqual(parsed);
  });

  it.each([
    ['a root other than MgmtTree', '<Foo xmlns="syncml:dmddf1.2"/>'],
    [
      'a Node without NodeName',
      '<MgmtTree><Node><DFProperties><DFFormat><chr/></DFFormat></DFProperties></Node></MgmtTree>',
    ],
    ['a Node without DFProperties', '<MgmtTree><Node><NodeName>A</NodeName></Node></MgmtTree>'],
    [
      'an unknown DFFormat',
      '<MgmtTree><Node><NodeName>A</NodeName><DFProperties><DFFormat><jpeg/></DFFormat></DFProperties></Node></MgmtTree>',
    ],
    [
      'an unknown AccessType',
      '<MgmtTree><Node><NodeName>A</NodeName><DFProperties><AccessType><Move/></AccessType><DFFormat><chr/></DFFormat></DFProperties></Node></MgmtTree>',
    ],
    [
      'ZeroOrN without N',
      '<MgmtTree><Node><NodeName>A</NodeName><DFProperties><DFFormat><chr/></DFFormat><Occurrence><ZeroOrN/></Occurrence></DFProperties></Node></MgmtTree>',
    ],
    [
      'a leaf with children',
      '<MgmtTree><Node><NodeName>A</NodeName><DFProperties><DFFormat><chr/></DFFormat></DFProperties><Node><NodeName>B</NodeName><DFProperties><DFFormat><chr/></DFFormat></DFProperties></Node></Node></MgmtTree>',
    ],
    ['XML that does not parse', '<MgmtTree><Node>'],
  ])('refuses a DDF with %s (400)', (_name, xml) => {
    expect(() => parseDdf(readDocument(xml))).toThrow(expect.objectContaining({ status: 400 }));
  });
});
