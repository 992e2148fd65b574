// Every clipanion command sbx registers, one file each. Add new commands here.
import type { CommandClass } from 'clipanion';
import { RunCommand } from './run.js';
import { DoctorCommand } from './doctor.js';
import { PolicyLsCommand } from './policy-ls.js';
import { PolicyShowCommand } from './policy-show.js';
import { PolicyCheckCommand } from './policy-check.js';
import { PolicyCompileCommand } from './policy-compile.js';
import { DiffCommand } from './diff.js';
import { CommitCommand } from './commit.js';
import { LsCommand } from './ls.js';
import { DiscardCommand } from './discard.js';

export const commands: CommandClass[] = [
  RunCommand,
  DoctorCommand,
  PolicyLsCommand,
  PolicyShowCommand,
  PolicyCheckCommand,
  PolicyCompileCommand,
  DiffCommand,
  CommitCommand,
  LsCommand,
  DiscardCommand,
];
