/**
 * The operator console's static files (web/): exactly index.html, app.js and style.css, read once at start and
 * served from memory with their content types. Nothing else is ever read from disk for a request.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
}

const FILES: readonly (readonly [string, string])[] = [
  ['index.html', 'text/html; charset=utf-8'],
  ['app.js', 'text/javascript; charset=utf-8'],
  ['style.css', 'text/css; charset=utf-8'],
];

/** web/ from src/server (sources via tsx) or dist/src/server (compiled). */
const CANDIDATES = ['../../web/', '../../../web/'];

export type AssetHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Loads the console; returns a handler that answers `/`, `/index.html`, `/app.js`, `/style.css` (false otherwise). */
export function loadWebAssets(directory?: URL): AssetHandler {
  const assets = new Map<string, Asset>();
  const dirs = directory === undefined ? CANDIDATES.map((c) => new URL(c, import.meta.url)) : [directory];
  for (const dir of dirs) {
    try {
      for (const [name, contentType] of FILES)
        assets.set(`/${name}`, { body: readFileSync(new URL(name, dir)), contentType });
      break;
    } catch {
      assets.clear();
    }
  }
  const index = assets.get('/index.html');
  if (index !== undefined) assets.set('/', index);
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = (req.url ?? '/').split('?')[0]!;
    const asset = assets.get(path);
    if (asset === undefined) return false;
    res.writeHead(200, {
      'content-type': asset.contentType,
      'content-length': asset.body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
    return true;
  };
}
