// Commands load on demand (src/cli/commands/index.ts): each name must load the module that registers
// that very command, and its --help must work when it is the only command loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { COMMANDS } from '../../../src/cli/commands/index.js';
import type { CommandContext } from '../../../src/cli/program.js';
import { cli } from '../../helpers/cli.js';

const ctx: CommandContext = {
  io: { stdout: () => {}, stderr: () => {}, cwd: process.cwd(), env: {}, signal: new AbortController().signal, readStdin: async () => '' },
  exit: () => {},
};

test('each command name loads the module that registers that command', async () => {
  const names = Object.keys(COMMANDS);
  assert.ok(names.length >= 7, names.join());
  for (const name of names) {
    const program = new Command('nfqguard');
    (await COMMANDS[name]())(program, ctx);
    assert.deepEqual(
      program.commands.map((c) => c.name()),
      [name],
    );
  }
});

test('root --help lists every command; each command --help works on its own', async () => {
  const root = await cli(['--help']);
  assert.equal(root.code, 0);
  for (const name of Object.keys(COMMANDS)) {
    assert.match(root.stdout, new RegExp(`^\\s+${name}\\b`, 'm'), name);
    const r = await cli([name, '--help']);
    assert.equal(r.code, 0, name);
    assert.match(r.stdout, new RegExp(`^Usage: nfqguard ${name}\\b`, 'm'), name);
  }
  const unknown = await cli(['doctr']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'doctr'/);
  assert.match(unknown.stderr, /did you mean doctor\?/);
});
