// Every command of the CLI, one module each. A module registers its command and returns it.
import type { Command } from 'commander';
import type { CommandContext } from '../program.js';
import { registerDoctor } from './doctor.js';
import { registerLab } from './lab.js';
import { registerQueue } from './queue.js';
import { registerParse } from './parse.js';
import { registerGen } from './gen.js';
import { registerRun } from './run.js';
import { registerRules } from './rules.js';
import { registerTrace } from './trace.js';

export type RegisterCommand = (program: Command, ctx: CommandContext) => Command;

export const COMMANDS: RegisterCommand[] = [registerLab, registerQueue, registerParse, registerGen, registerRun, registerRules, registerDoctor, registerTrace];
