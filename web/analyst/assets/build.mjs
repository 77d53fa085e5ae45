// Bundles the analyst pages' scripts and styles into web/analyst/static/dist/ (run by
// `make assets` through `npm run build`). bpmnlint's configuration is compiled to a module
// first, so that its rules run in the browser.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const compileConfig = require('bpmnlint/lib/support/compile-config');

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const out = path.join(here, '../static/dist');
const generated = path.join(root, 'node_modules/.cache/tokenflow');

const lintConfig = JSON.parse(await readFile(path.join(here, '.bpmnlintrc'), 'utf8'));
await mkdir(generated, { recursive: true });
await writeFile(path.join(generated, 'bpmnlint-config.js'), await compileConfig(lintConfig));

await rm(out, { recursive: true, force: true });
await build({
  entryPoints: {
    viewer: path.join(here, 'viewer.js'),
    modeler: path.join(here, 'modeler.js'),
    bpmn: path.join(here, 'bpmn.css'),
    dmn: path.join(here, 'dmn.js'),
    'dmn-css': path.join(here, 'dmn.css'),
  },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  legalComments: 'linked',
  alias: { 'bpmnlint-config': path.join(generated, 'bpmnlint-config.js') },
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
  assetNames: 'assets/[name]-[hash]',
  logLevel: 'warning',
});
await writeFile(path.join(out, '.built'), `${new Date().toISOString()}\n`);
