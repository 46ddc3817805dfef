// Applying steering rules to the live node: picks the backend the node already uses, checks that the
// kernel can run it, and installs, removes or compares nfqguard's rules (plan.ts renders them).
import { run, type RunResult } from '../lab/exec.js';
import { which } from '../util/tools.js';
import { toolFailure, toolHint } from '../ruleset/live.js';
import { IPTABLES_CHAIN_HOOK } from '../ruleset/priorities.js';
import {
  iptablesDrift,
  iptablesInstallScript,
  iptablesUninstallScript,
  ownChains,
  nftDrift,
  nftInstallScript,
  nftTableName,
  nftUninstallScript,
  readIptablesSave,
  readNftJson,
  type Drift,
  type Family,
  type InstallSpec,
  type IptState,
} from './plan.js';

export type BackendName = 'iptables' | 'iptables-legacy' | 'nft';
export type BackendChoice = BackendName | 'auto';

export interface BackendDecision {
  backend: BackendName;
  /** Why this backend, and any fallback, in sentences for the user. */
  notes: string[];
}

export class InstallError extends Error {
  readonly code = 'ERR_INSTALL';
  constructor(message: string) {
    super(message);
    this.name = 'InstallError';
  }
}

type Runner = (cmd: string, args: string[], input?: string) => Promise<RunResult>;

const defaultRunner: Runner = (cmd, args, input) => run(cmd, args, { input, timeoutMs: 10_000 });

function tools(backend: BackendName, family: Family): { save: string; restore: string } {
  const base = family === 4 ? 'iptables' : 'ip6tables';
  const suffix = backend === 'iptables-legacy' ? '-legacy' : '';
  return { save: `${base}${suffix}-save`, restore: `${base}${suffix}-restore` };
}

function countRules(save: string): number {
  return save.split('\n').filter((l) => l.startsWith('-A ')).length;
}

export class Installer {
  constructor(private readonly runner: Runner = defaultRunner) {}

  /**
   * Whether legacy (x_tables) tables exist in this network namespace. Asked through /proc so that
   * merely looking does not make the kernel instantiate empty legacy tables (iptables-legacy-save would).
   */
  async legacyTablesPresent(family: Family): Promise<boolean> {
    const r = await this.runner('cat', [family === 4 ? '/proc/net/ip_tables_names' : '/proc/net/ip6_tables_names']);
    return r.code === 0 && r.stdout.trim().length > 0;
  }

  /** Whether this kernel runs the nft `queue` statement (CONFIG_NFT_QUEUE): checked with `nft -c`, which changes nothing. */
  async nftQueueSupported(): Promise<{ ok: boolean; why: string }> {
    if (!(await which('nft'))) return { ok: false, why: 'nft is not installed' };
    const probe = [
      `add table inet nfqguard_probe_${process.pid}`,
      `add chain inet nfqguard_probe_${process.pid} c { type filter hook input priority 0; policy accept; }`,
      `add rule inet nfqguard_probe_${process.pid} c queue flags bypass to 65535`,
      '',
    ].join('\n');
    const r = await this.runner('nft', ['-c', '-f', '-'], probe);
    if (r.code === 0) return { ok: true, why: 'the kernel accepts nft queue rules' };
    const err = r.stderr.trim().split('\n')[0] ?? '';
    return { ok: false, why: /No such file or directory/.test(r.stderr) ? 'the kernel has no nft queue expression (built without CONFIG_NFT_QUEUE)' : `nft refused a queue rule: ${err}` };
  }

