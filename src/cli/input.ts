// Reading the files a user names on the command line (`-` is standard input). A file that cannot be read,
// or that is not text (a binary given by mistake), is one usage error (exit 2) that says why, instead of
// hundreds of problems about unreadable lines.
import { resolve } from 'node:path';
import { readInput } from '../ruleset/live.js';
import { UsageError, type Io } from './io.js';

const WHY: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ERR_FS_FILE_TOO_LARGE: 'larger than Node can read at once (2 GiB)',
};

/** The runs that have read standard input: a second `-` would read nothing and pass for an empty file. */
const stdinRead = new WeakSet<Io>();

/** Reads FILE (or stdin for `-`) as text; `what` names the option in messages, `hint` says what to give. */
export async function readTextArg(io: Io, file: string, opts: { what?: string; hint?: string } = {}): Promise<string> {
  const hint = opts.hint ?? 'give a readable file, or - for standard input';
  if (file === '-') {
    if (stdinRead.has(io)) throw new UsageError('standard input (-) given for more than one input', 'read one input from standard input and the others from files');
    stdinRead.add(io);
  }
  const label = opts.what ? `${opts.what} ` : '';
  const name = `${label}${file}`;
  let text: string;
  try {
    text = await readInput(file === '-' ? '-' : resolve(io.cwd, file), io.readStdin);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${name}: ${code ? code + (WHY[code] ? ` (${WHY[code]})` : '') : (e as Error).message}`, hint);
  }
  if (text.includes('\0')) throw new UsageError(`${file === '-' ? `${label}standard input` : name} is not a text file (it contains NUL bytes)`, hint);
  return text;
}
