/** ets.md §2.4 tree commands (DG-CMD-*) through the command executor, table-driven per status code. */
import { describe, expect, it } from 'vitest';
import { interior, leaf } from '../../src/tree/index.js';
import { add, cmd, dataOf, del, deviceTree, get, item, replace } from './fixture.js';

describe('Get', () => {
  it('DG-CMD-01: Get on a leaf → 200 + Results with Source, Meta Format/Type and Data', async () => {
    const { run } = await deviceTree();
    const out = await run(get('./DevInfo/Man'));
    expect(out.code).toBe(200);
    expect(out.results).toEqual([
      {
        source: { locUri: './DevInfo/Man' },
        meta: { format: 'chr', type: 'text/plain' },
        data: { kind: 'text', text: 'Acme' },
      },
    ]);
  });

  it('DG-CMD-02: Get on an interior node → child names joined by "/", Format node; no children → empty Data', async () => {
    const { run } = await deviceTree();
    const out = await run(get('./DevDetail/URI'));
    expect(out.code).toBe(200);
    expect(out.results?.[0]?.meta?.format).toBe('node');
    expect(dataOf(out)).toBe('MaxDepth/MaxTotLen/MaxSegLen');
    await run(add('./Vendor/Empty', { format: 'node' }));
    expect(dataOf(await run(get('./Vendor/Empty')))).toBe('');
  });

  it('DG-CMD-03: Get on a missing node → 404 and no Results', async () => {
    const { run } = await deviceTree();
    const out = await run(get('./Vendor/Nope'));
    expect(out.code).toBe(404);
    expect(out.results).toBeUndefined();
  });
});

