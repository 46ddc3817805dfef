// Reading the daemon's config file for `run` and `rules`: problems become usage errors that list every
// issue with its line and column.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError, parseConfig, type Config } from '../../daemon/config.js';
import { UsageError, type Io } from '../io.js';

export async function loadConfigFile(io: Io, file: string): Promise<Config> {
  const path = resolve(io.cwd, file);
  let text: string;
  try {
    text = file === '-' && io.readStdin ? await io.readStdin() : await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'give the path of a YAML config, e.g. --config deploy/nfqguard.yaml');
  }
  try {
    return parseConfig(text, file);
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new UsageError(`${e.issues.length} problem(s) in ${file}:\n${e.message}`, 'fix each line above; `nfqguard run --check --config FILE` checks without touching the node');
    }
    throw e;
  }
}