  /** The backend the node already uses (auto), or the one asked for, with a fallback when the kernel cannot run it. */
  async chooseBackend(choice: BackendChoice): Promise<BackendDecision> {
    const notes: string[] = [];
    let backend: BackendName;
    if (choice !== 'auto') {
      backend = choice;
      notes.push(`backend ${choice} chosen in the config`);
    } else {
      let legacy = 0;
      if ((await which('iptables-legacy-save')) && (await this.legacyTablesPresent(4))) {
        // Legacy tables exist: an unreadable listing is not an empty one (it would put our rules in the wrong backend).
        const r = await this.runner('iptables-legacy-save', []);
        if (r.code !== 0) {
          throw new InstallError(`this node has iptables-legacy tables but iptables-legacy-save cannot read them: ${toolFailure('iptables-legacy-save', r.stderr)}`);
        }
        legacy = countRules(r.stdout);
      }
      const viaNft = (await which('iptables-nft-save')) ? countRules((await this.runner('iptables-nft-save', [])).stdout) : 0;
      const tables = (await which('nft')) ? (await this.runner('nft', ['list', 'tables'])).stdout : '';
      const kubeNft = /\bkube-proxy\b/.test(tables);
      if (legacy > 0 && viaNft === 0) {
        backend = 'iptables-legacy';
        notes.push(`the node's rules are in iptables-legacy (${legacy} rules, none in iptables-nft): using iptables-legacy`);
      } else if (kubeNft && legacy === 0 && viaNft === 0) {
        backend = 'nft';
        notes.push('kube-proxy runs in nftables mode and no iptables rules exist: using nft');
      } else {
        backend = 'iptables';
        const ver = (await which('iptables')) ? (await this.runner('iptables', ['--version'])).stdout.trim() : 'iptables missing';
        notes.push(`using iptables (${ver}${viaNft > 0 ? `, ${viaNft} rules already there` : ''})`);
      }
    }
    if (backend === 'nft') {
      const q = await this.nftQueueSupported();
      if (!q.ok) {
        backend = 'iptables';
        notes.push(`falling back to the iptables NFQUEUE target: ${q.why}`);
      }
    }
    for (const t of backend === 'nft' ? ['nft'] : [tools(backend, 4).save, tools(backend, 4).restore]) {
      if (!(await which(t))) throw new InstallError(`${t} is not installed: it is needed for the ${backend} backend (apt-get install ${backend === 'nft' ? 'nftables' : 'iptables'})`);
    }
    return { backend, notes };
  }

  private families(spec: InstallSpec): Family[] {
    return [...new Set(spec.rules.map((r) => r.family))].sort();
  }

  private async save(backend: BackendName, family: Family): Promise<string> {
    const r = await this.runner(tools(backend, family).save, ['-t', 'mangle']);
    if (r.code !== 0) throw new InstallError(`${tools(backend, family).save} failed: ${toolFailure(tools(backend, family).save, r.stderr)}`);
    return r.stdout;
  }

  private async restore(backend: BackendName, family: Family, script: string): Promise<void> {
    const t = tools(backend, family).restore;
    const r = await this.runner(t, ['--noflush'], script);
    if (r.code !== 0) {
      const err = r.stderr.trim();
      const hint = /NFQUEUE|No chain\/target\/match/.test(err) ? ' (the kernel lacks the NFQUEUE target: load xt_NFQUEUE / nfnetlink_queue)' : toolHint(t, err);
      throw new InstallError(`${t} refused nfqguard's rules${hint}: ${err}`);
    }
  }

  /** Installs (or replaces) the rules; returns false when they were already exactly in place. */
  async install(spec: InstallSpec, backend: BackendName): Promise<boolean> {
    const s = await this.status(spec, backend);
    if (s.missing.length === 0 && s.unexpected.length === 0) return false;
    if (backend === 'nft') {
      const r = await this.runner('nft', ['-f', '-'], nftInstallScript(spec));
      if (r.code !== 0) throw new InstallError(`nft refused nfqguard's table: ${r.stderr.trim()}`);
      return true;
    }
    for (const f of this.families(spec)) {
      const state = readIptablesSave(await this.save(backend, f), spec.name);
      await this.restore(backend, f, iptablesInstallScript(spec, f, state));
    }
    // Rules of a family the config no longer uses.
    for (const f of [4, 6] as Family[]) {
      if (this.families(spec).includes(f)) continue;
      if (!(await which(tools(backend, f).save))) continue;
      const state = readIptablesSave(await this.save(backend, f), spec.name);
      const script = iptablesUninstallScript(state, spec.name);
      if (script) await this.restore(backend, f, script);
    }
    return true;
  }

