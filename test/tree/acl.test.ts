/** tree.md §5 ACLs: grammar, inheritance, creator rights, who may change an ACL (DG-ACL-*), and a matrix. */
import { describe, expect, it } from 'vitest';
import { DEVICE, TreeError, aclGrants, parseAcl, removeServerId } from '../../src/tree/index.js';
import { add, cmd, dataOf, del, deviceTree, get, item, replace } from './fixture.js';

describe('ACL grammar', () => {
  it.each([[''], ['Get=*'], ['Add=srv1&Delete=srv1&Replace=srv1+srv2&Get=*'], ['Exec=a.b-c:d']])(
    'accepts %j',
    (acl) => {
      expect(() => parseAcl(acl)).not.toThrow();
    },
  );

  it.each([
    ['Get=*&Copy=srvA'],
    ['Get='],
    ['Get'],
    ['Get=a b'],
    ['Get=a*b'],
    ['get=*'],
    ['Get=a&'],
    ['Get=a++b'],
  ])('DG-ACL-04: refuses %j with 400', (acl) => {
    expect(() => parseAcl(acl)).toThrow(TreeError);
    try {
      parseAcl(acl);
    } catch (e) {
      expect((e as TreeError).status).toBe(400);
    }
  });

  it('* grants to every server; repeated commands merge (figure 8.3.7.1.6 Node5)', () => {
    expect(aclGrants('Get=*', 'Get', 'anyone')).toBe(true);
    expect(aclGrants('Get=ServerA&Replace=ServerA&Get=ServerB', 'Get', 'ServerB')).toBe(true);
    expect(aclGrants('Get=ServerA', 'Replace', 'ServerA')).toBe(false);
  });

  it('removing a server id drops emptied commands, or makes them * on the root', () => {
    expect(removeServerId('Get=a+b&Replace=a', 'a')).toBe('Get=b');
    expect(removeServerId('Add=a&Get=*', 'a', true)).toBe('Add=*&Get=*');
  });
});

describe('ACLs on the tree', () => {
  it('DG-ACL-01: a server absent from the effective ACL gets 425', async () => {
    const { run } = await deviceTree();
    expect((await run(get('./DMAcc/srvA/Name'), 'srvB')).code).toBe(425);
    expect((await run(get('./DMAcc/srvA/Name'), 'srvA')).code).toBe(200);
  });

  it("DG-ACL-02: a child with an empty ACL inherits its parent's (Get=srvA)", async () => {
    const { run, tree } = await deviceTree();
    await tree.add('./P', { format: 'node' }, DEVICE);
    await tree.replace('./P?prop=ACL', { value: 'Get=srvA' }, DEVICE);
    await tree.add('./P/C', { value: 'v' }, DEVICE);
    expect((await run(get('./P/C'), 'srvA')).code).toBe(200);
    expect((await run(get('./P/C'), 'srvB')).code).toBe(425);
  });

  it('DG-ACL-03: a server without Replace on the parent that Adds an interior node gets Add, Delete, Replace on it', async () => {
    const { run, tree } = await deviceTree();
    await tree.add('./Open', { format: 'node' }, DEVICE);
    await tree.replace('./Open?prop=ACL', { value: 'Add=*&Get=*' }, DEVICE);
    expect((await run(add('./Open/Mine', { format: 'node' }), 'srvA')).code).toBe(200);
    const acl = parseAcl(tree.node(['Open', 'Mine'])!.acl);
    for (const c of ['Add', 'Delete', 'Replace'] as const) expect(acl.get(c)).toEqual(['srvA']);
    expect((await run(del('./Open/Mine'), 'srvB')).code).toBe(425);
    expect((await run(add('./Open/Mine/Leaf', { data: 'x' }), 'srvB')).code).toBe(425);
    expect((await run(add('./Open/Mine/Leaf', { data: 'x' }), 'srvA')).code).toBe(200);
    // With Replace on the parent no ACL is set: the node inherits.
    expect((await run(add('./Vendor/Shared', { format: 'node' }), 'srvA')).code).toBe(200);
    expect(tree.node(['Vendor', 'Shared'])!.acl).toBe('');
  });

  it('DG-ACL-04: Replace of an ACL with a malformed value is refused and the ACL kept', async () => {
    const { run } = await deviceTree();
    await run(add('./Vendor/N', { format: 'node' }));
    for (const bad of ['Get=*&Copy=srvA', 'Get=']) {
      expect((await run(replace('./Vendor/N?prop=ACL', { data: bad }))).code).toBe(400);
    }
    expect(dataOf(await run(get('./Vendor/N?prop=ACL')))).toBe('');
  });

  it('DG-ACL-05: the root ACL is non-empty, Add=*&Get=*, and cannot be emptied', async () => {
    const { run, tree } = await deviceTree();
    expect(dataOf(await run(get('.?prop=ACL')))).toBe('Add=*&Get=*');
    expect((await run(replace('.?prop=ACL', { data: 'Get=*' }))).code).toBe(425);
    await expect(tree.replace('.?prop=ACL', { value: '' }, DEVICE)).rejects.toMatchObject({ status: 405 });
  });

  it('DG-ACL-06: the SPEC figure 8.3.7.1.6 scenarios', async () => {
    const { run, tree } = await deviceTree();
    const mk = async (uri: string, acl: string, interior: boolean) => {
      await tree.add(uri, interior ? { format: 'node' } : { value: 'v' }, DEVICE);
      await tree.replace(`${uri}?prop=ACL`, { value: acl }, DEVICE);
    };
    await mk('./NodeA', 'Get=ServerC&Replace=ServerC', true);
    await mk('./NodeA/Node1', 'Get=*', false);
    await mk('./NodeB', 'Get=ServerA&Replace=ServerA', true);
    await mk('./NodeB/Node2', '', false);
    await mk('./NodeB/Node3', 'Get=ServerB&Replace=ServerB&Delete=ServerB', true);
    await mk('./NodeB/Node3/Node4', '', false);
    await mk('./NodeB/Node3/Node5', 'Get=ServerA&Replace=ServerA&Get=ServerB', false);
    await mk('./NodeC', 'Get=ServerA&Replace=ServerA', true);
    for (const s of ['ServerA', 'ServerB', 'ServerC', 'ServerX']) {
      expect((await run(get('./NodeA/Node1'), s)).code).toBe(200);
      expect((await run(replace('./NodeA/Node1', { data: 'w' }), s)).code).toBe(425);
      expect((await run(del('./NodeA/Node1'), s)).code).toBe(425);
    }
    expect((await run(replace('./NodeA/Node1?prop=ACL', { data: 'Get=*' }), 'ServerA')).code).toBe(425);
    expect((await run(replace('./NodeA/Node1?prop=ACL', { data: 'Get=*' }), 'ServerC')).code).toBe(200);
    expect(dataOf(await run(get('./NodeA/Node1?prop=ACL'), 'ServerA'))).toBe('Get=*');
    expect(dataOf(await run(get('./NodeB/Node3/Node4?prop=ACL'), 'ServerB'))).toBe('');
    expect((await run(replace('./NodeB/Node3/Node5', { data: 'w' }), 'ServerA')).code).toBe(200);
    expect((await run(get('./NodeB/Node2'), 'ServerA')).code).toBe(200);
    expect((await run(get('./NodeB/Node2'), 'ServerB')).code).toBe(425);
  });

  it('only the server with Replace on the parent (leaf) or on the node/parent (interior) may change an ACL', async () => {
    const { run, tree } = await deviceTree();
    await tree.add('./Priv', { format: 'node' }, DEVICE);
    await tree.replace('./Priv?prop=ACL', { value: 'Add=*&Get=*' }, DEVICE);
    await tree.add('./Priv/Own', { format: 'node' }, DEVICE);
    await tree.replace('./Priv/Own?prop=ACL', { value: 'Get=srvA&Replace=srvA' }, DEVICE);
    await tree.add('./Priv/Own/Leaf', { value: 'v' }, DEVICE);
    await tree.replace('./Priv/Own/Leaf?prop=ACL', { value: 'Get=srvB&Replace=srvB' }, DEVICE);
    expect((await run(replace('./Priv/Own/Leaf', { data: 'w' }), 'srvB')).code).toBe(200);
    expect((await run(replace('./Priv/Own/Leaf?prop=ACL', { data: 'Get=*' }), 'srvB')).code).toBe(425);
    expect((await run(replace('./Priv/Own/Leaf?prop=ACL', { data: 'Get=*' }), 'srvA')).code).toBe(200);
    expect((await run(replace('./Priv/Own?prop=ACL', { data: 'Get=*&Replace=srvB' }), 'srvB')).code).toBe(
      425,
    );
    expect((await run(replace('./Priv/Own?prop=ACL', { data: 'Get=*&Replace=srvB' }), 'srvA')).code).toBe(
      200,
    );
  });
});

