// Capabilities of this process, from /proc/self/status (CapEff).
import { readFileSync } from 'node:fs';

export const CAP_NET_ADMIN = 12;
export const CAP_SYS_ADMIN = 21;

export function hasCapability(cap: number): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m !== null && (BigInt('0x' + m[1]) & (1n << BigInt(cap))) !== 0n;
  } catch {
    return process.getuid?.() === 0;
  }
}

/** Why kernel work cannot run here, or null when it can (root or CAP_NET_ADMIN + CAP_SYS_ADMIN). */
export function kernelUnavailableReason(): string | null {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  if (!hasCapability(CAP_NET_ADMIN)) return 'needs root (CAP_NET_ADMIN) for netfilter queues and network namespaces';
  if (!hasCapability(CAP_SYS_ADMIN)) return 'needs root (CAP_SYS_ADMIN) to create network namespaces';
  return null;
}
