/**
 * `omadm <subcommand>`: the composition root. Each subcommand lives in its own module, loaded only when used so
 * `omadm codec` does not pay for the server's database drivers.
 */
import { readFileSync } from 'node:fs';
import { processIo, type CliIo } from './io.js';

interface Subcommand {
  readonly summary: string;
  readonly load: () => Promise<(args: string[], io: CliIo) => Promise<number>>;
}

const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  codec: {
    summary: 'convert SyncML DM messages between XML and WBXML',
    load: async () => (await import('./codec.js')).runCodec,
  },
  server: {
    summary: 'run the DM server (POST /dm, REST API, console) on SQLite or PostgreSQL',
    load: async () => (await import('./server.js')).runServer,
  },
  device: {
    summary: 'run a simulated device: one DM session against a server, or wait for Package 0 with --listen',
    load: async () => (await import('./device.js')).runDevice,
  },
  load: {
    summary: 'load-test a DM server with N simulated devices (sessions/s, latency percentiles, failures)',
    load: async () => (await import('./load.js')).runLoad,
  },
};

export function helpText(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((name) => name.length));
  const lines = Object.entries(SUBCOMMANDS).map(([name, sub]) => `  ${name.padEnd(width)}  ${sub.summary}`);
  return [
    'omadm: OMA Device Management 1.2 (SyncML DM) server, device simulator and tools',
    '',
    'Usage: omadm <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `omadm <command> --help` for the options of a command.',
    '',
  ].join('\n');
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(helpText());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const sub = SUBCOMMANDS[name];
  if (sub === undefined) {
    io.stderr.write(`omadm: unknown command ${JSON.stringify(name)}\n\n${helpText()}`);
    return 2;
  }
  const run = await sub.load();
  return run(rest, io);
}

/** The version in package.json, found by walking up from this file (src/cli or dist/src/cli). */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'omadm' && pkg.version !== undefined) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}
