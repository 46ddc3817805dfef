// The contract of an iptables extension module (one file per match or target, as libxt_*.c are):
// the options it takes, parse (options -> data), save (data -> iptables-save text) and exprs (data ->
// the model's normalised semantics). `data` is what Rule.syntax keeps; exprs is what analysis reads.
import type { Action, Match } from '../model.js';
import type { Problems, ProblemCode } from '../problems.js';

/** One `[!] --name [args...]` occurrence, as the rule parser collected it for a module. */
export interface ExtOption {
  /** Canonical option name without the leading dashes (aliases and unambiguous prefixes resolved). */
  name: string;
  invert: boolean;
  args: string[];
  /** 1-based columns of the option token and of each argument. */
  col: number;
  argCols: number[];
  /** Arguments exactly as written (quotes included); filled only for extensions marked `verbatim`. */
  argRaw?: string[];
}

export interface ExtContext {
  family: 'ip' | 'ip6';
  /** The rule's -p protocol number when given and not inverted. */
  proto?: number;
  line: number;
  problems: Problems;
}

export interface Extension<D = unknown> {
  kind: 'match' | 'target';
  /** The name after -m / -j, as iptables-save prints it. */
  name: string;
  /** Option name -> number of arguments it takes. */
  options: Record<string, number>;
  /** Other spellings of options -> canonical name (e.g. 'source-port' -> 'sport'). */
  optionAliases?: Record<string, string>;
  /** Save prints the options as written (see verbatim.ts): the parser then keeps each argument's raw text. */
  verbatim?: boolean;
  /** Families the module exists for (default both). */
  families?: Array<'ip' | 'ip6'>;
  /** Parses the collected options; reports problems and returns undefined when the module is unusable. */
  parse(opts: ExtOption[], ctx: ExtContext): D | undefined;
  /** The module's options as iptables-save prints them, each preceded by a space (`-m NAME` not included). */
  save(data: D, family: 'ip' | 'ip6'): string;
  /** The normalised semantics (matches for a match module, actions for a target). */
  exprs(data: D, family: 'ip' | 'ip6'): Match[] | Action[];
}

/** Resolves an option as getopt_long would: exact name, alias, or an unambiguous prefix. */
export function resolveOption(ext: Extension, name: string): string | undefined {
  // Answers are kept per extension: a small map is cheaper than a property lookup by a fresh string,
  // which probes V8's string table, and the prefix search allocates.
  let cache = RESOLVED.get(ext);
  if (cache === undefined) RESOLVED.set(ext, (cache = new Map()));
  const hit = cache.get(name);
  if (hit !== undefined) return hit === null ? undefined : hit;
  const r = resolveUncached(ext, name);
  if (cache.size < 1000) cache.set(name, r ?? null);
  return r;
}

const RESOLVED = new Map<Extension, Map<string, string | null>>();

function resolveUncached(ext: Extension, name: string): string | undefined {
  // Own properties only: the option tables are object literals, and `--constructor` or `--toString` must
  // stay unknown options instead of resolving to Object.prototype's members.
  if (Object.hasOwn(ext.options, name)) return name;
  const aliases = ext.optionAliases;
  if (aliases !== undefined && Object.hasOwn(aliases, name)) return aliases[name];
  let found: string | undefined;
  for (const o of Object.keys(ext.options).concat(Object.keys(aliases ?? {}))) {
    if (o.startsWith(name)) {
      const canon = Object.hasOwn(ext.options, o) ? o : aliases![o];
      if (found !== undefined && found !== canon) return undefined;
      found = canon;
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------
// Helpers for extension parsers.

export function bad(ctx: ExtContext, o: ExtOption, code: ProblemCode, message: string, arg = 0): undefined {
  const col = o.argCols[arg] ?? o.col;
  ctx.problems.error(code, message, ctx.line, col, o.args[arg] ?? `--${o.name}`);
  return undefined;
}

/** Reports options given more than once (the module is then unusable, as iptables refuses it). */
export function noDuplicates(opts: ExtOption[], ctx: ExtContext, allowed: string[] = []): boolean {
  let ok = true;
  // Modules take a handful of options: a quadratic scan beats building a Set for every rule.
  for (let i = 1; i < opts.length; i++) {
    const name = opts[i].name;
    for (let j = 0; j < i; j++) {
      if (opts[j].name === name && !allowed.includes(name)) {
        ctx.problems.error('DUPLICATE_OPTION', `--${name} given twice`, ctx.line, opts[i].col, `--${name}`);
        ok = false;
        break;
      }
    }
  }
  return ok;
}

/** Reports an inversion on an option that cannot be inverted. */
export function noInvert(o: ExtOption, ctx: ExtContext): boolean {
  if (!o.invert) return true;
  ctx.problems.error('MISPLACED_INVERT', `--${o.name} cannot be inverted with !`, ctx.line, o.col, `--${o.name}`);
  return false;
}

export const inv = (invert: boolean): string => (invert ? ' !' : '');
