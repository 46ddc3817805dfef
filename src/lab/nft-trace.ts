// Parser for the text of `nft monitor trace` (Debian's nft 1.0.6 prints trace events as text even
// with -j). Pure: text in, events out. Lines look like:
//   trace id 023c421d ip mangle PREROUTING packet: iif "lo" ... ip saddr 127.0.0.2 ... tcp dport 80 ...
//   trace id 023c421d ip mangle INPUT rule tcp dport 80 counter packets 0 bytes 0 queue num 80 bypass (verdict queue)
//   trace id 023c421d ip nfqguard_lab before policy accept meta mark 0x00008000
// The kernel puts the mark in policy (and return) events only when it is not zero.

export type TraceKind = 'packet' | 'rule' | 'policy' | 'return' | 'other';

export interface TraceEvent {
  id: string;
  family: string;
  table: string;
  chain: string;
  kind: TraceKind;
  /** The rest of the line after the kind word (the rule text for rules). */
  text: string;
  /** For rules: the verdict in parentheses; for policy lines: the policy. */
  verdict?: string;
  /** The packet mark the event reports (policy/return events; 0 when the kernel left it out). */
  mark?: number;
  /** For packet events: header fields such as "ip saddr", "tcp dport", "iif". */
  fields?: Record<string, string>;
}

const LINE = /^trace id ([0-9a-f]+) (\S+) (\S+) (\S+) (packet:|rule|policy|return|verdict|unknown)\s?(.*)$/;
const FIELD_KEYS = ['iif', 'oif', 'ip saddr', 'ip daddr', 'ip6 saddr', 'ip6 daddr', 'ip protocol', 'tcp sport', 'tcp dport', 'udp sport', 'udp dport', 'tcp flags ==', 'meta mark'];

function packetFields(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const key of FIELD_KEYS) {
    const at = text.indexOf(key + ' ');
    if (at < 0) continue;
    const rest = text.slice(at + key.length + 1);
    const m = /^("[^"]*"|\S+)/.exec(rest);
    if (m) out[key.replace(' ==', '')] = m[1].replace(/^"|"$/g, '');
  }
  return out;
}

export function parseTraceLine(line: string): TraceEvent | null {
  const m = LINE.exec(line.trim());
  if (!m) return null;
  const [, id, family, table, chain, kindWord, rest] = m;
  const ev: TraceEvent = { id, family, table, chain, kind: 'other', text: rest.trim() };
  const mark = /meta mark (0x[0-9a-f]+)\s*$/.exec(rest);
  switch (kindWord) {
    case 'packet:':
      ev.kind = 'packet';
      ev.fields = packetFields(rest);
      break;
    case 'rule': {
      ev.kind = 'rule';
      const v = /\(verdict ([^)]*)\)\s*$/.exec(rest);
      if (v) {
        ev.verdict = v[1];
        ev.text = rest.slice(0, v.index).trim();
      }
      break;
    }
    case 'policy':
      ev.kind = 'policy';
      ev.verdict = rest.trim().split(/\s+/)[0];
      ev.mark = mark ? parseInt(mark[1], 16) >>> 0 : 0;
      break;
    case 'return':
      ev.kind = 'return';
      ev.mark = mark ? parseInt(mark[1], 16) >>> 0 : 0;
      break;
    default:
      ev.kind = 'other';
  }
  return ev;
}

/** One packet's journey: its events in order, from the chain that starts the trace. */
export interface TracedPacket {
  id: string;
  events: TraceEvent[];
  /** Header fields of its first packet event. */
  fields: Record<string, string>;
}

/**
 * Splits trace text into packets. Trace ids are reused by the kernel for later packets, so a packet
 * starts at a `packet:` event in the start chain (the chain that sets nftrace) and runs until the next
 * start with the same id.
 */
export function groupTrace(text: string, startTable: string, startChain: string): TracedPacket[] {
  const out: TracedPacket[] = [];
  const open = new Map<string, TracedPacket>();
  for (const line of text.split('\n')) {
    const ev = parseTraceLine(line);
    if (!ev) continue;
    if (ev.kind === 'packet' && ev.table === startTable && ev.chain === startChain) {
      const p: TracedPacket = { id: ev.id, events: [ev], fields: ev.fields ?? {} };
      open.set(ev.id, p);
      out.push(p);
      continue;
    }
    open.get(ev.id)?.events.push(ev);
  }
  return out;
}

/** The mark a packet carried when it left `table chain` by its policy (undefined: never got there). */
export function markAtPolicy(p: TracedPacket, table: string, chain: string): number | undefined {
  for (const ev of p.events) if (ev.kind === 'policy' && ev.table === table && ev.chain === chain) return ev.mark;
  return undefined;
}

/** The rule that dropped (or rejected) the packet, as "table chain: rule", if one did. */
export function droppedBy(p: TracedPacket): string | undefined {
  for (const ev of p.events) {
    // The trace prints the rule with its counter as it was before this packet ("counter packets 0 bytes 0"): noise here.
    if (ev.kind === 'rule' && (ev.verdict === 'drop' || ev.text.includes(' reject'))) {
      return `${ev.family} ${ev.table} ${ev.chain}: ${ev.text.replace(/ counter packets \d+ bytes \d+/, '')}`;
    }
    if (ev.kind === 'policy' && ev.verdict === 'drop') return `${ev.family} ${ev.table} ${ev.chain}: policy drop`;
  }
  return undefined;
}
