/** tree.md §7 standard objects, Package 1 DevInfo items, DM accounts and nonces (DG-OBJ-*). */
import { describe, expect, it } from 'vitest';
import {
  DEVICE,
  credentialsFor,
  devInfoItems,
  findDmAccount,
  listDmAccounts,
  removeDmAccount,
  storeNonce,
  tndsDocument,
} from '../../src/tree/index.js';
import { add, cmd, dataOf, deviceTree, get, item, replace } from './fixture.js';

describe('DevInfo, DevDetail, Inbox', () => {
  it('DG-OBJ-01: Get ./DevInfo lists DevId, Man, Mod, DmV, Lang', async () => {
    const { run } = await deviceTree();
    const names = dataOf(await run(get('./DevInfo')))!.split('/');
    expect(names).toEqual(expect.arrayContaining(['DevId', 'Man', 'Mod', 'DmV', 'Lang']));
  });

  it('DG-OBJ-02: DevDetail URI limits are numeric strings, LrgObj true/false', async () => {
    const { run } = await deviceTree();
    for (const n of ['MaxDepth', 'MaxTotLen', 'MaxSegLen']) {
      expect(dataOf(await run(get(`./DevDetail/URI/${n}`)))).toMatch(/^\d+$/);
    }
    expect(dataOf(await run(get('./DevDetail/LrgObj')))).toBe('true');
    expect((await run(get('./DevDetail/LrgObj'))).results?.[0]?.meta?.format).toBe('bool');
    expect(dataOf(await run(get('./DevDetail/FwV')))).toBe('1.0.0');
  });

  it('DG-OBJ-03: Get <acct>?prop=Type → urn:oma:mo:oma-dm-dmacc:1.0', async () => {
    const { run } = await deviceTree();
    expect(dataOf(await run(get('./DMAcc/srvA?prop=Type')))).toBe('urn:oma:mo:oma-dm-dmacc:1.0');
  });

  it('DG-OBJ-04: AAuthSecret and AAuthData are never readable (405), even by their own server', async () => {
    const { run } = await deviceTree();
    for (const leaf of ['AAuthSecret', 'AAuthData']) {
      expect((await run(get(`./DMAcc/srvA/AppAuth/CLCRED/${leaf}`), 'srvA')).code).toBe(405);
    }
    const listing = await run(get('./DMAcc/srvA?list=StructData'), 'srvA');
    const uris = listing.results?.map((r) => r.source?.locUri) ?? [];
    expect(uris).toContain('./DMAcc/srvA/AppAuth/CLCRED/AAuthName');
    expect(uris.some((u) => u?.endsWith('AAuthSecret') || u?.endsWith('AAuthData'))).toBe(false);
    // They can still be written by their server.
    expect(
      (await run(replace('./DMAcc/srvA/AppAuth/CLCRED/AAuthSecret', { data: 'new' }), 'srvA')).code,
    ).toBe(200);
  });

  it('DG-OBJ-05: Get ./Inbox or below → 405; Add into it is allowed by its ACL', async () => {
    const { run, tree } = await deviceTree();
    expect((await run(get('./Inbox'))).code).toBe(405);
    expect((await run(get('./Inbox/Anything'))).code).toBe(405);
    expect((await run(get('./Inbox?list=Struct'))).code).toBe(405);
    expect((await run(get('./Inbox?prop=ACL'))).code).toBe(425);
    expect(tree.node(['Inbox'])?.acl).toBe('Add=*');
    expect((await run(add('./Inbox/Mo', { format: 'node', type: 'urn:oma:mo:oma-fumo:1.0' }))).code).toBe(
      200,
    );
  });

  it('an MO Added into ./Inbox is placed by its Type where the device routes it (plain Add and TNDS)', async () => {
    const { run, tree } = await deviceTree({
      inboxRoutes: { 'urn:oma:mo:oma-fumo:1.0': './FUMO', 'com.acme/1.0/Mail': './Vendor' },
    });
    await tree.add('./FUMO', { format: 'node' }, DEVICE);
    expect((await run(add('./Inbox/Fw1', { format: 'node', type: 'urn:oma:mo:oma-fumo:1.0' }))).code).toBe(
      200,
    );
    expect(tree.has('./FUMO/Fw1')).toBe(true);
    expect(tree.has('./Inbox/Fw1')).toBe(false);
    const tnds = tndsDocument([
      {
        name: 'Mail',
        properties: { Format: 'node', Type: 'com.acme/1.0/Mail' },
        children: [{ name: 'Host', properties: {}, value: 'm.example', children: [] }],
      },
    ]);
    const out = await run({
      kind: 'Add',
      cmdId: 1,
      items: [
        {
          target: { locUri: './Inbox' },
          meta: { type: 'application/vnd.syncml.dmtnds+xml' },
          data: { kind: 'xml', element: tnds },
        },
      ],
    });
    expect(out.code).toBe(200);
    expect(await tree.readText('./Vendor/Mail/Host')).toBe('m.example');
  });

  it('standard nodes are permanent and read-only for servers', async () => {
    const { run } = await deviceTree();
    expect((await run(replace('./DevInfo/DevId', { data: 'x' }))).code).toBe(405);
    expect((await run(cmd('Delete', item('./DevDetail')))).code).toBe(405);
    expect((await run(add('./DevDetail/New', { data: 'x' }))).code).toBe(425);
  });

  it('DG-SES-01: devInfoItems gives the DevInfo Replace items (Source LocURI + Meta + Data), interior nodes too', async () => {
    const { tree } = await deviceTree();
    await tree.add('./DevInfo/Ext/Acme', { format: 'node' }, DEVICE);
    await tree.add('./DevInfo/Ext/Acme/Serial', { value: 'SN-1' }, DEVICE);
    const items = await devInfoItems(tree);
    const byUri = new Map(items.map((i) => [i.source?.locUri, i]));
    expect(byUri.get('./DevInfo/DevId')).toEqual({
      source: { locUri: './DevInfo/DevId' },
      meta: { format: 'chr', type: 'text/plain' },
      data: { kind: 'text', text: 'IMEI:359000000000001' },
    });
    for (const leaf of ['Man', 'Mod', 'DmV', 'Lang']) expect(byUri.has(`./DevInfo/${leaf}`)).toBe(true);
    expect(byUri.get('./DevInfo/Ext')).toEqual({
      source: { locUri: './DevInfo/Ext' },
      meta: { format: 'node' },
      data: { kind: 'text', text: 'Acme' },
    });
    expect(byUri.get('./DevInfo/Ext/Acme/Serial')?.data).toEqual({ kind: 'text', text: 'SN-1' });
    expect(items.every((i) => i.target === undefined)).toBe(true);
  });
});

