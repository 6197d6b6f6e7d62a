/** Bad input never crashes the tree: any command, URI or payload ends in a DM status code (STYLE.md habit 5). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Command, Data, Item } from '../../src/syncml/model.js';
import { formatAcl, parseAcl } from '../../src/tree/index.js';
import { deviceTree } from './fixture.js';

const segment = fc.oneof(
  fc.constantFrom(
    'DevInfo',
    'DevDetail',
    'DMAcc',
    'srvA',
    'AppAuth',
    'CLCRED',
    'AAuthSecret',
    'Vendor',
    'Inbox',
    'URI',
    'Ext',
    'x',
  ),
  fc.string({ maxLength: 6 }),
  fc.constantFrom('..', '.', '', '%', '%zz', '%C3'),
);
const uri = fc.oneof(
  fc.array(segment, { maxLength: 5 }).map((s) => `./${s.join('/')}`),
  fc.array(segment, { maxLength: 5 }).map((s) => s.join('/')),
  fc
    .tuple(
      fc.array(segment, { minLength: 1, maxLength: 3 }),
      fc.constantFrom(
        '?prop=ACL',
        '?prop=Name',
        '?prop=Foo',
        '?list=TNDS+Value',
        '?list=Struct',
        '?x=1',
        '?prop=',
      ),
    )
    .map(([s, q]) => `./${s.join('/')}${q}`),
);
const data: fc.Arbitrary<Data> = fc.oneof(
  fc.string({ maxLength: 12 }).map((text) => ({ kind: 'text' as const, text })),
  fc.uint8Array({ maxLength: 8 }).map((bytes) => ({ kind: 'binary' as const, bytes })),
  fc.constant({
    kind: 'xml' as const,
    element: { name: 'MgmtTree', children: [{ name: 'Node', children: [] }] },
  }),
);
const item: fc.Arbitrary<Item> = fc.record(
  {
    target: uri.map((locUri) => ({ locUri })),
    source: uri.map((locUri) => ({ locUri })),
    meta: fc.record(
      {
        format: fc.constantFrom('chr', 'int', 'node', 'bin', 'b64', 'bool', 'xml', 'nope', ''),
        type: fc.constantFrom(
          'text/plain',
          'application/vnd.syncml.dmtnds+xml',
          'urn:oma:mo:oma-dm-dmacc:1.0',
        ),
      },
      { requiredKeys: [] },
    ),
    data,
  },
  { requiredKeys: [] },
);
const simple = fc
  .tuple(fc.constantFrom('Add', 'Replace', 'Delete', 'Get', 'Copy', 'Exec'), fc.array(item, { maxLength: 3 }))
  .map(([kind, items]) => ({ kind, cmdId: 1, items }));
const command: fc.Arbitrary<Command> = fc.oneof(
  simple,
  fc.array(simple, { maxLength: 3 }).map((commands) => ({ kind: 'Atomic' as const, cmdId: 2, commands })),
  fc.array(simple, { maxLength: 3 }).map((commands) => ({ kind: 'Sequence' as const, cmdId: 3, commands })),
);

describe('robustness', () => {
  it('every command gets a status code in 200..599, the root survives, secrets never leak', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { maxLength: 6 }),
        fc.constantFrom('srvA', 'srvB', 'evil'),
        async (commands, server) => {
          const { run, tree } = await deviceTree();
          for (const c of commands) {
            const out = await run(c, server);
            expect(out.code).toBeGreaterThanOrEqual(200);
            expect(out.code).toBeLessThan(600);
            const text = JSON.stringify(out, (_k, v: unknown) =>
              v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
            );
            expect(text).not.toContain('client-secret');
          }
          expect(tree.has('.')).toBe(true);
          expect(await tree.readText('./DevInfo/DevId')).toBe('IMEI:359000000000001');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a valid ACL survives format(parse(acl)) with the same grants', () => {
    const id = fc.constantFrom('*', 'srvA', 'srvB', 'a.b-c:d');
    const entry = fc.tuple(
      fc.constantFrom('Add', 'Delete', 'Exec', 'Get', 'Replace'),
      fc.array(id, { minLength: 1, maxLength: 3 }),
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 6 }), (entries) => {
        const acl = entries.map(([c, ids]) => `${c}=${ids.join('+')}`).join('&');
        expect(parseAcl(formatAcl(parseAcl(acl)))).toEqual(parseAcl(acl));
      }),
    );
  });
});
