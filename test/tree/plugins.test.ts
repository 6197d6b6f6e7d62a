/** The plugin contract: dynamic values, observed writes, Exec handlers with 202 + Generic Alert (DG-CMD-13). */
import { describe, expect, it } from 'vitest';
import { DEVICE, TreeError, interior, leaf, type TreePlugin } from '../../src/tree/index.js';
import { cmd, dataOf, deviceTree, get, item, replace } from './fixture.js';

async function withAcme() {
  const env = await deviceTree();
  await env.tree.define(
    [
      interior(
        'Acme',
        [
          leaf('Battery', { accessType: ['Get'], format: 'int', defaultValue: '0' }),
          leaf('Channel', { accessType: ['Get', 'Replace'], format: 'int', defaultValue: '1' }),
          leaf('Reboot', { accessType: ['Exec'], format: 'null', types: [] }),
          leaf('Update', { accessType: ['Exec'], format: 'null', types: [] }),
          leaf('Factory', { accessType: ['Exec'], format: 'null', types: [] }),
        ],
        { accessType: ['Get'], acl: 'Get=*&Replace=srvA&Exec=srvA' },
      ),
    ],
    './DevDetail/Ext',
  );
  return env;
}

describe('plugins', () => {
  it('a read callback gives a dynamic value (battery level); Size follows it', async () => {
    const { run, tree } = await withAcme();
    let level = 80;
    tree.mount('./DevDetail/Ext/Acme/Battery', { read: () => String(level) });
    expect(dataOf(await run(get('./DevDetail/Ext/Acme/Battery')))).toBe('80');
    level = 5;
    expect(dataOf(await run(get('./DevDetail/Ext/Acme/Battery')))).toBe('5');
    expect(dataOf(await run(get('./DevDetail/Ext/Acme/Battery?prop=Size')))).toBe('1');
  });

  it('a write callback sees checked values and may refuse with its own status', async () => {
    const { run, tree } = await withAcme();
    const seen: string[] = [];
    const plugin: TreePlugin = {
      write: ({ path, value }) => {
        const v = new TextDecoder().decode(value);
        if (v === '13') throw new TreeError(403, 'channel-busy', 'channel 13 is not allowed here');
        seen.push(`${path}=${v}`);
      },
    };
    tree.mount('./DevDetail/Ext/Acme', plugin);
    expect((await run(replace('./DevDetail/Ext/Acme/Channel', { data: '6' }))).code).toBe(200);
    expect((await run(replace('./DevDetail/Ext/Acme/Channel', { data: 'six' }))).code).toBe(400);
    expect((await run(replace('./DevDetail/Ext/Acme/Channel', { data: '13' }))).code).toBe(403);
    expect(seen).toEqual(['Channel=6']);
    expect(dataOf(await run(get('./DevDetail/Ext/Acme/Channel')))).toBe('6');
    expect((await run(replace('./DevDetail/Ext/Acme/Channel', { data: '7' }), 'srvB')).code).toBe(425);
  });

  it('DG-CMD-13: Exec with Correlator c1 → 202, then a Generic Alert carrying c1 reaches the runtime', async () => {
    const { run, tree, alerts } = await withAcme();
    let finish: (() => void) | undefined;
    tree.mount('./DevDetail/Ext/Acme/Update', {
      exec: ({ report, data }) => {
        finish = () =>
          report({ type: 'org.openmobilealliance.dm.firmwareupdate.update', format: 'int', data: '200' });
        expect(new TextDecoder().decode(data)).toBe('fw-2.0');
        return 202;
      },
    });
    const exec = {
      kind: 'Exec' as const,
      cmdId: 9,
      correlator: 'c1',
      items: [item('./DevDetail/Ext/Acme/Update', { data: 'fw-2.0' })],
    };
    expect((await run(exec)).code).toBe(202);
    expect(alerts).toEqual([]);
    finish!();
    finish!();
    expect(alerts).toEqual([
      {
        type: 'org.openmobilealliance.dm.firmwareupdate.update',
        format: 'int',
        data: '200',
        correlator: 'c1',
        sourceUri: './DevDetail/Ext/Acme/Update',
        serverId: 'srvA',
      },
    ]);
  });

  it('a synchronous Exec (reboot) → 200; handler errors become the status', async () => {
    const { run, tree } = await withAcme();
    let reboots = 0;
    tree.mount('./DevDetail/Ext/Acme/Reboot', { exec: () => (reboots++, 200) });
    tree.mount('./DevDetail/Ext/Acme/Factory', { exec: () => ({ code: 500 }) });
    expect((await run(cmd('Exec', item('./DevDetail/Ext/Acme/Reboot')))).code).toBe(200);
    expect(reboots).toBe(1);
    expect((await run(cmd('Exec', item('./DevDetail/Ext/Acme/Factory')))).code).toBe(500);
  });

  it.each([
    ['a node the description does not make executable', './DevDetail/Ext/Acme/Battery', 'srvA', 405],
    ['an executable node without a handler', './DevDetail/Ext/Acme/Update', 'srvA', 406],
    ['a server without Exec in the ACL', './DevDetail/Ext/Acme/Reboot', 'srvB', 425],
    ['a missing node', './DevDetail/Ext/Acme/Nope', 'srvA', 404],
  ])('Exec on %s → %s gets %i', async (_name, uri, server, code) => {
    const { run, tree } = await withAcme();
    tree.mount('./DevDetail/Ext/Acme/Reboot', { exec: () => 200 });
    expect((await run(cmd('Exec', item(uri)), server)).code).toBe(code);
  });

  it('a throwing plugin is a 500, not a crash', async () => {
    const { run, tree } = await withAcme();
    tree.mount('./DevDetail/Ext/Acme/Battery', {
      read: () => {
        throw new Error('sensor gone');
      },
    });
    expect((await run(get('./DevDetail/Ext/Acme/Battery'))).code).toBe(500);
    expect(await tree.readText('./DevInfo/Man')).toBe('Acme');
    expect(tree.has('./DevDetail/Ext/Acme')).toBe(true);
    void DEVICE;
  });
});