describe('ACL matrix: account leaf ./DMAcc/srvA/Name (ACL Add/Delete/Get/Replace=srvA)', () => {
  const cases: [string, (s: string) => ReturnType<typeof get>, Record<string, number>][] = [
    ['Get', () => get('./DMAcc/srvA/Name'), { srvA: 200, srvB: 425, other: 425 }],
    ['Replace', () => replace('./DMAcc/srvA/Name', { data: 'n' }), { srvA: 200, srvB: 425, other: 425 }],
    ['Add', () => add('./DMAcc/srvA/PrefConRef', { data: 'n' }), { srvA: 200, srvB: 425, other: 425 }],
    ['Delete', () => del('./DMAcc/srvA/Name'), { srvA: 200, srvB: 425, other: 425 }],
    ['Exec', () => cmd('Exec', item('./DMAcc/srvA/Name')), { srvA: 405, srvB: 405, other: 405 }],
    [
      'Get secret',
      () => get('./DMAcc/srvA/AppAuth/CLCRED/AAuthSecret'),
      { srvA: 405, srvB: 405, other: 405 },
    ],
    [
      'Replace secret',
      () => replace('./DMAcc/srvA/AppAuth/CLCRED/AAuthSecret', { data: 's' }),
      { srvA: 200, srvB: 425, other: 425 },
    ],
    ['Get ?prop=ACL', () => get('./DMAcc/srvA?prop=ACL'), { srvA: 200, srvB: 425, other: 425 }],
    ['Get DevInfo', () => get('./DevInfo/DevId'), { srvA: 200, srvB: 200, other: 200 }],
    ['Add below DevInfo', () => add('./DevInfo/New', { data: 'x' }), { srvA: 425, srvB: 425, other: 425 }],
  ];
  for (const [name, build, expected] of cases) {
    for (const [server, code] of Object.entries(expected)) {
      it(`${name} by ${server} → ${code}`, async () => {
        const { run } = await deviceTree();
        expect((await run(build(server), server)).code).toBe(code);
      });
    }
  }
});
