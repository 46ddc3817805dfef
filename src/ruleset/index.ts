// The ruleset package: one typed model (model.ts) and its parsers and serializer. Pure: no I/O here;
// the live readers (live.ts) sit at the edge and hand text in.
export * from './model.js';
export * from './priorities.js';
export { PROBLEM_CODES, formatProblem, type ProblemCode } from './problems.js';
export { parseIptablesSave, type IptablesParseOptions } from './iptables/parser.js';
export { serializeIptablesSave, ruleLine, type SerializeOptions } from './iptables/serializer.js';
export { dropFakeBuiltins, mergeRulesets } from './merge.js';
export { parseNftJson, type NftParseOptions, type NftRuleSyntax } from './nft/parser.js';
export { parseIpRules, type IpRuleParseOptions } from './iprule.js';
// Live readers (I/O) are imported from './live.js' directly, so pure users never pull in child processes.
