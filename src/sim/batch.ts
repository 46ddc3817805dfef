// The packet lines of a --packets file, one spec per line, '#' comments and blank lines skipped, read in
// place: a plain line (ASCII, no '#' or CR) goes to the fast path of the spec parser without being cut
// out of the file; any other line is cut out, its comment removed (from '#' on) and trimmed, then parsed.
import { PacketSpecError, fastPacketSpecAt, isBlank, parsePacketSpec, type PacketSpec } from './packet.js';

/**
 * Calls `each` for every line that holds a spec, with its 1-based number and the packet, or the error
 * when it does not parse (its column counts in the line as trimmed). `each` returns true to stop.
 */
export function forEachPacketLine(text: string, each: (line: number, packet: PacketSpec | undefined, error: PacketSpecError | undefined) => boolean): void {
  for (let i = 1, start = 0; start <= text.length; i++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let from = start;
    let to = end;
    start = end + 1;
    let plain = true;
    for (let k = from; k < to; k++) {
      const c = text.charCodeAt(k);
      if (c === 35 || c === 13 || c > 126) {
        plain = false;
        break;
      }
    }
    let line: string | undefined;
    if (plain) {
      while (from < to && isBlank(text.charCodeAt(from))) from++;
      while (to > from && isBlank(text.charCodeAt(to - 1))) to--;
      if (from === to) continue;
    } else {
      // From '#' to the end of the line, CR included (/#.*$/ does not match across a CR: "# c\r\n").
      const hash = text.indexOf('#', from);
      line = text.slice(from, hash >= 0 && hash < to ? hash : to).trim();
      if (line === '') continue;
    }
    let packet = line === undefined ? fastPacketSpecAt(text, from, to) : undefined;
    if (!packet) {
      try {
        packet = parsePacketSpec(line ?? text.slice(from, to));
      } catch (e) {
        if (!(e instanceof PacketSpecError)) throw e;
        if (each(i, undefined, e)) return;
        continue;
      }
    }
    if (each(i, packet, undefined)) return;
  }
}