describe('Add', () => {
  it('DG-CMD-04: Add a chr leaf → 200; ?prop=Format → chr, ?prop=Type → text/plain', async () => {
    const { run } = await deviceTree();
    expect(
      (await run(add('./Vendor/Host', { format: 'chr', type: 'text/plain', data: 'gw.example' }))).code,
    ).toBe(200);
    expect(dataOf(await run(get('./Vendor/Host?prop=Format')))).toBe('chr');
    expect(dataOf(await run(get('./Vendor/Host?prop=Type')))).toBe('text/plain');
    expect(dataOf(await run(get('./Vendor/Host')))).toBe('gw.example');
  });

  it('DG-CMD-05: Add on an existing node → 418', async () => {
    const { run } = await deviceTree();
    await run(add('./Vendor/X', { data: '1' }));
    expect((await run(add('./Vendor/X', { data: '2' }))).code).toBe(418);
    expect(dataOf(await run(get('./Vendor/X')))).toBe('1');
  });

  it('DG-CMD-06: Add with missing parents creates them implicitly (interior, inheriting ACL)', async () => {
    const { run, tree } = await deviceTree();
    expect((await run(add('./Vendor/A/B/C', { data: 'deep' }))).code).toBe(200);
    expect(dataOf(await run(get('./Vendor/A')))).toBe('B');
    expect(dataOf(await run(get('./Vendor/A/B?prop=Format')))).toBe('node');
    expect(tree.node(['Vendor', 'A'])?.acl).toBe('');
  });

  it('DG-CMD-06: a refused implicit parent fails the Add with the parent named in the Status item', async () => {
    const { run, tree } = await deviceTree();
    // DevInfo's description has no node "Foo": the implicit parent is refused.
    const out = await run(add('./DevInfo/Ext/../x', { data: '1' }));
    expect(out.code).toBe(400);
    const refused = await run(add('./DMAcc/srvA/Bogus/Leaf', { data: '1' }));
    expect(refused.code).toBe(405);
    expect(refused.statusItems).toEqual([{ target: { locUri: './DMAcc/srvA/Bogus' } }]);
    expect(tree.has('./DMAcc/srvA/Bogus')).toBe(false);
  });

  it('the root ACL (Add=*) lets any server extend the tree at the top level', async () => {
    const { run } = await deviceTree();
    expect((await run(add('./NewTop/Leaf', { data: '1' }), 'srvB')).code).toBe(200);
  });

  it('defining a subtree below an undescribed node does not close that node', async () => {
    const { run, tree } = await deviceTree();
    await tree.define(
      [interior('Fixed', [leaf('Ro', { accessType: ['Get'], defaultValue: 'r' })], { scope: 'Permanent' })],
      './Vendor/Defined',
    );
    expect((await run(add('./Vendor/Other', { data: '1' }))).code).toBe(200);
    expect((await run(add('./Vendor/Defined/Free', { data: '1' }))).code).toBe(200);
    expect((await run(replace('./Vendor/Defined/Fixed/Ro', { data: 'w' }))).code).toBe(405);
    expect((await run(del('./Vendor/Defined'))).code).toBe(405);
  });

  it('Replace cannot turn a leaf into an interior node (405)', async () => {
    const { run } = await deviceTree();
    await run(add('./Vendor/L', { data: 'v' }));
    expect((await run(replace('./Vendor/L', { format: 'node' }))).code).toBe(405);
    expect(dataOf(await run(get('./Vendor/L')))).toBe('v');
  });

  it('DG-CMD-07: Add a child under a leaf → 405', async () => {
    const { run } = await deviceTree();
    await run(add('./Vendor/Leaf', { data: 'v' }));
    expect((await run(add('./Vendor/Leaf/Child', { data: 'x' }))).code).toBe(405);
  });

  it('DG-CMD-08: Add interior (Meta Format node) → 200; Get returns an empty child list', async () => {
    const { run } = await deviceTree();
    expect((await run(add('./Vendor/Dir', { format: 'node' }))).code).toBe(200);
    const out = await run(get('./Vendor/Dir'));
    expect(out.code).toBe(200);
    expect(dataOf(out)).toBe('');
  });

  it.each([
    ['int refuses abc', { format: 'int', data: 'abc' }, 400],
    ['int refuses 2^31', { format: 'int', data: '2147483648' }, 400],
    ['int accepts -42', { format: 'int', data: '-42' }, 200],
    ['bool refuses yes', { format: 'bool', data: 'yes' }, 400],
    ['bool accepts false', { format: 'bool', data: 'false' }, 200],
    ['float accepts 1.5e3', { format: 'float', data: '1.5e3' }, 200],
    ['date accepts 2024-01-31', { format: 'date', data: '2024-01-31' }, 200],
    ['date refuses 31/01/2024', { format: 'date', data: '31/01/2024' }, 400],
    ['time accepts 12:30:00Z', { format: 'time', data: '12:30:00Z' }, 200],
    ['b64 refuses bad base64', { format: 'b64', data: '***' }, 400],
    ['unknown format → 415', { format: 'jpeg', data: 'x' }, 415],
    ['node with Data → 400', { format: 'node', data: 'x' }, 400],
  ])('Format check: %s', async (_name, init, code) => {
    const { run } = await deviceTree();
    expect((await run(add('./Vendor/V', init))).code).toBe(code);
  });
});

