/**
 * `omadm load`: N simulated devices running DM sessions against a server, through the same DeviceRuntime as
 * `omadm device`. A live progress line on stderr when it is a terminal; a table (or one JSON object) at the end.
 * Exit status: 0 when every session completed, 1 when any failed or the run could not start, 2 for bad usage.
 */
import { parseArgs } from 'node:util';
import {
  LOAD_LIMITS,
  runLoad as runLoadGenerator,
  type LoadOptions,
  type LoadProgress,
  type LoadReport,
} from '../device/load/load-generator.js';
import { PROFILES, profileNamed } from '../device/profiles/profiles.js';
import type { CliIo } from './io.js';

const HELP = `Usage: omadm load --server URL --devices N [options]

Simulate N OMA DM devices, each with its own credentials and in-memory tree, running sessions against the
DM server at URL (e.g. http://127.0.0.1:8080/dm) as fast as it answers, then print sessions/s, messages/s,
session latency percentiles and failures by cause. Every session takes the same code path as omadm device.

Required:
  --server URL          the server's DM endpoint
  --devices N           number of simulated devices (1..${LOAD_LIMITS.maxDevices})

Options:
  --concurrency C       sessions in flight at once, at most N (default 10)
  --duration S          stop starting sessions after S seconds (default 10 unless --sessions is given)
  --sessions K          stop after K sessions in total (with --duration: whichever comes first)
  --wbxml               send WBXML instead of XML
  --auth md5|basic|hmac authentication scheme (default md5)
  --server-id ID        the server's ServerID (default omadm)
  --prefix P            device id prefix (default LOAD-): device i is <P><i>, user <P><i>,
                        password <P><i>/client, server password <P><i>/server
  --profile NAME        device model: ${Object.keys(PROFILES).join(', ')} (default generic)
  --register            register the devices first with POST /api/v1/devices on the server's origin
                        (a device already registered counts as existing)
  --admin-token T       the REST API bearer token (required with --register)
  --json                print the report as one JSON object instead of the table
  -h, --help            show this help

A progress line is drawn on stderr while running when stderr is a terminal. Ctrl-C stops starting sessions,
lets those in flight finish and still prints the report.
Exit status: 0 when every session completed, 1 when a session failed or the run could not start,
2 for invalid options.
`;

class UsageError extends Error {}

interface Parsed {
  readonly load: LoadOptions;
  readonly json: boolean;
}

