// Reading the daemon's config file for `run` and `rules`: problems become usage errors that list every
// issue with its line and column.
import { ConfigError, parseConfig, type Config } from '../../daemon/config.js';
import { readTextArg } from '../input.js';
import { UsageError, type Io } from '../io.js';

export async function loadConfigFile(io: Io, file: string): Promise<Config> {
  const text = await readTextArg(io, file, { what: 'config', hint: 'give the path of a YAML config, e.g. --config deploy/nfqguard.yaml' });
  try {
    return parseConfig(text, file);
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new UsageError(`${e.issues.length} problem(s) in ${file}:\n${e.message}`, 'fix each line above; `nfqguard run --check --config FILE` checks without touching the node');
    }
    throw e;
  }
}
