/** E2E support: `node bin/omadm.js server …` as a child process, as operators run it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/omadm.js', import.meta.url));

export interface ChildServer {
  readonly child: ChildProcess;
  readonly url: string;
  readonly dm: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
}

export async function spawnServer(
  args: readonly string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<ChildServer> {
  const child = spawn(process.execPath, [BIN, 'server', ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 15 s\n${out}\n${err}`)), 15_000);
    const check = (): void => {
      const match = /^DM endpoint:\s+(\S+)\/dm$/m.exec(out);
      if (match !== null && /^ready in \d+ ms$/m.test(out)) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${String(code)}) before it was ready\n${out}\n${err}`));
    });
  });
  return { child, url, dm: `${url}/dm`, stdout: () => out, stderr: () => err, exited };
}
