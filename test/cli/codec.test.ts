/** `omadm codec`: both directions, files and `-` streams, and bad input → exit 1 with one line on stderr. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCodec } from '../../src/cli/codec.js';
import { decodeWbxml } from '../../src/syncml/wbxml/index.js';
import { decodeXml } from '../../src/syncml/xml/index.js';

const fixtureUrl = (name: string): URL => new URL(`../fixtures/libdmclient/${name}`, import.meta.url);

interface Run {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

async function run(args: string[], stdinBytes?: Uint8Array): Promise<Run> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  stdin.end(stdinBytes === undefined ? undefined : Buffer.from(stdinBytes));
  const code = await runCodec(args, { stdin, stdout, stderr });
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omadm-codec-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('omadm codec', () => {
  it('xml2wbxml file → file, then wbxml2xml file → file, keeps the message', async () => {
    const xmlIn = fixtureUrl('PKG1_resend_after_401_md5.xml').pathname;
    const wbxml = join(dir, 'pkg1.wbxml');
    const xmlOut = join(dir, 'pkg1.xml');
    expect(await run(['xml2wbxml', xmlIn, wbxml])).toMatchObject({ code: 0, stderr: '' });
    const wbxmlBytes = await readFile(wbxml);
    expect(Array.from(wbxmlBytes.subarray(0, 4))).toEqual([0x02, 0xa4, 0x01, 0x6a]);
    expect(await run(['wbxml2xml', wbxml, xmlOut])).toMatchObject({ code: 0, stderr: '' });
    const original = decodeXml(await readFile(xmlIn));
    expect(decodeWbxml(wbxmlBytes)).toEqual(original);
    expect(decodeXml(await readFile(xmlOut))).toEqual(original);
  });

  it('"-" reads stdin and writes stdout, in both directions', async () => {
    const wbxml = await readFile(fixtureUrl('PKG3_wbxml.wbxml'));
    const toXml = await run(['wbxml2xml', '-', '-'], wbxml);
    expect(toXml.code).toBe(0);
    expect(toXml.stdout.toString()).toMatch(
      /^<\?xml version="1\.0" encoding="UTF-8"\?><SyncML xmlns="SYNCML:SYNCML1\.2">/,
    );
    const toWbxml = await run(['xml2wbxml', '-', '-'], toXml.stdout);
    expect(toWbxml.code).toBe(0);
    expect(decodeWbxml(toWbxml.stdout)).toEqual(decodeWbxml(wbxml));
  });

  it('--help prints the usage on stdout and exits 0', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.toString()).toContain('omadm codec <direction> <in> <out>');
    expect(help.stdout.toString()).toContain('wbxml2xml');
  });

  it('a DOCTYPE with an internal subset is refused: exit 1, one line naming the file, the problem and where', async () => {
    const input = join(dir, 'evil.xml');
    await writeFile(input, '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><SyncML/>');
    const output = join(dir, 'evil.wbxml');
    const result = await run(['xml2wbxml', input, output]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `omadm codec: ${input}: a DOCTYPE with an internal subset is not allowed (at 1:22)\n`,
    );
    await expect(readFile(output)).rejects.toThrow();
  });

  it('bad input of every kind gives exit 1 and exactly one line on stderr', async () => {
    const notSyncml = join(dir, 'other.xml');
    await writeFile(notSyncml, '<html>\n<body/>\n</html>');
    const cases: [string[], Uint8Array | undefined, RegExp][] = [
      [['xml2wbxml', notSyncml, '-'], undefined, /other\.xml: root element is <html>/],
      [['wbxml2xml', '-', '-'], Uint8Array.of(0x02, 0xa4, 0x01), /<stdin>: .*\(at byte \d+\)/],
      [['wbxml2xml', '-', '-'], new TextEncoder().encode('<SyncML/>'), /<stdin>: /],
      [
        ['xml2wbxml', '-', '-'],
        new TextEncoder().encode('<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr>'),
        /not closed/,
      ],
      [
        ['xml2wbxml', join(dir, 'missing.xml'), '-'],
        undefined,
        /missing\.xml: cannot read: no such file or directory/,
      ],
      [
        ['xml2wbxml', fixtureUrl('PKG3_xml.xml').pathname, join(dir, 'no/such/dir/out')],
        undefined,
        /cannot write/,
      ],
      [[], undefined, /missing direction/],
      [['json2xml', 'a', 'b'], undefined, /unknown direction "json2xml"/],
      [['xml2wbxml', 'only-one'], undefined, /exactly two arguments/],
    ];
    for (const [args, stdin, pattern] of cases) {
      const result = await run(args, stdin);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(/^omadm codec: [^\n]+\n$/);
      expect(result.stderr).toMatch(pattern);
      expect(result.stdout.length).toBe(0);
    }
  });

  it('binary Data that XML cannot carry is reported when converting to XML', async () => {
    const { encodeWbxml } = await import('../../src/syncml/wbxml/index.js');
    const message = decodeXml(await readFile(fixtureUrl('PKG3_xml.xml')));
    const withBinary = encodeWbxml({
      ...message,
      body: [
        {
          kind: 'Replace',
          cmdId: 9,
          items: [{ data: { kind: 'binary', bytes: Uint8Array.of(0xff, 0xfe) } }],
        },
      ],
    });
    const result = await run(['wbxml2xml', '-', '-'], withBinary);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^omadm codec: <stdin>: <Data> holds binary data.*b64.*WBXML\n$/);
  });
});
