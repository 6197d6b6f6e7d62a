/** Atomic with real rollback and Sequence in order (representation.md §6; DG-CMD-14..16). */
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/syncml/model.js';
import { TreeCommandExecutor } from '../../src/tree/index.js';
import { add, atomic, cmd, dataOf, del, deviceTree, get, item, replace, sequence } from './fixture.js';

describe('Sequence', () => {
  it('DG-CMD-14: Sequence{Get A, Replace A, Get A} → 200s; the second Results shows the new value', async () => {
    const { run } = await deviceTree();
    await run(add('./Vendor/A', { data: 'old' }));
    const out = await run(
      sequence(get('./Vendor/A'), replace('./Vendor/A', { data: 'new' }), get('./Vendor/A')),
    );
    expect(out.code).toBe(200);
    expect(out.children?.map((c) => c.code)).toEqual([200, 200, 200]);
    expect(dataOf(out.children![0]!)).toBe('old');
    expect(dataOf(out.children![2]!)).toBe('new');
  });

  it('goes on after a failed child; nested Sequence is illegal (500); Atomic inside is fine', async () => {
    const { run } = await deviceTree();
    const out = await run(
      sequence(
        get('./Vendor/none'),
        add('./Vendor/B', { data: '1' }),
        sequence(get('./Vendor/B')),
        atomic(replace('./Vendor/B', { data: '2' })),
      ),
    );
    expect(out.code).toBe(200);
    expect(out.children?.map((c) => c.code)).toEqual([404, 200, 500, 200]);
  });

  it('an Alert inside goes to the alert handler; without one → 406', async () => {
    const { run, tree } = await deviceTree();
    const alert: Alert = { kind: 'Alert', cmdId: 7, code: 1100, items: [] };
    expect((await run(sequence(alert))).children?.[0]?.code).toBe(406);
    const seen: number[] = [];
    const withUi = new TreeCommandExecutor(tree, {
      alertHandler: (a) => (seen.push(a.code ?? 0), { code: 200 }),
    });
    expect((await withUi.execute(sequence(alert), { serverId: 'srvA' })).children?.[0]?.code).toBe(200);
    expect(seen).toEqual([1100]);
  });
});

describe('Atomic', () => {
  it('DG-CMD-15: Atomic{Add X (ok), Replace Y (missing)} → 507; Add 216; Replace 404; X absent', async () => {
    const { run, tree } = await deviceTree();
    const out = await run(atomic(add('./Vendor/X', { data: '1' }), replace('./Vendor/Y', { data: '2' })));
    expect(out.code).toBe(507);
    expect(out.children?.map((c) => c.code)).toEqual([216, 404]);
    expect(tree.has('./Vendor/X')).toBe(false);
  });

  it.each([
    ['Get', () => get('./DevInfo/Man')],
    ['nested Atomic', () => atomic(add('./Vendor/Z', { data: '1' }))],
    ['Sequence', () => sequence(add('./Vendor/Z', { data: '1' }))],
    ['Exec', () => cmd('Exec', item('./Vendor'))],
  ])(
    'DG-CMD-16: %s inside Atomic → 500 for it, 507 for the Atomic, earlier children rolled back',
    async (_name, build) => {
      const { run, tree } = await deviceTree();
      const out = await run(atomic(add('./Vendor/X', { data: '1' }), build()));
      expect(out.code).toBe(507);
      expect(out.children?.map((c) => c.code)).toEqual([216, 500]);
      expect(tree.has('./Vendor/X')).toBe(false);
      expect(tree.has('./Vendor/Z')).toBe(false);
    },
  );

  it('all-success Atomic → 200 with each child 200', async () => {
    const { run } = await deviceTree();
    const out = await run(atomic(add('./Vendor/X', { data: '1' }), replace('./Vendor/X', { data: '2' })));
    expect(out.code).toBe(200);
    expect(out.children?.map((c) => c.code)).toEqual([200, 200]);
    expect(dataOf(await run(get('./Vendor/X')))).toBe('2');
  });

  it('rolls back values, deletions, ACLs and renames; children after the failure are not executed (215)', async () => {
    const { run, tree } = await deviceTree();
    await run(add('./Vendor/Keep/Leaf', { data: 'orig' }));
    const before = JSON.stringify(tree.snapshot());
    const out = await run(
      atomic(
        replace('./Vendor/Keep/Leaf', { data: 'changed' }),
        replace('./Vendor/Keep?prop=ACL', { data: 'Get=srvA&Replace=srvA&Delete=srvA' }),
        replace('./Vendor/Keep?prop=Name', { data: 'Moved' }),
        del('./Vendor/Moved'),
        replace('./DevInfo/Man', { data: 'Evil' }),
        add('./Vendor/Never', { data: '1' }),
      ),
    );
    expect(out.code).toBe(507);
    expect(out.children?.map((c) => c.code)).toEqual([216, 216, 216, 216, 405, 215]);
    expect(JSON.stringify(tree.snapshot())).toBe(before);
  });
});
