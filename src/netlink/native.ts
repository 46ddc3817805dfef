// Loads the native addon (native/nfqguard_native.cc) and describes its functions. The addon returns
// -errno instead of throwing on the hot path; socket.ts turns that into typed errors.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetlinkError } from './errors.js';

export interface NativeWatcher {
  start(): number;
  stop(): void;
  ref(): void;
  unref(): void;
}

export interface NativeBinding {
  open(protocol: number, netnsPath?: string): number;
  bind(fd: number, groups: number): number;
  setIntOption(fd: number, level: number, name: number, value: number): number;
  getIntOption(fd: number, level: number, name: number): number;
  recvBatch(fd: number, buf: Uint8Array, slotSize: number, maxMsgs: number, meta: Int32Array): number;
  send(fd: number, buf: Uint8Array, offset: number, length: number): number;
  sendv(fd: number, bufs: Uint8Array[]): number;
  close(fd: number): number;
  Watcher: new (fd: number, callback: (status: number) => void) => NativeWatcher;
  maxBatch: number;
}

let cached: NativeBinding | undefined;

/** The project root: dist/src/netlink/native.js is three levels below it. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'binding.gyp'))) return dir;
    dir = dirname(dir);
  }
  return dir;
}

export function loadNative(): NativeBinding {
  if (cached) return cached;
  const file = join(projectRoot(), 'build', 'Release', 'nfqguard_native.node');
  try {
    cached = createRequire(import.meta.url)(file) as NativeBinding;
    return cached;
  } catch (cause) {
    throw new NetlinkError('ERR_NETLINK_NATIVE', 'load', `the native addon could not be loaded from ${file}; run \`npm run build\` (needs g++, make, python3)`, { cause });
  }
}
