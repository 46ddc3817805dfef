// Which external programs are missing from PATH (and from the sbin directories root uses).
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';

const EXTRA = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

export async function which(cmd: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...EXTRA];
  for (const d of dirs) {
    const p = join(d, cmd);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

export async function missingTools(cmds: string[]): Promise<string[]> {
  const found = await Promise.all(cmds.map(which));
  return cmds.filter((_, i) => found[i] === undefined);
}