describe('DM accounts', () => {
  it('the runtime reads an account: server id, addresses, auth types, names and secrets', async () => {
    const { tree } = await deviceTree();
    const accounts = await listDmAccounts(tree);
    expect(accounts.map((a) => a.serverId)).toEqual(['srvA', 'srvB']);
    const a = (await findDmAccount(tree, 'srvA'))!;
    expect(a.uri).toBe('./DMAcc/srvA');
    expect(a.name).toBe('Server srvA');
    expect(a.authPref).toBe('DIGEST');
    expect(a.addresses).toEqual([{ addr: 'http://127.0.0.1:8080/srvA', addrType: 'URI', ports: [8080] }]);
    const client = credentialsFor(a, 'CLCRED')!;
    expect(client).toMatchObject({
      level: 'CLCRED',
      type: 'DIGEST',
      name: 'device',
      secret: 'srvA-client-secret',
    });
    expect(client.data).toEqual(new Uint8Array([1, 2, 3]));
    expect(credentialsFor(a, 'SRVCRED')?.secret).toBe('srvA-server-secret');
    expect(await tree.readText('./DMAcc/srvA/AppID')).toBe('w7');
  });

  it('storeNonce writes AAuthData (bin) for a level, creating the credential set when missing', async () => {
    const { tree, run } = await deviceTree();
    await storeNonce(tree, 'srvA', 'CLCRED', new Uint8Array([0xde, 0xad]));
    await storeNonce(tree, 'srvB', 'HTTP', new Uint8Array([7]));
    expect(credentialsFor((await findDmAccount(tree, 'srvA'))!, 'CLCRED')?.data).toEqual(
      new Uint8Array([0xde, 0xad]),
    );
    expect(credentialsFor((await findDmAccount(tree, 'srvB'))!, 'HTTP')?.data).toEqual(new Uint8Array([7]));
    expect(dataOf(await run(get('./DMAcc/srvA/AppAuth/CLCRED/AAuthData?prop=Format')))).toBe('bin');
    await expect(storeNonce(tree, 'nobody', 'CLCRED', new Uint8Array())).rejects.toMatchObject({
      status: 404,
    });
  });

  it('a server may rewrite its account over DM (AAuthData as b64 over XML)', async () => {
    const { tree, run } = await deviceTree();
    expect(
      (await run(replace('./DMAcc/srvA/AppAuth/SRVCRED/AAuthData', { format: 'b64', data: 'AQID' }))).code,
    ).toBe(200);
    expect(credentialsFor((await findDmAccount(tree, 'srvA'))!, 'SRVCRED')?.data).toEqual(
      new Uint8Array([1, 2, 3]),
    );
    expect(
      (await run(replace('./DMAcc/srvA/AppAddr/1/Addr', { data: 'http://127.0.0.1:9090/dm' }))).code,
    ).toBe(200);
    expect((await findDmAccount(tree, 'srvA'))!.addresses[0]!.addr).toBe('http://127.0.0.1:9090/dm');
  });

  it('removing an account deletes it and removes its server id from every ACL', async () => {
    const { tree } = await deviceTree();
    await tree.add('./Shared', { format: 'node' }, DEVICE);
    await tree.replace('./Shared?prop=ACL', { value: 'Get=srvA+srvB&Replace=srvA' }, DEVICE);
    await tree.replace('.?prop=ACL', { value: 'Add=srvA&Get=*' }, DEVICE);
    await removeDmAccount(tree, 'srvA');
    expect(await findDmAccount(tree, 'srvA')).toBeUndefined();
    expect(tree.node(['Shared'])?.acl).toBe('Get=srvB');
    expect(tree.node([])?.acl).toBe('Add=*&Get=*');
  });
});
