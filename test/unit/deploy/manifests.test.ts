// The Kubernetes manifests, checked against the Kubernetes OpenAPI schemas (kubernetes-models; no
// cluster needed) and against the rules of issue 6: hostNetwork, only NET_ADMIN, read-only root
// filesystem, resource requests, a preStop that uninstalls, an init container checking the mask.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { parseConfig } from '../../../src/daemon/config.js';
import { ROOT } from '../../helpers/daemon.js';
import { model, unknownFields } from '../../helpers/k8s-fields.js';

const read = (f: string): string => readFileSync(join(ROOT, 'deploy', f), 'utf8');
const ds = parse(read('daemonset.yaml'));
const cm = parse(read('configmap.yaml'));

test('DaemonSet and ConfigMap validate against the Kubernetes schemas', () => {
  new DaemonSet(ds).validate();
  new ConfigMap(cm).validate();
  // The validator is not a rubber stamp: a wrong type is refused.
  const broken = structuredClone(ds);
  broken.spec.template.spec.containers[0].securityContext.capabilities.add = [12];
  assert.throws(() => new DaemonSet(broken).validate(), /must be string/);
});

test('no field the Kubernetes API does not know (the schemas let a misspelt field through; the API server drops it)', () => {
  assert.deepEqual(unknownFields(ds, model('apps/v1/DaemonSet')), []);
  assert.deepEqual(unknownFields(cm, model('v1/ConfigMap')), []);
  // The check reaches every level, lists as well as objects.
  const typos = structuredClone(ds);
  typos.spec.template.spec.hostNetwok = true;
  typos.spec.template.spec.containers[0].securityContext.readOnlyRootFilesytem = true;
  typos.spec.template.spec.initContainers[1].volumeMounts[0].readonly = true;
  typos.spec.template.spec.containers[0].readinessProbe.httpGet.paht = '/readyz';
  new DaemonSet(typos).validate(); // what the schemas alone say
  assert.deepEqual(unknownFields(typos, model('apps/v1/DaemonSet')), [
    'spec.template.spec.initContainers.1.volumeMounts.0.readonly',
    'spec.template.spec.containers.0.securityContext.readOnlyRootFilesytem',
    'spec.template.spec.containers.0.readinessProbe.httpGet.paht',
    'spec.template.spec.hostNetwok',
  ]);
});

test('every container: only NET_ADMIN, read-only root filesystem, no privilege escalation, requests set', () => {
  const pod = ds.spec.template.spec;
  assert.equal(pod.hostNetwork, true);
  for (const c of [...pod.initContainers, ...pod.containers]) {
    assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'], add: ['NET_ADMIN'] }, c.name);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true, c.name);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false, c.name);
    assert.equal(c.securityContext.privileged, undefined, c.name);
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory, c.name);
  }
});

test('the daemon runs the ConfigMap config, uninstalls in preStop, and probes loopback health', () => {
  const c = ds.spec.template.spec.containers[0];
  const mount = c.volumeMounts.find((m: { name: string }) => m.name === 'config').mountPath;
  assert.deepEqual(c.command, ['nfqguard', 'run', '--config', `${mount}/config.yaml`]);
  assert.deepEqual(c.lifecycle.preStop.exec.command, ['nfqguard', 'rules', 'uninstall', '--config', `${mount}/config.yaml`]);
  const cfg = parseConfig(cm.data['config.yaml']);
  const [host, port] = cfg.metrics.listen.split(':');
  assert.equal(c.readinessProbe.httpGet.host, host);
  assert.equal(c.readinessProbe.httpGet.port, Number(port));
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
});

test('the ConfigMap holds deploy/nfqguard.yaml; init containers remove stale rules of that config, then check its mask', () => {
  assert.equal(cm.data['config.yaml'], read('nfqguard.yaml'));
  const cfg = parseConfig(cm.data['config.yaml']);
  const pod = ds.spec.template.spec;
  const mount = pod.containers[0].volumeMounts.find((m: { name: string }) => m.name === 'config').mountPath;
  // In this order: a hard-killed pod's own rules would otherwise be taken by the doctor for a foreign
  // NFQUEUE consumer (test/kernel/daemon/deploy.test.ts runs these commands on a real ruleset).
  assert.deepEqual(
    pod.initContainers.map((c: { name: string }) => c.name),
    ['stale-rules', 'mask-check'],
  );
  const [stale, check] = pod.initContainers;
  assert.deepEqual(stale.command, ['nfqguard', 'rules', 'uninstall', '--config', `${mount}/config.yaml`]);
  assert.ok(stale.volumeMounts.some((m: { name: string; mountPath: string }) => m.name === 'config' && m.mountPath === mount));
  const args: string[] = check.command;
  assert.deepEqual(args.slice(0, 3), ['nfqguard', 'doctor', '--live']);
  const mask = Number(args[args.indexOf('--mask') + 1]);
  assert.equal(mask, cfg.mark.mask);
  assert.equal(Number(args[args.indexOf('--ctmask') + 1]), cfg.mark.bypass_ctmark, '--ctmask is the flow-bypass ctmark bit');
  assert.equal(args[args.indexOf('--fail-on') + 1], 'mask', 'only conflicts with our bits stop the pod');
});
