/** tree.md §1 URIs: syntax, escaping and the DevDetail/URI limits (DG-CMD-17, DG-CMD-18). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TreeError, escapeSegment, formatUri, parseUri } from '../../src/tree/index.js';
import { add, dataOf, deviceTree, get } from './fixture.js';

function statusOfParse(uri: string, limits = {}): number {
  try {
    parseUri(uri, limits);
    return 200;
  } catch (error) {
    if (error instanceof TreeError) return error.status;
    throw error;
  }
}

describe('parseUri', () => {
  it.each([
    ['.', []],
    ['./A', ['A']],
    ['A/B', ['A', 'B']],
    ['./A/B.c', ['A', 'B.c']],
    ['./A%20B/%C3%A9t%C3%A9', ['A B', 'été']],
  ])('%s → %j', (uri, segments) => {
    expect(parseUri(uri).segments).toEqual(segments);
  });

  it('splits ?prop= and ?list= off the path', () => {
    expect(parseUri('./A?prop=ACL')).toEqual({ segments: ['A'], query: { kind: 'prop', name: 'ACL' } });
    expect(parseUri('.?list=TNDS+ACL')).toEqual({ segments: [], query: { kind: 'list', spec: 'TNDS+ACL' } });
  });

  it.each([
    ['leading /', '/A', 400],
    ['trailing /', './A/', 400],
    ['empty segment', './A//B', 400],
    ['..', './A/../B', 400],
    ['. inside', './A/./B', 400],
    ['empty', '', 400],
    ['./ alone', './', 400],
    ['truncated escape', './A%2', 400],
    ['bad escape', './A%ZZ', 400],
    ['escape that is not UTF-8', './%C3', 400],
    ['control character', './A\u0001', 400],
    ['query without value', './A?prop=', 400],
    ['unknown query', './A?foo=bar', 406],
  ])('rejects %s (%s) → %i', (_name, uri, code) => {
    expect(statusOfParse(uri)).toBe(code);
  });

  it.each([
    ['segment over MaxSegLen', './abcd/e', { maxSegLen: 3 }],
    ['depth over MaxDepth', './a/b/c', { maxDepth: 2 }],
    ['length over MaxTotLen (properties included)', './a?prop=ACL', { maxTotLen: 10 }],
  ])('DG-CMD-17: %s → 414', (_name, uri, limits) => {
    expect(statusOfParse(uri, limits)).toBe(414);
  });

  it('0 means unlimited', () => {
    expect(statusOfParse('./a/b/c/d', { maxDepth: 0, maxSegLen: 0, maxTotLen: 0 })).toBe(200);
  });

  it('formatUri(parseUri(u)) is the identity on names, whatever they hold', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', minLength: 1 }), { maxLength: 4 }), (names) => {
        fc.pre(names.every((n) => n !== '.' && n !== '..'));
        expect(parseUri(formatUri(names)).segments).toEqual(names);
      }),
    );
  });

  it('escapes "/", "?", "%" and spaces in names', () => {
    expect(escapeSegment('a/b?c%d e')).toBe('a%2Fb%3Fc%25d%20e');
  });
});

describe('URIs in commands', () => {
  it('DG-CMD-17: the tree enforces DevDetail/URI/MaxSegLen, MaxDepth and MaxTotLen with 414', async () => {
    const { run, tree } = await deviceTree();
    expect(dataOf(await run(get('./DevDetail/URI/MaxSegLen')))).toBe('32');
    expect((await run(add(`./Vendor/${'s'.repeat(33)}`, { data: 'x' }))).code).toBe(414);
    expect((await run(add('./Vendor/1/2/3/4/5/6/7/8/9/10', { data: 'x' }))).code).toBe(414);
    expect((await run(add(`./Vendor/${'a/'.repeat(60)}z`, { data: 'x' }))).code).toBe(414);
    expect(dataOf(await run(get('./Vendor')))).toBe('');
    expect((await run(add('./Vendor/1/2/3/4/5/6/7/8/9', { data: 'x' }))).code).toBe(200);
    expect(() => tree.has(`./Vendor/${'s'.repeat(33)}`)).toThrow(/MaxSegLen/);
  });

  it.each([['./Vendor/X/'], ['./Vendor/../DevInfo'], ['/Vendor/X'], ['./Vendor//X']])(
    'DG-CMD-18: %s is rejected with 400 and the tree is unchanged',
    async (uri) => {
      const { run, tree } = await deviceTree();
      const before = JSON.stringify(tree.snapshot());
      expect((await run(add(uri, { data: 'x' }))).code).toBe(400);
      expect((await run(get(uri))).code).toBe(400);
      expect(JSON.stringify(tree.snapshot())).toBe(before);
    },
  );

  it('relative and ./ forms address the same node', async () => {
    const { run } = await deviceTree();
    expect(dataOf(await run(get('DevInfo/Man')))).toBe('Acme');
    expect((await run(get('DevInfo/Man'))).results?.[0]?.source?.locUri).toBe('./DevInfo/Man');
  });

  it('escaped names are listed escaped in child lists', async () => {
    const { run } = await deviceTree();
    expect((await run(add('./Vendor/A%20B', { data: '1' }))).code).toBe(200);
    expect(dataOf(await run(get('./Vendor')))).toBe('A%20B');
    expect(dataOf(await run(get('./Vendor/A%20B?prop=Name')))).toBe('A B');
  });
});