describe('Replace', () => {
  it('DG-CMD-09: Replace on a missing node → 404, nothing created', async () => {
    const { run, tree } = await deviceTree();
    expect((await run(replace('./Vendor/Missing', { data: 'x' }))).code).toBe(404);
    expect(tree.has('./Vendor/Missing')).toBe(false);
  });

  it('Replace keeps Format/Type when Meta is absent and bumps VerNo and TStamp', async () => {
    const { run, clock } = await deviceTree();
    await run(add('./Vendor/N', { format: 'int', data: '1' }));
    clock.advance(61_000);
    expect((await run(replace('./Vendor/N', { data: '2' }))).code).toBe(200);
    expect(dataOf(await run(get('./Vendor/N?prop=Format')))).toBe('int');
    expect(dataOf(await run(get('./Vendor/N?prop=VerNo')))).toBe('1');
    expect(dataOf(await run(get('./Vendor/N?prop=TStamp')))).toBe('20260102T030506Z');
    expect((await run(replace('./Vendor/N', { data: 'abc' }))).code).toBe(400);
  });

  it.each([
    ['read-only permanent leaf', './DevInfo/Man', 405],
    ['interior node', './Vendor', 405],
    ['?list=', './Vendor?list=Struct', 405],
  ])('Replace on a %s (%s) → %i', async (_name, uri, code) => {
    const { run } = await deviceTree();
    expect((await run(replace(uri, { data: 'x' }))).code).toBe(code);
  });

  it('DG-CMD-19: Replace a bin node with Format b64 over XML → stored bin, Size = decoded bytes', async () => {
    const { run } = await deviceTree();
    await run(add('./Vendor/Blob', { format: 'b64', data: 'AAECAw==' }));
    expect((await run(replace('./Vendor/Blob', { format: 'b64', data: 'AAECAwQF' }))).code).toBe(200);
    expect(dataOf(await run(get('./Vendor/Blob?prop=Format')))).toBe('bin');
    expect(dataOf(await run(get('./Vendor/Blob?prop=Size')))).toBe('6');
    const out = await run(get('./Vendor/Blob'));
    expect(out.results?.[0]).toMatchObject({
      meta: { format: 'b64' },
      data: { kind: 'text', text: 'AAECAwQF' },
    });
  });

  it('DG-ENC-02: a binary leaf read in a WBXML session is OPAQUE with Format bin', async () => {
    const { run, executor } = await deviceTree();
    await run(add('./Vendor/Blob', { format: 'b64', data: '/wA=' }));
    const ctx = { serverId: 'srvA', encoding: 'wbxml' as const };
    const out = await executor.execute(get('./Vendor/Blob'), ctx);
    expect(out.results?.[0]).toMatchObject({
      meta: { format: 'bin' },
      data: { kind: 'binary', bytes: new Uint8Array([255, 0]) },
    });
  });
});

describe('Delete', () => {
  it('DG-CMD-10: Delete a dynamic interior node → 200 and the whole subtree is gone', async () => {
    const { run, tree } = await deviceTree();
    await run(add('./Vendor/T/U/V', { data: '1' }));
    expect((await run(del('./Vendor/T'))).code).toBe(200);
    expect(tree.has('./Vendor/T/U/V')).toBe(false);
    expect(tree.has('./Vendor/T')).toBe(false);
    expect(dataOf(await run(get('./Vendor')))).toBe('');
  });

  it.each([
    ['the root', '.', 405],
    ['a permanent node', './DevInfo', 405],
    ['a permanent leaf', './DevDetail/URI/MaxDepth', 405],
    ['a missing node', './Vendor/none', 404],
    ['a property', './Vendor?prop=ACL', 405],
  ])('DG-CMD-11: Delete %s (%s) → %i', async (_name, uri, code) => {
    const { run } = await deviceTree();
    expect((await run(del(uri))).code).toBe(code);
  });
});

