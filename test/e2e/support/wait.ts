/** Polling helpers for e2e tests that wait on real servers, sockets and event streams. */

/** Polls `fn` every 10 ms until it returns a value; fails after `ms` naming `what` it waited for. */
export async function waitFor<T>(fn: () => T | undefined, what: string, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
