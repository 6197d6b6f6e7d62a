/**
 * `omadm codec xml2wbxml|wbxml2xml <in> <out>`: converts one SyncML DM 1.2 message between the two encodings by
 * decoding it to the model and encoding it again, so anything we would refuse on the wire is refused here too.
 * `-` reads stdin / writes stdout. Exit 0 on success; 1 with one line on stderr naming the problem.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { OmadmError } from '../errors.js';
import type { SyncMLMessage } from '../syncml/model.js';
import { decodeWbxml, encodeWbxml } from '../syncml/wbxml/index.js';
import { decodeXml, encodeXml } from '../syncml/xml/index.js';
import type { CliIo } from './io.js';

const HELP = `Usage: omadm codec <direction> <in> <out>

Convert one SyncML DM 1.2 message between XML and WBXML.

Directions:
  xml2wbxml   read XML (application/vnd.syncml.dm+xml), write WBXML 1.2 (public id 0x1201, UTF-8)
  wbxml2xml   read WBXML (any 1.x), write compact UTF-8 XML

<in> and <out> are file paths; "-" means stdin / stdout.
The message is fully decoded and checked (DOCTYPE, limits, unknown elements, versions); on bad input the
command exits with status 1 and one line on stderr saying what is wrong and where.
`;

interface Direction {
  readonly decode: (bytes: Uint8Array) => SyncMLMessage;
  readonly encode: (message: SyncMLMessage) => Uint8Array;
}

const DIRECTIONS: Readonly<Record<string, Direction>> = {
  xml2wbxml: { decode: (bytes) => decodeXml(bytes), encode: encodeWbxml },
  wbxml2xml: { decode: (bytes) => decodeWbxml(bytes), encode: encodeXml },
};

/** A problem to report as `omadm codec: <message>`, exit status 1. */
class UsageProblem extends Error {}

export async function runCodec(args: string[], io: CliIo): Promise<number> {
  try {
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout.write(HELP);
      return 0;
    }
    const [name, input, output, ...extra] = args;
    const direction = name === undefined ? undefined : DIRECTIONS[name];
    if (direction === undefined) {
      const got = name === undefined ? 'missing direction' : `unknown direction ${JSON.stringify(name)}`;
      throw new UsageProblem(`${got}: expected xml2wbxml or wbxml2xml (see omadm codec --help)`);
    }
    if (input === undefined || output === undefined || extra.length > 0) {
      throw new UsageProblem(`${name} takes exactly two arguments, <in> and <out> ("-" for stdin/stdout)`);
    }
    const inName = input === '-' ? '<stdin>' : input;
    const bytes = await readInput(input, io, inName);
    let encoded: Uint8Array;
    try {
      encoded = direction.encode(direction.decode(bytes));
    } catch (error) {
      throw new UsageProblem(`${inName}: ${describe(error)}`);
    }
    await writeOutput(output, encoded, io);
    return 0;
  } catch (error) {
    const message = error instanceof UsageProblem ? error.message : describe(error);
    io.stderr.write(`omadm codec: ${oneLine(message)}\n`);
    return 1;
  }
}

async function readInput(input: string, io: CliIo, inName: string): Promise<Uint8Array> {
  try {
    if (input !== '-') return await readFile(input);
    const chunks: Uint8Array[] = [];
    for await (const chunk of io.stdin) {
      chunks.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk);
    }
    return Buffer.concat(chunks);
  } catch (error) {
    throw new UsageProblem(`${inName}: cannot read: ${describe(error)}`);
  }
}

async function writeOutput(output: string, bytes: Uint8Array, io: CliIo): Promise<void> {
  try {
    if (output !== '-') {
      await writeFile(output, bytes);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      io.stdout.write(bytes, (error) => (error ? reject(error) : resolve()));
    });
  } catch (error) {
    throw new UsageProblem(`${output === '-' ? '<stdout>' : output}: cannot write: ${describe(error)}`);
  }
}

function describe(error: unknown): string {
  if (error instanceof OmadmError) return error.message;
  const err = error as NodeJS.ErrnoException;
  if (typeof err?.code === 'string' && typeof err.syscall === 'string') {
    // Node file errors: "ENOENT: no such file or directory, open 'x'" → "no such file or directory"
    return err.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
  }
  return error instanceof Error ? error.message : String(error);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