function parse(args: string[]): Parsed | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        server: { type: 'string' },
        devices: { type: 'string' },
        concurrency: { type: 'string' },
        duration: { type: 'string' },
        sessions: { type: 'string' },
        wbxml: { type: 'boolean' },
        auth: { type: 'string' },
        'server-id': { type: 'string' },
        prefix: { type: 'string' },
        profile: { type: 'string' },
        register: { type: 'boolean' },
        'admin-token': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) return 'help';
  if (values.server === undefined) throw new UsageError('--server is required');
  let url: URL;
  try {
    url = new URL(values.server);
  } catch {
    throw new UsageError(`--server ${JSON.stringify(values.server)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError('--server must be an http:// or https:// URL');
  const integer = (name: string, text: string | undefined, max: number): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new UsageError(`--${name} must be an integer from 1 to ${max}`);
    return n;
  };
  const devices = integer('devices', values.devices, LOAD_LIMITS.maxDevices);
  if (devices === undefined) throw new UsageError('--devices is required');
  const concurrency = integer('concurrency', values.concurrency, LOAD_LIMITS.maxConcurrency);
  const sessions = integer('sessions', values.sessions, LOAD_LIMITS.maxSessions);
  let durationMs: number | undefined;
  if (values.duration !== undefined) {
    const s = Number(values.duration);
    if (!(s > 0 && s * 1000 <= LOAD_LIMITS.maxDurationMs))
      throw new UsageError(
        `--duration must be more than 0 and at most ${LOAD_LIMITS.maxDurationMs / 1000} seconds`,
      );
    durationMs = s * 1000;
  }
  const auth = values.auth ?? 'md5';
  if (auth !== 'md5' && auth !== 'basic' && auth !== 'hmac')
    throw new UsageError(`--auth must be md5, basic or hmac, not ${JSON.stringify(auth)}`);
  const profile = values.profile === undefined ? undefined : profileNamed(values.profile);
  if (values.profile !== undefined && profile === undefined)
    throw new UsageError(
      `unknown --profile ${JSON.stringify(values.profile)}: use ${Object.keys(PROFILES).join(', ')}`,
    );
  if (values.register === true && values['admin-token'] === undefined)
    throw new UsageError('--register needs --admin-token');
  if (values.register !== true && values['admin-token'] !== undefined)
    throw new UsageError('--admin-token only applies with --register');
  return {
    json: values.json === true,
    load: {
      serverUrl: values.server,
      devices,
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(durationMs === undefined ? {} : { durationMs }),
      ...(sessions === undefined ? {} : { sessions }),
      encoding: values.wbxml === true ? 'wbxml' : 'xml',
      auth: auth,
      ...(values['server-id'] === undefined ? {} : { serverId: values['server-id'] }),
      ...(values.prefix === undefined ? {} : { prefix: values.prefix }),
      ...(profile === undefined ? {} : { profile }),
      ...(values.register === true
        ? { register: { apiUrl: new URL('/api/v1', url).toString(), adminToken: values['admin-token']! } }
        : {}),
    },
  };
}

export async function runLoad(args: string[], io: CliIo): Promise<number> {
  let parsed: Parsed | 'help';
  try {
    parsed = parse(args);
  } catch (error) {
    io.stderr.write(
      `omadm load: ${oneLine(error instanceof Error ? error.message : String(error))} (see omadm load --help)\n`,
    );
    return 2;
  }
  if (parsed === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  let report: LoadReport;
  // Ctrl-C stops starting sessions; the ones in flight finish and the report is still printed.
  const interrupt = new AbortController();
  const onSignal = (): void => interrupt.abort();
  process.once('SIGINT', onSignal);
  try {
    report = await runLoadGenerator({
      signal: interrupt.signal,
      ...parsed.load,
      ...(tty ? { onProgress: (p: LoadProgress) => io.stderr.write(`\r${progressLine(p)}\u001b[K`) } : {}),
    });
  } catch (error) {
    if (tty) io.stderr.write('\n');
    io.stderr.write(`omadm load: ${oneLine(error instanceof Error ? error.message : String(error))}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
  }
  if (tty) io.stderr.write('\n');
  io.stdout.write(parsed.json ? `${JSON.stringify(report)}\n` : reportTable(report));
  return report.failed === 0 ? 0 : 1;
}

export function progressLine(p: LoadProgress): string {
  return `[${(p.elapsedMs / 1000).toFixed(1).padStart(6)} s] sessions ${p.sessions} (${p.sessionsPerSecond.toFixed(1)}/s), in flight ${p.inFlight}, failed ${p.failed}`;
}

export function reportTable(r: LoadReport): string {
  const rows: [string, string][] = [
    ['devices', `${r.devices} (concurrency ${r.concurrency}, ${r.encoding.toUpperCase()}, ${r.auth})`],
    ...(r.registered === undefined
      ? []
      : [
          [
            'registered',
            `${r.registered.created} new, ${r.registered.existing} existing in ${r.registered.durationMs} ms`,
          ] as [string, string],
        ]),
    ['duration', `${(r.durationMs / 1000).toFixed(2)} s`],
    ['sessions', `${r.sessions} (${r.completed} completed, ${r.failed} failed)`],
    ['sessions/s', r.sessionsPerSecond.toFixed(1)],
    [
      'messages/s',
      `${r.messagesPerSecond.toFixed(1)} (${r.messages} messages, ${(r.bytes / 1024).toFixed(0)} KiB)`,
    ],
    ['latency p50', `${r.latencyMs.p50.toFixed(1)} ms`],
    ['latency p95', `${r.latencyMs.p95.toFixed(1)} ms`],
    ['latency p99', `${r.latencyMs.p99.toFixed(1)} ms`],
    ['latency max', `${r.latencyMs.max.toFixed(1)} ms`],
  ];
  const failures = Object.entries(r.failures);
  if (failures.length === 0) rows.push(['failures', 'none']);
  for (const [cause, count] of failures)
    rows.push([
      'failures',
      `${count} × ${cause}${r.failureExamples[cause] ? ` (e.g. ${r.failureExamples[cause]})` : ''}`,
    ]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