  /**
   * Removes every rule and chain tagged with instance `name` from every backend; returns what was removed.
   * A backend whose tables exist but cannot be listed does not stop the others: it is reported once the
   * rest is removed (InstallError), since rules of ours may still be in it.
   */
  async uninstall(name: string): Promise<string[]> {
    const removed: string[] = [];
    const unreadable: string[] = [];
    for (const backend of ['iptables', 'iptables-legacy'] as BackendName[]) {
      for (const f of [4, 6] as Family[]) {
        if (!(await which(tools(backend, f).save))) continue;
        if (backend === 'iptables-legacy' && !(await this.legacyTablesPresent(f))) continue;
        const saved = await this.runner(tools(backend, f).save, ['-t', 'mangle']);
        if (saved.code !== 0) {
          // iptables-nft on a kernel without nf_tables has nothing of ours; legacy tables that exist might.
          if (backend === 'iptables-legacy') unreadable.push(`${tools(backend, f).save}: ${toolFailure(tools(backend, f).save, saved.stderr)}`);
          continue;
        }
        const state = readIptablesSave(saved.stdout, name);
        const script = iptablesUninstallScript(state, name);
        if (!script) continue;
        await this.restore(backend, f, script);
        removed.push(...state.lines.map((l) => `${backend} ipv${f}: ${l.text}`), ...state.chains.map((c) => `${backend} ipv${f}: chain ${c}`));
        if (backend === 'iptables') removed.push(...(await this.dropEmptyBuiltins(f, state, name)).map((c) => `${backend} ipv${f}: empty built-in chain ${c}`));
      }
    }
    if (await which('nft')) {
      const t = nftTableName(name);
      const has = await this.runner('nft', ['list', 'table', 'inet', t]);
      if (has.code === 0) {
        const r = await this.runner('nft', ['-f', '-'], nftUninstallScript(name));
        if (r.code !== 0) throw new InstallError(`nft could not delete table inet ${t}: ${r.stderr.trim()}`);
        removed.push(`nft: table inet ${t}`);
      }
    }
    if (unreadable.length > 0) {
      const done = removed.length > 0 ? `removed ${removed.length} rule(s) and chain(s), but ` : '';
      throw new InstallError(`${done}could not check the iptables-legacy tables for rules of instance ${name}: ${unreadable.join('; ')}`);
    }
    return removed;
  }

  /**
   * iptables-nft makes a built-in chain only when a rule first goes into it, so on a node where nothing
   * else used mangle INPUT our jump created it, and it would stay behind empty. Each built-in chain our
   * jumps were in is deleted if it is now empty with policy ACCEPT: the kernel refuses (EBUSY) a chain
   * with rules and iptables-nft one with policy DROP, so a chain someone else uses, even since our
   * listing, stays. (Legacy built-in chains always exist: not for that backend.)
   */
  private async dropEmptyBuiltins(f: Family, state: IptState, name: string): Promise<string[]> {
    const own = ownChains(name);
    const out: string[] = [];
    for (const chain of new Set(state.lines.map((l) => l.chain).filter((c) => !own.has(c) && IPTABLES_CHAIN_HOOK[c] !== undefined))) {
      const r = await this.runner(tools('iptables', f).restore, ['--noflush'], `*mangle\n-X ${chain}\nCOMMIT\n`);
      if (r.code === 0) out.push(chain);
    }
    return out;
  }

  /** What differs between the config's rules and the node's. */
  async status(spec: InstallSpec, backend: BackendName): Promise<Drift> {
    if (backend === 'nft') {
      const r = await this.runner('nft', ['-j', 'list', 'table', 'inet', nftTableName(spec.name)]);
      return nftDrift(spec, r.code === 0 ? readNftJson(r.stdout) : null);
    }
    const drift: Drift = { missing: [], unexpected: [], shadowed: [] };
    for (const f of [4, 6] as Family[]) {
      if (!this.families(spec).includes(f) && !(await which(tools(backend, f).save))) continue;
      const d = iptablesDrift(spec, f, readIptablesSave(await this.save(backend, f), spec.name));
      drift.missing.push(...d.missing);
      drift.unexpected.push(...d.unexpected);
      drift.shadowed.push(...d.shadowed);
    }
    return drift;
  }
}
