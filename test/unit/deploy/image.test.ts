// The container image without building it (no Docker daemon here): the runtime stage of
// deploy/Dockerfile is laid out in a temporary directory from this checkout's built files, exactly as
// its COPY lines say, and the result must load the netlink addon and run the CLI. This caught a
// runtime stage without binding.gyp, where the addon was looked for in /build/Release/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { ROOT } from '../../helpers/daemon.js';

const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
/** Instructions with their continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const runtime = instructions.slice(instructions.findLastIndex((l) => l.startsWith('FROM ')));

test('the runtime stage copies a layout that loads the native addon and runs the CLI', () => {
  const workdir = runtime.find((l) => l.startsWith('WORKDIR '))?.split(/\s+/)[1];
  assert.equal(workdir, '/app');
  const copies = runtime.filter((l) => l.startsWith('COPY --from=build '));
  assert.ok(copies.length >= 4, runtime.join('\n'));
  const app = mkdtempSync(join(tmpdir(), 'nfqg-image-'));
  try {
    for (const line of copies) {
      const args = line.split(/\s+/).slice(2);
      const dest = args.pop() as string;
      for (const src of args) {
        assert.ok(src.startsWith('/app/'), `copied from the build stage's /app: ${src}`);
        const rel = src.slice('/app/'.length);
        // A destination ending in / (or ./) is a directory that receives the file under its own name.
        const to = join(app, dest.endsWith('/') ? posix.join(dest, posix.basename(rel)) : dest);
        mkdirSync(dirname(to), { recursive: true });
        if (rel === 'node_modules') symlinkSync(join(ROOT, rel), to);
        else cpSync(join(ROOT, rel), to, { recursive: true });
      }
    }
    const load = `import(${JSON.stringify(join(app, 'dist/src/netlink/native.js'))}).then((m) => { m.loadNative(); process.stdout.write('loaded'); })`;
    assert.equal(execFileSync(process.execPath, ['-e', load], { encoding: 'utf8' }), 'loaded');
    assert.match(execFileSync(process.execPath, [join(app, 'bin/nfqguard'), 'doctor', '--help'], { encoding: 'utf8' }), /--live/);
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});

test('the runtime image has the tools the live reads run: iptables(-save), nft, ip rule', () => {
  const apt = runtime.find((l) => l.includes('apt-get install')) ?? '';
  for (const pkg of ['iptables', 'nftables', 'iproute2']) assert.match(apt, new RegExp(`\\s${pkg}(\\s|$)`), `${pkg} in: ${apt}`);
});
