#!/usr/bin/env node
// Entry point of the `omadm` command. In a source checkout (src/ present, tsx installed) it runs the TypeScript
// sources directly, so `npm install && npm start` needs no build step; an installed package runs the compiled dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const sourceMain = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
let main;
if (existsSync(sourceMain)) {
  const { tsImport } = await import('tsx/esm/api');
  main = await tsImport(sourceMain, import.meta.url);
} else {
  main = await import('../dist/src/cli/main.js');
}
process.exitCode = await main.main(process.argv.slice(2));
