#!/usr/bin/env node
// Runs the compiled tests with node's own test runner. `node scripts/run-tests.mjs [unit|kernel|...]`
// limits the run to test/<folder>/. Kernel tests skip themselves (with a reason) without root.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = 'dist/test';
const only = process.argv.slice(2);
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    // tsc leaves the output of deleted sources behind: run only tests whose .ts still exists.
    else if (name.endsWith('.test.js') && existsSync(p.replace(/^dist\//, '').replace(/\.js$/, '.ts'))) files.push(p);
  }
}
walk(root);
const selected = files.filter((f) => only.length === 0 || only.some((o) => f.startsWith(join(root, o))));
if (selected.length === 0) {
  console.error(`no test files under ${root}${only.length ? ` for ${only.join(', ')}` : ''}; run \`npm run build\` first`);
  process.exit(1);
}
selected.sort();
const concurrency = process.env.NFQGUARD_TEST_CONCURRENCY ?? '2';
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...selected], { stdio: 'inherit' });
process.exit(r.status ?? 1);
