/**
 * `omadm load` in-process through `main([...])` against the real server app: the table, --json, the progress
 * line only on a terminal, exit codes, usage errors and a truthful --help.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ADMIN_TOKEN as TOKEN, startTestServer, type TestServer } from '../e2e/support/server.js';
import { CapturedIo } from '../device/support/cli-io.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

async function run(args: string[], tty = false): Promise<{ code: number; io: CapturedIo }> {
  const io = new CapturedIo();
  if (tty) Object.assign(io.stderr, { isTTY: true });
  const code = await main(['load', ...args], io);
  return { code, io };
}

describe('omadm load', () => {
  it(
    '--json prints one report object; no progress line when stderr is not a terminal',
    { timeout: 30_000 },
    async () => {
      const { code, io } = await run([
        '--server',
        `${server.url}/dm`,
        '--devices',
        '10',
        '--sessions',
        '30',
        '--register',
        '--admin-token',
        TOKEN,
        '--prefix',
        'CLI-J-',
        '--json',
      ]);
      expect(code, io.err).toBe(0);
      expect(io.lines()).toHaveLength(1);
      const report = JSON.parse(io.lines()[0]!) as Record<string, unknown>;
      expect(report).toMatchObject({ devices: 10, sessions: 30, failed: 0, failures: {} });
      expect(io.err).toBe('');
    },
  );

  it('prints the table and draws progress on a terminal', { timeout: 30_000 }, async () => {
    const { code, io } = await run(
      [
        '--server',
        `${server.url}/dm`,
        '--devices',
        '20',
        '--concurrency',
        '5',
        '--duration',
        '1',
        '--wbxml',
        '--auth',
        'basic',
        '--register',
        '--admin-token',
        TOKEN,
        '--prefix',
        'CLI-T-',
      ],
      true,
    );
    expect(code, io.err).toBe(0);
    for (const row of ['sessions/s', 'messages/s', 'latency p50', 'latency p95', 'latency p99', 'failures'])
      expect(io.out).toContain(row);
    expect(io.out).toMatch(/failures\s+none/);
    expect(io.err).toMatch(/\r\[\s*\d+\.\d s\] sessions \d+ \(\d+\.\d\/s\), in flight \d+, failed 0/);
  });

  it(
    'exits 1 and lists the cause when sessions fail (devices the server does not know)',
    { timeout: 30_000 },
    async () => {
      const { code, io } = await run([
        '--server',
        `${server.url}/dm`,
        '--devices',
        '2',
        '--sessions',
        '4',
        '--prefix',
        'CLI-UNKNOWN-',
      ]);
      expect(code).toBe(1);
      expect(io.out).toMatch(/failures\s+4 × auth-failed/);
    },
  );

  it('exits 1 with one line when registration is refused (wrong admin token)', async () => {
    const { code, io } = await run([
      '--server',
      `${server.url}/dm`,
      '--devices',
      '2',
      '--sessions',
      '2',
      '--register',
      '--admin-token',
      'wrong',
    ]);
    expect(code).toBe(1);
    expect(io.err.trim().split('\n')).toHaveLength(1);
    expect(io.err).toMatch(/^omadm load: registering .*HTTP 401/);
  });

  it('usage errors exit 2 with one line', async () => {
    for (const args of [
      [],
      ['--server', 'http://127.0.0.1:1/dm'],
      ['--server', 'http://127.0.0.1:1/dm', '--devices', '0'],
      ['--server', 'http://127.0.0.1:1/dm', '--devices', '5', '--duration', '0'],
      ['--server', 'http://127.0.0.1:1/dm', '--devices', '5', '--register'],
      ['--server', 'http://127.0.0.1:1/dm', '--devices', '5', '--auth', 'rot13'],
      ['--nope'],
    ]) {
      const { code, io } = await run(args);
      expect(code, args.join(' ')).toBe(2);
      expect(io.err.trim().split('\n')).toHaveLength(1);
    }
  });

  it('--help documents exactly the options the command accepts', async () => {
    const { code, io } = await run(['--help']);
    expect(code).toBe(0);
    const documented = [...new Set(io.out.match(/--[a-z][a-z-]+/g))].sort();
    expect(documented).toEqual(
      [
        '--admin-token',
        '--auth',
        '--concurrency',
        '--devices',
        '--duration',
        '--help',
        '--json',
        '--prefix',
        '--profile',
        '--register',
        '--server',
        '--server-id',
        '--sessions',
        '--wbxml',
      ].sort(),
    );
    for (const flag of documented) {
      const r = await run([
        flag,
        ...(['--help', '--json', '--register', '--wbxml'].includes(flag) ? [] : ['x']),
        '--help',
      ]);
      expect(r.code, flag).toBe(0);
    }
  });
});
