// Extensions known by their options but kept as written: the option table gives each option's arity (so
// tokens go to the right module and typos are caught), parse checks that much, save prints the options in
// the order and spelling given (iptables-save's own output is already canonical, so dumps round-trip
// exactly; hand-written spellings are not canonicalised), and the semantics are `other` (undetermined
// matching, known terminality for targets).
import type { Action, Match } from '../model.js';
import { noDuplicates, type Extension, type ExtOption } from './ext.js';

export interface VerbatimData {
  opts: Array<{ name: string; invert: boolean; args: string[] }>;
}

export interface VerbatimSpec {
  options: Record<string, number>;
  optionAliases?: Record<string, string>;
  families?: Array<'ip' | 'ip6'>;
  /** Options that may be given more than once. */
  repeatable?: string[];
  /** For targets: whether the target ends the rule. */
  terminal?: boolean;
  /** Options of which one must be present. */
  requireOneOf?: string[];
}

function save(d: VerbatimData): string {
  let s = '';
  for (const o of d.opts) s += `${o.invert ? ' !' : ''} --${o.name}${o.args.length ? ' ' + o.args.join(' ') : ''}`;
  return s;
}

function collect(opts: ExtOption[]): VerbatimData {
  return { opts: opts.map((o) => ({ name: o.name, invert: o.invert, args: o.argRaw ?? o.args })) };
}

function verbatim(kind: 'match' | 'target', name: string, spec: VerbatimSpec): Omit<Extension<VerbatimData>, 'exprs'> {
  const flag = kind === 'match' ? '-m' : '-j';
  return {
    kind,
    name,
    options: spec.options,
    optionAliases: spec.optionAliases,
    families: spec.families,
    verbatim: true,
    parse(opts, ctx) {
      if (!noDuplicates(opts, ctx, spec.repeatable)) return undefined;
      if (spec.requireOneOf && !opts.some((o) => spec.requireOneOf!.includes(o.name))) {
        ctx.problems.error('MISSING_OPTION', `${flag} ${name} needs one of ${spec.requireOneOf.map((x) => '--' + x).join(', ')}`, ctx.line, opts[0]?.col ?? 1);
        return undefined;
      }
      return collect(opts);
    },
    save,
  };
}

export function verbatimMatch(name: string, spec: VerbatimSpec): Extension<VerbatimData> {
  return { ...verbatim('match', name, spec), exprs: (d): Match[] => [{ type: 'match', key: 'other', module: name, text: save(d).trim() }] };
}

export function verbatimTarget(name: string, spec: VerbatimSpec): Extension<VerbatimData> {
  return { ...verbatim('target', name, spec), exprs: (d): Action[] => [{ type: 'action', kind: 'other', name, text: `-j ${name}${save(d)}`, terminal: spec.terminal ?? false }] };
}
