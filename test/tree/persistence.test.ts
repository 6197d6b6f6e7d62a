/** The TreeStore port: the same suite over the in-memory and the JSON-file store (STYLE.md: one suite, two stores). */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEVICE,
  ManagementTree,
  MemoryTreeStore,
  TreeCommandExecutor,
  credentialsFor,
  findDmAccount,
  storeNonce,
  type TreeStore,
} from '../../src/tree/index.js';
import { OmadmError } from '../../src/errors.js';
import { JsonFileTreeStore } from '../../src/tree/json-file-store.js';
import { add, dataOf, deviceTree, get, replace } from './fixture.js';

const stores: [string, () => TreeStore][] = [
  ['MemoryTreeStore', () => new MemoryTreeStore()],
  [
    'JsonFileTreeStore',
    () => new JsonFileTreeStore(join(mkdtempSync(join(tmpdir(), 'omadm-tree-')), 'tree.json')),
  ],
];

describe.each(stores)('%s', (_name, makeStore) => {
  it('values, properties, ACLs and DMAcc nonces survive a restart', async () => {
    const store = makeStore();
    const first = await deviceTree();
    await first.tree.attachStore(store);
    await first.run(add('./Vendor/Cfg/Timeout', { format: 'int', data: '30' }));
    await first.run(replace('./Vendor/Cfg/Timeout?prop=Title', { data: 'Timeout in s' }));
    await first.run(replace('./Vendor/Cfg?prop=ACL', { data: 'Get=srvA&Replace=srvA' }));
    await first.run(add('./Vendor/Blob', { format: 'b64', data: 'AAEC' }));
    await storeNonce(first.tree, 'srvA', 'CLCRED', new Uint8Array([42, 43]));

    // A new process: same descriptions (the device installs them again), state from the store.
    const second = await deviceTree();
    await second.tree.attachStore(store);
    expect(dataOf(await second.run(get('./Vendor/Cfg/Timeout')))).toBe('30');
    expect(dataOf(await second.run(get('./Vendor/Cfg/Timeout?prop=Format')))).toBe('int');
    expect(dataOf(await second.run(get('./Vendor/Cfg/Timeout?prop=Title')))).toBe('Timeout in s');
    expect(dataOf(await second.run(get('./Vendor/Cfg?prop=ACL')))).toBe('Get=srvA&Replace=srvA');
    expect((await second.run(get('./Vendor/Cfg/Timeout'), 'srvB')).code).toBe(425);
    expect(await second.tree.readBytes('./Vendor/Blob')).toEqual(new Uint8Array([0, 1, 2]));
    expect(credentialsFor((await findDmAccount(second.tree, 'srvA'))!, 'CLCRED')?.data).toEqual(
      new Uint8Array([42, 43]),
    );
    expect(second.tree.snapshot()).toEqual(first.tree.snapshot());
  });

  it('a failed command (Atomic rolled back) does not reach the store', async () => {
    const store = makeStore();
    const { tree, run } = await deviceTree();
    await tree.attachStore(store);
    const saved = await store.load();
    await run({
      kind: 'Atomic',
      cmdId: 1,
      commands: [add('./Vendor/X', { data: '1' }) as never, replace('./Vendor/None', { data: '1' }) as never],
    });
    expect(await store.load()).toEqual(saved);
  });

  it('an empty store starts from the tree as built and saves it', async () => {
    const store = makeStore();
    expect(await store.load()).toBeUndefined();
    const tree = new ManagementTree();
    await tree.attachStore(store);
    expect((await store.load())?.nodes.map((n) => n.uri)).toEqual(['.']);
  });
});

describe('JsonFileTreeStore specifics', () => {
  it('writes atomically: no temp files left, the file is always complete JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omadm-tree-'));
    const path = join(dir, 'tree.json');
    const tree = new ManagementTree();
    await tree.attachStore(new JsonFileTreeStore(path));
    const exec = new TreeCommandExecutor(tree);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        exec.execute(add(`./N${i}`, { data: String(i) }), { serverId: 'srv' }),
      ),
    );
    expect(readdirSync(dir)).toEqual(['tree.json']);
    const saved = JSON.parse(readFileSync(path, 'utf8')) as { nodes: { uri: string }[] };
    expect(saved.nodes).toHaveLength(21);
    expect(await tree.readText('./N19')).toBe('19');
  });

  it('a corrupt file is a clear LocalProtocolError, not a crash later', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'omadm-tree-')), 'tree.json');
    writeFileSync(path, '{"version":1,"nodes":[');
    await expect(new ManagementTree().attachStore(new JsonFileTreeStore(path))).rejects.toMatchObject({
      code: 'bad-tree-file',
    });
    writeFileSync(path, '{"version":7,"nodes":[]}');
    const error = await new ManagementTree()
      .attachStore(new JsonFileTreeStore(path))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OmadmError);
    expect((error as OmadmError).code).toBe('bad-tree-snapshot');
    void DEVICE;
  });
});