describe('Copy', () => {
  it('DG-CMD-12: Copy leaf → leaf (new and existing target); source unchanged, data independent', async () => {
    const { run } = await deviceTree();
    await run(add('./Vendor/Src', { format: 'int', data: '7' }));
    expect((await run(cmd('Copy', item('./Vendor/Dst', { source: './Vendor/Src' })))).code).toBe(200);
    expect(dataOf(await run(get('./Vendor/Dst')))).toBe('7');
    expect(dataOf(await run(get('./Vendor/Dst?prop=Format')))).toBe('int');
    await run(replace('./Vendor/Src', { data: '8' }));
    expect(dataOf(await run(get('./Vendor/Dst')))).toBe('7');
    expect((await run(cmd('Copy', item('./Vendor/Dst', { source: './Vendor/Src' })))).code).toBe(200);
    expect(dataOf(await run(get('./Vendor/Dst')))).toBe('8');
  });

  it.each([
    ['unwritable target (permanent read-only leaf) → 403', './Vendor/Src', './DevInfo/Mod', 403],
    ['a secret as source → 405', './DMAcc/srvA/AppAuth/CLCRED/AAuthSecret', './Vendor/Stolen', 405],
    ['an interior source → 405', './Vendor', './Vendor/Copy', 405],
    ['a missing source → 404', './Vendor/None', './Vendor/Copy', 404],
  ])('DG-CMD-12: Copy from %s', async (_name, source, target, code) => {
    const { run } = await deviceTree();
    await run(add('./Vendor/Src', { data: 'x' }));
    expect((await run(cmd('Copy', item(target, { source })))).code).toBe(code);
  });

  it("Copy needs Get on the source: another server's account → 425", async () => {
    const { run } = await deviceTree();
    expect(
      (await run(cmd('Copy', item('./Vendor/Dst', { source: './DMAcc/srvB/ServerID' })), 'srvA')).code,
    ).toBe(425);
  });
});

describe('Multi-item commands', () => {
  it('one status per command; the first failure wins and earlier items are rolled back', async () => {
    const { run, tree } = await deviceTree();
    const out = await run(
      cmd(
        'Add',
        item('./Vendor/One', { data: '1' }),
        item('./DMAcc/srvA/Nope', { data: '2' }),
        item('./Vendor/Three', { data: '3' }),
      ),
    );
    expect(out.code).toBe(405);
    expect(out.statusItems).toEqual([{ target: { locUri: './DMAcc/srvA/Nope' } }]);
    expect(tree.has('./Vendor/One')).toBe(false);
    expect(tree.has('./Vendor/Three')).toBe(false);
    const ok = await run(
      cmd('Add', item('./Vendor/One', { data: '1' }), item('./Vendor/Two', { data: '2' })),
    );
    expect(ok.code).toBe(200);
  });

  it('command Meta applies to every Item, Item Meta refines it', async () => {
    const { run } = await deviceTree();
    const command = {
      kind: 'Add' as const,
      cmdId: 1,
      meta: { format: 'int' },
      items: [item('./Vendor/I1', { data: '5' }), item('./Vendor/I2', { format: 'chr', data: 'five' })],
    };
    expect((await run(command)).code).toBe(200);
    expect(dataOf(await run(get('./Vendor/I1?prop=Format')))).toBe('int');
    expect(dataOf(await run(get('./Vendor/I2?prop=Format')))).toBe('chr');
  });

  it('Get with several Items returns one Results item per target; a failure gives no Results', async () => {
    const { run } = await deviceTree();
    const out = await run(cmd('Get', item('./DevInfo/Man'), item('./DevInfo/Mod')));
    expect(out.results?.map((r) => r.data)).toEqual([
      { kind: 'text', text: 'Acme' },
      { kind: 'text', text: 'R100' },
    ]);
    const bad = await run(cmd('Get', item('./DevInfo/Man'), item('./DevInfo/None')));
    expect(bad.code).toBe(404);
    expect(bad.results).toBeUndefined();
  });

  it('DG-CMD-20 (tree part): a Results or Status handed to the tree is a bad request (400), not a crash', async () => {
    const { run } = await deviceTree();
    expect((await run({ kind: 'Results', cmdId: 1, cmdRef: 2, items: [] })).code).toBe(400);
    expect(
      (
        await run({
          kind: 'Status',
          cmdId: 1,
          cmdRef: 2,
          cmd: 'Get',
          targetRefs: [],
          sourceRefs: [],
          code: 200,
          items: [],
        })
      ).code,
    ).toBe(400);
  });

  it('an Item without Target → 412', async () => {
    const { run } = await deviceTree();
    expect((await run({ kind: 'Add', cmdId: 1, items: [{ data: { kind: 'text', text: 'x' } }] })).code).toBe(
      412,
    );
    expect((await run({ kind: 'Get', cmdId: 1, items: [] })).code).toBe(412);
  });
});
