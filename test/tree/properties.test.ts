/** tree.md §3 properties through ?prop= (DG-PRP-*). */
import { describe, expect, it } from 'vitest';
import { DEVICE } from '../../src/tree/index.js';
import { add, dataOf, deviceTree, get, replace } from './fixture.js';

describe('?prop=', () => {
  it('DG-PRP-01: Get ?prop=ACL on a node without its own ACL → 200 with empty Data (not the inherited ACL)', async () => {
    const { run } = await deviceTree();
    await run(add('./Vendor/X', { data: '1' }));
    const out = await run(get('./Vendor/X?prop=ACL'));
    expect(out.code).toBe(200);
    expect(out.results?.[0]).toEqual({
      source: { locUri: './Vendor/X?prop=ACL' },
      meta: { format: 'chr', type: 'text/plain' },
      data: { kind: 'text', text: '' },
    });
  });

  it('DG-PRP-02: Get ?prop=Title on a device without Title → 406', async () => {
    const { run } = await deviceTree({ optionalProperties: ['Size'] });
    expect((await run(get('./DevInfo?prop=Title'))).code).toBe(406);
    expect((await run(get('./DevInfo?prop=TStamp'))).code).toBe(406);
    expect((await run(replace('./Vendor?prop=Title', { data: 't' }))).code).toBe(406);
  });

  it('Title is supported by default: Replace then Get', async () => {
    const { run } = await deviceTree();
    await run(add('./Vendor/X', { data: '1' }));
    expect((await run(replace('./Vendor/X?prop=Title', { data: 'Gateway host' }))).code).toBe(200);
    expect(dataOf(await run(get('./Vendor/X?prop=Title')))).toBe('Gateway host');
    expect((await run(replace('./Vendor/X?prop=Title', { data: 'x'.repeat(256) }))).code).toBe(400);
  });

  it.each(['Format', 'Type', 'Size', 'TStamp', 'VerNo'])(
    'DG-PRP-03: Replace ?prop=%s → 405',
    async (prop) => {
      const { run } = await deviceTree();
      await run(add('./Vendor/X', { data: '1' }));
      expect((await run(replace(`./Vendor/X?prop=${prop}`, { data: 'int' }))).code).toBe(405);
    },
  );

  it('an unknown property → 406 for Get and Replace; properties cannot be Added (405)', async () => {
    const { run } = await deviceTree();
    expect((await run(get('./Vendor?prop=Colour'))).code).toBe(406);
    expect((await run(replace('./Vendor?prop=Colour', { data: 'red' }))).code).toBe(406);
    expect((await run(add('./Vendor?prop=Title', { data: 't' }))).code).toBe(405);
  });

  it('Size: decoded byte count for leaves; not supported on interior nodes (406)', async () => {
    const { run } = await deviceTree();
    await run(add('./Vendor/T', { data: 'héllo' }));
    expect(dataOf(await run(get('./Vendor/T?prop=Size')))).toBe('6');
    expect((await run(get('./Vendor?prop=Size'))).code).toBe(406);
  });

  it('Name, Type and TStamp of standard nodes', async () => {
    const { run } = await deviceTree();
    expect(dataOf(await run(get('./DevInfo/DevId?prop=Name')))).toBe('DevId');
    expect(dataOf(await run(get('./DevInfo?prop=Type')))).toBe('urn:oma:mo:oma-dm-devinfo:1.0');
    expect(dataOf(await run(get('./DevInfo/DevId?prop=TStamp')))).toMatch(/^\d{8}T\d{6}Z$/);
  });

  it('VerNo wraps from 0xFFFF to 0', async () => {
    const { tree } = await deviceTree();
    await tree.add('./Vendor/C', { value: '0' }, DEVICE);
    tree.setNode(['Vendor', 'C'], { ...tree.node(['Vendor', 'C'])!, verNo: 0xffff });
    await tree.replace('./Vendor/C', { value: '1' }, DEVICE);
    expect(tree.node(['Vendor', 'C'])!.verNo).toBe(0);
  });
});

describe('DG-PRP-04: Replace ?prop=Name', () => {
  it('renames a dynamic node with its subtree', async () => {
    const { run, tree } = await deviceTree();
    await run(add('./Vendor/Old/Leaf', { data: 'v' }));
    expect((await run(replace('./Vendor/Old?prop=Name', { data: 'New' }))).code).toBe(200);
    expect(dataOf(await run(get('./Vendor/New/Leaf')))).toBe('v');
    expect(tree.has('./Vendor/Old')).toBe(false);
    expect(dataOf(await run(get('./Vendor')))).toBe('New');
  });

  it("to a sibling's name → 418", async () => {
    const { run } = await deviceTree();
    await run(add('./Vendor/A', { data: '1' }));
    await run(add('./Vendor/B', { data: '2' }));
    expect((await run(replace('./Vendor/A?prop=Name', { data: 'B' }))).code).toBe(418);
  });

  it.each([
    ['a permanent node', './DevInfo'],
    ['a node named by the description', './DMAcc/srvA/ServerID'],
    ['the root', '.'],
  ])('on %s (%s) → 405', async (_name, uri) => {
    const { run } = await deviceTree();
    expect((await run(replace(`${uri}?prop=Name`, { data: 'Other' }))).code).toBe(405);
  });

  it('an account node (unnamed <x>) can be renamed by its server; bad names → 400', async () => {
    const { run } = await deviceTree();
    expect((await run(replace('./DMAcc/srvA?prop=Name', { data: 'a/b' }))).code).toBe(400);
    expect((await run(replace('./DMAcc/srvA?prop=Name', { data: 'Main' }))).code).toBe(200);
    expect(dataOf(await run(get('./DMAcc/Main/ServerID')))).toBe('srvA');
  });
});
