/** Exec (representation.md §6): handed to the mounted plugin; 202 = accepted, result later as a Generic Alert. */
import { requireAccessType, requireAcl } from './access.js';
import type { ManagementTree } from './management-tree.js';
import { isDevice, type Actor } from './node-record.js';
import type { GenericAlertReport } from './plugin.js';
import { TreeError } from './tree-error.js';
import { formatUri } from './uri.js';

export interface ExecInput {
  readonly data?: Uint8Array;
  readonly correlator?: string;
}

/** Runs an executable node and returns the status code (200, 202 or the handler's error code). */
export async function execNode(
  tree: ManagementTree,
  uri: string,
  input: ExecInput,
  actor: Actor,
): Promise<number> {
  const parsed = tree.parse(uri);
  if (parsed.query !== undefined)
    throw new TreeError(405, 'command-not-allowed', 'Exec on a property or list', uri);
  const { segments } = parsed;
  const canonical = formatUri(segments);
  tree.requireNode(segments, canonical);
  const desc = tree.describe(segments);
  requireAccessType(desc, 'Exec', actor, canonical);
  requireAcl(tree, segments, 'Exec', actor, canonical);
  const mount = tree.pluginAt(segments);
  if (mount?.plugin.exec === undefined) {
    // Described as executable but nothing handles it on this device: an unsupported optional feature.
    if (desc?.accessType.includes('Exec') === true) {
      throw new TreeError(406, 'exec-not-supported', 'no handler for this executable node', canonical);
    }
    throw new TreeError(405, 'not-executable', 'node is not executable', canonical);
  }
  const serverId = isDevice(actor) ? undefined : actor.serverId;
  let reported = false;
  const report = (alert: GenericAlertReport): void => {
    if (reported) return;
    reported = true;
    tree.onGenericAlert?.({
      ...alert,
      sourceUri: canonical,
      ...(input.correlator === undefined ? {} : { correlator: input.correlator }),
      ...(serverId === undefined ? {} : { serverId }),
    });
  };
  const result = await mount.plugin.exec({
    uri: canonical,
    path: mount.path,
    report,
    ...(serverId === undefined ? {} : { serverId }),
    ...(input.data === undefined ? {} : { data: input.data }),
    ...(input.correlator === undefined ? {} : { correlator: input.correlator }),
  });
  const code = typeof result === 'number' ? result : result.code;
  if (!Number.isInteger(code) || code < 200 || code > 599) {
    throw new TreeError(500, 'bad-exec-result', `Exec handler returned ${String(code)}`, canonical);
  }
  return code;
}
