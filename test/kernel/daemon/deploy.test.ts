// The DaemonSet's init containers, run for real: their commands, read from deploy/daemonset.yaml, run
// in order in a test namespace as the kubelet would (stopping at the first that fails), with
// `nfqguard` on PATH being this checkout, the ConfigMap's config being deploy/nfqguard.yaml, and only
// the capabilities the manifest grants each container (NET_ADMIN).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { kernelTest } from '../../helpers/kernel.js';
import { BIN, DaemonProc, mangleSave, ROOT } from '../../helpers/daemon.js';
import type { Netns } from '../../../src/lab/netns.js';

const CONFIG = join(ROOT, 'deploy', 'nfqguard.yaml');
const pod = parse(readFileSync(join(ROOT, 'deploy', 'daemonset.yaml'), 'utf8')).spec.template.spec;
const mount: string = pod.containers[0].volumeMounts.find((m: { name: string }) => m.name === 'config').mountPath;
interface ContainerSpec {
  name: string;
  command: string[];
  securityContext: { capabilities: { drop: string[]; add: string[] } };
}
const inits: ContainerSpec[] = pod.initContainers;
const main: ContainerSpec = pod.containers[0];

/**
 * setpriv with a container's capabilities (drop ALL, add the listed ones), for a root process as the
 * container runtime would start it: the commands run with exactly what the manifest grants.
 */
function withCaps(c: ContainerSpec): string[] {
  const caps = c.securityContext.capabilities;
  assert.deepEqual(caps.drop, ['ALL']);
  const set = ['-all', ...caps.add.map((n) => `+${n.toLowerCase()}`)].join(',');
  return ['setpriv', `--inh-caps=${set}`, `--ambient-caps=${set}`, `--bounding-set=${set}`];
}

interface Step {
  name: string;
  code: number | null;
  output: string;
}

/** Runs the init containers' commands in order in `ns`; stops at the first non-zero exit. */
async function runInitContainers(ns: Netns, shim: string): Promise<Step[]> {
  const steps: Step[] = [];
  for (const c of inits) {
    const cmd = c.command.map((a) => (a === `${mount}/config.yaml` ? CONFIG : a));
    const [wrap, ...wrapArgs] = withCaps(c);
    const r = await ns.exec(wrap, [...wrapArgs, 'env', `PATH=${shim}:${process.env.PATH ?? ''}`, ...cmd], { timeoutMs: 20_000 });
    steps.push({ name: c.name, code: r.code, output: r.stdout + r.stderr });
    if (r.code !== 0) break;
  }
  return steps;
}

kernelTest("the pod's init containers on a real ruleset: a hard-killed pod's stale rules are removed and the daemon starts; a node rule on an owned bit stops the pod (exit 1)", 'dinit', async (ns) => {
  const shim = mkdtempSync(join(tmpdir(), 'nfqg-shim-'));
  writeFileSync(join(shim, 'nfqguard'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`);
  chmodSync(shim, 0o755);
  chmodSync(join(shim, 'nfqguard'), 0o755);
  try {
    const codes = (steps: Step[]): Array<[string, number | null]> => steps.map((s) => [s.name, s.code]);
    // The wrapper really leaves NET_ADMIN (bit 12) alone in the effective set.
    const [w, ...wa] = withCaps(main);
    assert.match(await ns.execOk(w, [...wa, 'grep', 'CapEff', '/proc/self/status']), /CapEff:\s+0000000000001000\b/);
    // A clean node.
    assert.deepEqual(codes(await runInitContainers(ns, shim)), [['stale-rules', 0], ['mask-check', 0]]);

    // What a SIGKILLed daemon leaves behind: its own rules (test/kernel/daemon/run.test.ts shows it does).
    await ns.execOk(process.execPath, [BIN, 'rules', 'install', '--config', CONFIG]);
    assert.match(await mangleSave(ns), /NFQG-default/);
    const check = inits.find((c) => c.name === 'mask-check') as ContainerSpec;
    const [wrap, ...wrapArgs] = withCaps(check);
    const alone = await ns.exec(wrap, [...wrapArgs, 'env', `PATH=${shim}:${process.env.PATH ?? ''}`, ...check.command]);
    // The doctor reports the leftover queue rules (a queue without a consumer), but with --fail-on mask
    // only conflicts with the owned bits stop the pod, and nfqguard's own tagged rules are not such.
    assert.match(alone.stdout, /NFQUEUE consumer/, 'the stale rules are in the report');
    assert.equal(alone.code, 0, `stale nfqguard rules alone do not stop the pod: ${alone.stdout}`);
    const steps = await runInitContainers(ns, shim);
    assert.deepEqual(codes(steps), [['stale-rules', 0], ['mask-check', 0]], JSON.stringify(steps));
    assert.match(steps[0].output, /removed:/);
    assert.doesNotMatch(await mangleSave(ns), /NFQG|nfqguard/);
    // ... and the main container starts, with only the capabilities the manifest gives it, and stops clean.
    assert.deepEqual(main.command.slice(0, 2), ['nfqguard', 'run']);
    const d = await DaemonProc.start(ns, CONFIG, [], 8000, {}, withCaps(main));
    assert.equal((await d.kill('SIGTERM')).code, 0, d.stderr);
    assert.doesNotMatch(await mangleSave(ns), /NFQG|nfqguard/, 'SIGTERM removed the rules, with NET_ADMIN alone');

    // A node rule that sets an owned bit (0x00100000 of mask 0x00f00000): the pod does not start.
    await ns.iptablesRestore('*mangle\n-A PREROUTING -p tcp --dport 22 -j MARK --set-xmark 0x00100000/0x00100000\nCOMMIT\n');
    const refused = await runInitContainers(ns, shim);
    assert.deepEqual(codes(refused), [['stale-rules', 0], ['mask-check', 1]]);
    assert.match(refused[1].output, /0x00100000/);
  } finally {
    rmSync(shim, { recursive: true, force: true });
  }
}, { timeout: 60_000 });
